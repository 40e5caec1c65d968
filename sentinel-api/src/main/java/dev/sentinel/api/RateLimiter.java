package dev.sentinel.api;

/**
 * Token buckets by key. The caller names the bucket and its rate; the limiter creates the bucket
 * on first use and keeps it (locally, or shared through a database).
 *
 * <p>Implementations must be thread-safe and must never admit more than a bucket holds, whatever
 * the concurrency. A limiter that throws is treated as a refusal.
 */
public interface RateLimiter {

  /**
   * Takes {@code cost} tokens from the bucket named {@code key} if it holds them.
   *
   * @param key the bucket's identity; the same key must always come with the same rate
   * @param rate the bucket's rate, used when the bucket is created
   * @param cost tokens to take; positive
   */
  RateLimitResult tryAcquire(String key, Rate rate, long cost);

  /**
   * Gives back tokens taken by an earlier {@link #tryAcquire}, used when another limit on the
   * same request refused it. The default does nothing (the tokens stay spent).
   */
  default void refund(String key, Rate rate, long cost) {}
}
