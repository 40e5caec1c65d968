/**
 * The audit side of Sentinel: making arguments and messages safe for the trail ({@link
 * dev.sentinel.core.audit.Redactor}), stable bytes ({@link
 * dev.sentinel.core.audit.CanonicalJson}) and the keyed digests made of them ({@link
 * dev.sentinel.core.audit.DigestKey}), the one JSON form of an event ({@link
 * dev.sentinel.core.audit.AuditEventJson}), time-ordered ids ({@link
 * dev.sentinel.core.audit.AuditIds}), the batching dispatcher that takes events off the request
 * path ({@link dev.sentinel.core.audit.AuditDispatcher}), and stock sinks (JSON Lines file, SLF4J
 * log).
 *
 * <p>Every public type here says in its Javadoc whether it is thread-safe.
 */
@NullMarked
package dev.sentinel.core.audit;

import org.jspecify.annotations.NullMarked;
