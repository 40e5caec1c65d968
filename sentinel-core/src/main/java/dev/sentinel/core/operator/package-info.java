/**
 * What the operator service (the {@code sentinel-operator} module, {@code dev.sentinel.operator})
 * needs from a gateway and its stores, and what the gateway exposes to it: the audit trail's query
 * SPI ({@link dev.sentinel.core.operator.AuditTrail}, {@link dev.sentinel.core.operator.AuditFilter}),
 * the running kill switch ({@link dev.sentinel.core.operator.KillSwitchControl}), config reload
 * ({@link dev.sentinel.core.operator.Reloading}), the one parser for the times and durations
 * operators type ({@link dev.sentinel.core.operator.Times}), and the refusal every adapter turns
 * into an exit code or an HTTP status ({@link dev.sentinel.core.operator.OperatorException}).
 * The services themselves live outside the core: an embedder of the pipeline does not carry them.
 */
@NullMarked
package dev.sentinel.core.operator;

import org.jspecify.annotations.NullMarked;
