package dev.sentinel.api;

/**
 * How a governed request ended; every audit event has exactly one.
 *
 * <p>Every request that reaches the pipeline produces exactly one final event, whose outcome is
 * any of these but {@link #PENDING}. In durable audit mode a request that is about to be forwarded
 * also produces an intent event ({@link #PENDING}, same id) that is committed before the backend
 * sees the request; the final event supersedes it.
 */
public enum Outcome {
  /** Forwarded and completed normally. */
  ALLOWED(false),
  /** Forwarded, and the invocation or backend failed. */
  FAILED(false),
  /** Forwarded, and no answer came in time. */
  TIMED_OUT(false),
  /** Forwarded, and the caller cancelled it. */
  CANCELLED(false),
  /** Refused: the credentials were missing or invalid. */
  UNAUTHENTICATED(true),
  /** Refused: the kill switch disables the target, backend, principal or everything. */
  DISABLED(true),
  /** Refused by the policy. */
  DENIED(true),
  /** Refused by a rate limit. */
  LIMITED(true),
  /** Refused: confirmation was required and not given. */
  UNCONFIRMED(true),
  /** Refused: the audit trail cannot be written and the gateway is configured to block. */
  UNAVAILABLE(true),
  /**
   * Not an ending: the intent record of a request, written in durable audit mode before the
   * request is forwarded, and superseded by the final record with the same id. An intent with no
   * final record means the call never completed (its process died) or is still running.
   */
  PENDING(false);

  private final boolean refusal;

  Outcome(boolean refusal) {
    this.refusal = refusal;
  }

  /** Whether the request was refused before it reached the backend. */
  public boolean refusal() {
    return refusal;
  }
}
