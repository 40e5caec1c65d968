package dev.sentinel.core.limit;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.local.LocalBucket;
import io.github.bucket4j.local.SynchronizationStrategy;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link RateLimiter} holding Bucket4j lock-free buckets in this process, one per key, created
 * on first use with greedy refill: {@link Rate#permits()} per {@link Rate#period()}, capacity
 * {@link Rate#burst()}, starting full.
 *
 * <p>Time is read from the injected {@link Clock#nanoTime()}, so tests advance a manual clock
 * instead of sleeping. Buckets are kept for the life of the limiter (see {@link #size()}).
 *
 * <p>Thread-safe: buckets sit in a {@link ConcurrentHashMap} and each bucket updates its state
 * with compare-and-set, so no bucket ever admits more tokens than it holds.
 */
public final class LocalRateLimiter implements RateLimiter {
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final TimeMeter timeMeter;

  private LocalRateLimiter(Clock clock) {
    this.timeMeter = new ClockTimeMeter(clock);
  }

  /**
   * A limiter whose buckets refill by the given clock's monotonic time.
   *
   * @param clock the time source; {@link Clock#system()} in production
   */
  public static LocalRateLimiter create(Clock clock) {
    return new LocalRateLimiter(Objects.requireNonNull(clock, "clock"));
  }

  /**
   * Takes {@code cost} tokens from the bucket named {@code key}, creating it full on first use.
   *
   * @throws IllegalArgumentException if {@code cost} is not positive
   */
  @Override
  public RateLimitResult tryAcquire(String key, Rate rate, long cost) {
    if (cost <= 0) {
      throw new IllegalArgumentException("rate limit cost must be positive, got " + cost);
    }
    ConsumptionProbe probe = bucket(key, rate).tryConsumeAndReturnRemaining(cost);
    if (probe.isConsumed()) {
      return RateLimitResult.allowed(probe.getRemainingTokens());
    }
    return RateLimitResult.refused(
        Math.max(0, probe.getRemainingTokens()), Duration.ofNanos(probe.getNanosToWaitForRefill()));
  }

  /**
   * Gives {@code cost} tokens back to the bucket named {@code key}, never beyond its capacity.
   * Does nothing if the bucket does not exist or {@code cost} is not positive.
   */
  @Override
  public void refund(String key, Rate rate, long cost) {
    if (cost <= 0) {
      return;
    }
    Bucket bucket = buckets.get(key);
    if (bucket != null) {
      bucket.addTokens(cost);
    }
  }

  /** The number of buckets held. */
  public int size() {
    return buckets.size();
  }

  private Bucket bucket(String key, Rate rate) {
    // get() first: computeIfAbsent may lock the bin even when the bucket exists.
    Bucket bucket = buckets.get(key);
    if (bucket != null) {
      return bucket;
    }
    Objects.requireNonNull(rate, "rate");
    return buckets.computeIfAbsent(key, k -> newBucket(rate));
  }

  private LocalBucket newBucket(Rate rate) {
    Bandwidth bandwidth =
        Bandwidth.builder().capacity(rate.burst()).refillGreedy(rate.permits(), rate.period()).build();
    return Bucket.builder()
        .addLimit(bandwidth)
        .withCustomTimePrecision(timeMeter)
        .withSynchronizationStrategy(SynchronizationStrategy.LOCK_FREE)
        .build();
  }

  /** Bucket4j time read from a Sentinel clock's monotonic nanoseconds. */
  private static final class ClockTimeMeter implements TimeMeter {
    private final Clock clock;

    ClockTimeMeter(Clock clock) {
      this.clock = clock;
    }

    @Override
    public long currentTimeNanos() {
      return clock.nanoTime();
    }

    @Override
    public boolean isWallClockBased() {
      return false;
    }
  }
}
