package dev.sentinel.core;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Refusal;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How a governed call ended, as a value: a result, a refusal, or the invoker's failure.
 *
 * @param <T> the invoker's result type
 * @param outcome how it ended; the same as in the audit trail
 * @param value the invoker's result when {@code outcome} is {@link Outcome#ALLOWED}, else {@code
 *     null}
 * @param refusal why it was refused when {@link Outcome#refusal()}, else {@code null}
 * @param failure what the invoker threw for failed, timed-out or cancelled calls, else {@code null}
 * @param decision the policy's decision, or {@code null} when the call was refused before the
 *     policy
 * @param eventId the id of the call's audit event
 */
public record CallResult<T>(
    Outcome outcome, @Nullable T value, @Nullable Refusal refusal, @Nullable Throwable failure,
    @Nullable Decision decision, String eventId) {

  /** Validates that the parts agree with the outcome. */
  public CallResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(eventId, "eventId");
    if (outcome.refusal() != (refusal != null)) {
      throw new IllegalArgumentException("a refusal is required exactly for refused outcomes");
    }
  }

  /** Whether the invoker ran and returned normally. */
  public boolean ok() {
    return outcome == Outcome.ALLOWED;
  }

  /**
   * The value, or an exception: {@link RefusedException} for a refusal, or the invoker's failure
   * wrapped in {@link InvocationFailedException}.
   */
  public @Nullable T valueOrThrow() {
    if (ok()) {
      return value;
    }
    if (refusal != null) {
      throw new RefusedException(refusal);
    }
    throw new InvocationFailedException(outcome, failure);
  }
}
