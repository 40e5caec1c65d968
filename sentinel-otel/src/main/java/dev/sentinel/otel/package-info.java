/**
 * OpenTelemetry traces of governed calls: {@link dev.sentinel.otel.OtelTracer}, a {@link
 * dev.sentinel.core.CallTracer} making each call a span with a child span per stage, and {@link
 * dev.sentinel.otel.OtlpTracing}, which exports them by OTLP over HTTP as a config's {@code
 * telemetry:} section says. The only Sentinel module that depends on OpenTelemetry.
 */
@NullMarked
package dev.sentinel.otel;

import org.jspecify.annotations.NullMarked;
