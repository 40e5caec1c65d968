package dev.sentinel.core;

import dev.sentinel.api.Outcome;
import dev.sentinel.api.SentinelException;
import org.jspecify.annotations.Nullable;

/** Thrown by {@link CallResult#valueOrThrow()} when the invoker failed, timed out or was cancelled. */
public final class InvocationFailedException extends SentinelException {
  private static final long serialVersionUID = 1L;

  private final Outcome outcome;

  /** Wraps what the invoker threw. */
  public InvocationFailedException(Outcome outcome, @Nullable Throwable cause) {
    super("invocation " + outcome.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '), cause);
    this.outcome = outcome;
  }

  /** {@link Outcome#FAILED}, {@link Outcome#TIMED_OUT} or {@link Outcome#CANCELLED}. */
  public Outcome outcome() {
    return outcome;
  }
}
