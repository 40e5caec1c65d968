package dev.sentinel.core;

import dev.sentinel.api.Refusal;
import dev.sentinel.api.SentinelException;

/**
 * Thrown by {@link CallResult#valueOrThrow()} for a refused call. Carries no stack trace: the
 * refusal says everything.
 */
public final class RefusedException extends SentinelException {
  private static final long serialVersionUID = 1L;

  private final transient Refusal refusal;

  /** Wraps a refusal. */
  public RefusedException(Refusal refusal) {
    super(refusal.message(), null, false);
    this.refusal = refusal;
  }

  /** The refusal. */
  public Refusal refusal() {
    return refusal;
  }
}
