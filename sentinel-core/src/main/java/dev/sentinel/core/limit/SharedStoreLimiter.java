package dev.sentinel.core.limit;

import dev.sentinel.api.RateLimiter;

/**
 * A {@link RateLimiter} whose buckets live in a store that several gateways share (PostgreSQL,
 * Redis), which can keep some limits in step with that store in another {@link LimitSync} mode
 * than its default: a limit's own {@code sync:} in the policy. {@link Limits} asks it for each
 * limit that names a mode; a limiter without a shared store does not implement it, and such a
 * limit then simply uses that limiter.
 *
 * <p>Implementations are thread-safe.
 */
public interface SharedStoreLimiter extends RateLimiter {

  /**
   * The same store's buckets kept in step as {@code sync} says; this limiter when {@code sync} is
   * its default. Asking twice for one mode gives the same limiter.
   */
  RateLimiter withSync(LimitSync sync);
}
