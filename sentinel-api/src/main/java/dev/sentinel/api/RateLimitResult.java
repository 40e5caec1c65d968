package dev.sentinel.api;

import java.time.Duration;
import java.util.Objects;

/**
 * The answer of a {@link RateLimiter}: allowed or not, the tokens left, and how long until the
 * request would fit (what an HTTP {@code Retry-After} needs).
 *
 * @param allowed whether the tokens were taken
 * @param remaining tokens left in the bucket after this answer
 * @param retryAfter zero when allowed; otherwise the wait until enough tokens refill
 */
public record RateLimitResult(boolean allowed, long remaining, Duration retryAfter) {

  /** Validates. */
  public RateLimitResult {
    Objects.requireNonNull(retryAfter, "retryAfter");
    if (remaining < 0) {
      throw new IllegalArgumentException("remaining must not be negative");
    }
  }

  /** Tokens were taken. */
  public static RateLimitResult allowed(long remaining) {
    return new RateLimitResult(true, remaining, Duration.ZERO);
  }

  /** No tokens were taken; retry after the given wait. */
  public static RateLimitResult refused(long remaining, Duration retryAfter) {
    return new RateLimitResult(false, remaining, retryAfter);
  }
}
