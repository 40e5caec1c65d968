package dev.sentinel.core;

import dev.sentinel.api.Refusal;
import dev.sentinel.api.SentinelException;

/**
 * Thrown by {@link CallResult#valueOrThrow()} for a refused call. Carries no stack trace: the
 * refusal says everything.
 *
 * <p>An {@link Invoker} may throw it too, to refuse the call before acting on it for a reason
 * only it can judge (a token budget the request's {@code max_tokens} does not fit): the call is
 * then recorded and returned as refused with this refusal, not as failed.
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
