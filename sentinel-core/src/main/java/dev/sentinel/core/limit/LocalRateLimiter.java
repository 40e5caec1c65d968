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
 * instead of sleeping. When more than {@code maxBuckets} buckets exist, creating another first
 * sweeps out the idle ones: a bucket that is full again holds no state worth keeping. (A call
 * racing with the sweep of its full bucket may take from the removed bucket, so at most one
 * extra call per swept key can be admitted at that instant.)
 *
 * <p>Thread-safe: buckets sit in a {@link ConcurrentHashMap} and each bucket updates its state
 * under its own monitor, so no bucket ever admits more tokens than it holds. (Bucket4j's
 * lock-free strategy allocates a new state per compare-and-set attempt; on two cores contending
 * for one bucket the monitor measured about a third faster, see BENCHMARKS.md.)
 */
public final class LocalRateLimiter implements RateLimiter {
  /** The default number of buckets above which idle ones are swept. */
  public static final int DEFAULT_MAX_BUCKETS = 100_000;

  private final ConcurrentHashMap<String, Entry> buckets = new ConcurrentHashMap<>();
  private final TimeMeter timeMeter;
  private final int maxBuckets;
  private volatile int sweepAt;

  private record Entry(Bucket bucket, long capacity) {}

  private LocalRateLimiter(Clock clock, int maxBuckets) {
    this.timeMeter = new ClockTimeMeter(clock);
    this.maxBuckets = maxBuckets;
    this.sweepAt = maxBuckets;
  }

  /**
   * A limiter whose buckets refill by the given clock's monotonic time.
   *
   * @param clock the time source; {@link Clock#system()} in production
   */
  public static LocalRateLimiter create(Clock clock) {
    return create(clock, DEFAULT_MAX_BUCKETS);
  }

  /**
   * A limiter that sweeps idle buckets once it holds more than {@code maxBuckets}.
   *
   * @throws IllegalArgumentException if {@code maxBuckets} is not positive
   */
  public static LocalRateLimiter create(Clock clock, int maxBuckets) {
    if (maxBuckets <= 0) {
      throw new IllegalArgumentException("maxBuckets must be positive, got " + maxBuckets);
    }
    return new LocalRateLimiter(Objects.requireNonNull(clock, "clock"), maxBuckets);
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
    Entry entry = buckets.get(key);
    if (entry != null) {
      entry.bucket().addTokens(cost);
    }
  }

  /** The number of buckets held. */
  public int size() {
    return buckets.size();
  }

  private Bucket bucket(String key, Rate rate) {
    // get() first: computeIfAbsent may lock the bin even when the bucket exists.
    Entry entry = buckets.get(key);
    if (entry != null) {
      return entry.bucket();
    }
    Objects.requireNonNull(rate, "rate");
    if (buckets.size() >= sweepAt) {
      sweepIdle();
    }
    return buckets.computeIfAbsent(key, k -> new Entry(newBucket(rate), rate.burst())).bucket();
  }

  /** Removes full buckets; the next sweep waits until the map has doubled again. */
  private synchronized void sweepIdle() {
    if (buckets.size() < sweepAt) {
      return;
    }
    buckets.entrySet().removeIf(e -> e.getValue().bucket().getAvailableTokens() >= e.getValue().capacity());
    sweepAt = Math.max(maxBuckets, buckets.size() * 2);
  }

  private LocalBucket newBucket(Rate rate) {
    Bandwidth bandwidth =
        Bandwidth.builder().capacity(rate.burst()).refillGreedy(rate.permits(), rate.period()).build();
    return Bucket.builder()
        .addLimit(bandwidth)
        .withCustomTimePrecision(timeMeter)
        .withSynchronizationStrategy(SynchronizationStrategy.SYNCHRONIZED)
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
