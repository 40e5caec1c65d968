package dev.sentinel.api;

/** How a governed request ended; every audit event has exactly one. */
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
  UNAVAILABLE(true);

  private final boolean refusal;

  Outcome(boolean refusal) {
    this.refusal = refusal;
  }

  /** Whether the request was refused before it reached the backend. */
  public boolean refusal() {
    return refusal;
  }
}
