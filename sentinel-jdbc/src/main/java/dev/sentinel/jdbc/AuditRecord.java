package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import java.util.Objects;

/**
 * One stored audit record: an event and its position in the store's hash chain.
 *
 * @param seq the record's sequence number in the chain (from 1, never reused)
 * @param event the event, as it was hashed
 */
public record AuditRecord(long seq, AuditEvent event) {

  /** Validates. */
  public AuditRecord {
    if (seq < 1) {
      throw new IllegalArgumentException("seq must be positive, got " + seq);
    }
    Objects.requireNonNull(event, "event");
  }

  /**
   * Whether this is an intent record ({@link Outcome#PENDING}): written before the request was
   * forwarded. In a query that shows final records, an intent appears only when no final record
   * with its id exists: the call never completed (its process died) or is still running.
   */
  public boolean pending() {
    return event.outcome() == Outcome.PENDING;
  }
}
