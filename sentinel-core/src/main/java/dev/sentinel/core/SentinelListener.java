package dev.sentinel.core;

import dev.sentinel.api.AuditEvent;

/**
 * Observes every governed call once it has ended, for metrics and alerts. Listeners are
 * observers: whatever one throws is caught, logged and counted, and never changes the call.
 *
 * <p>Implementations must be thread-safe and fast: they run on the caller's thread.
 */
@FunctionalInterface
public interface SentinelListener {

  /** One call ended; the event is what the audit trail records. */
  void completed(AuditEvent event);
}
