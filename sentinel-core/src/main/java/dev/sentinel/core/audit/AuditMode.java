package dev.sentinel.core.audit;

/** When the pipeline's audit record of a forwarded request is written. */
public enum AuditMode {
  /**
   * The request's one record is queued when its outcome is known and written off the request path
   * by the dispatcher (batched); a crash may lose what was still queued.
   */
  ASYNC,
  /**
   * Before forwarding, the pipeline records an intent ({@link dev.sentinel.api.Outcome#PENDING},
   * same id as the final record) and waits until its batch is committed ({@link
   * AuditDispatcher#recordDurably}); if it cannot be, the call is refused as {@link
   * dev.sentinel.api.Outcome#UNAVAILABLE} and never forwarded. The final record follows as in
   * {@link #ASYNC}. Concurrent callers share commits (group commit).
   */
  DURABLE
}
