package dev.sentinel.core.limit;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The answer of {@link Limits#acquire}: whether every applicable limit admitted the request, and
 * what a refusal needs (which limits refused, how long to wait).
 *
 * @param allowed whether every applicable limit admitted the request
 * @param limits the ids of the limits that refused; empty when allowed
 * @param remaining the fewest tokens left over the applied limits, or {@code -1} when no limit
 *     applied
 * @param retryAfter the longest wait of the refusing limits; zero when allowed
 */
public record LimitDecision(boolean allowed, List<String> limits, long remaining, Duration retryAfter) {

  private static final LimitDecision UNLIMITED = new LimitDecision(true, List.of(), -1, Duration.ZERO);

  /** Validates and copies. */
  public LimitDecision {
    limits = List.copyOf(limits);
    Objects.requireNonNull(retryAfter, "retryAfter");
    if (remaining < -1) {
      throw new IllegalArgumentException("remaining must be -1 or more, got " + remaining);
    }
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative, got " + retryAfter);
    }
    if (allowed && (!limits.isEmpty() || !retryAfter.isZero())) {
      throw new IllegalArgumentException("an allowed decision has no refusing limits and no wait");
    }
    if (!allowed && limits.isEmpty()) {
      throw new IllegalArgumentException("a refusal must name the limits that refused");
    }
  }

  /** The shared decision for requests to which no limit applied: allowed, remaining {@code -1}. */
  public static LimitDecision unlimited() {
    return UNLIMITED;
  }

  static LimitDecision allowed(long remaining) {
    return new LimitDecision(true, List.of(), remaining, Duration.ZERO);
  }

  static LimitDecision refused(String limit, long remaining, Duration retryAfter) {
    return new LimitDecision(false, List.of(limit), remaining, retryAfter);
  }
}
