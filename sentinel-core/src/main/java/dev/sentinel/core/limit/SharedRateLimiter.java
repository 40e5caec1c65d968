package dev.sentinel.core.limit;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.distributed.BucketProxy;
import io.github.bucket4j.distributed.proxy.BucketNotFoundException;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.distributed.proxy.optimization.DelayParameters;
import io.github.bucket4j.distributed.proxy.optimization.NopeOptimizationListener;
import io.github.bucket4j.distributed.proxy.optimization.Optimization;
import io.github.bucket4j.distributed.proxy.optimization.batch.BatchingOptimization;
import io.github.bucket4j.distributed.proxy.optimization.delay.DelayOptimization;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RateLimiter} whose buckets live in a store that several gateways share, through any
 * Bucket4j {@link ProxyManager} (sentinel-jdbc's PostgreSQL one, sentinel-redis's Lettuce one),
 * kept in step with the store as {@link SharedLimits#sync()} says (see {@link LimitSync} for each
 * mode and the over-admission it allows).
 *
 * <p>Each key's bucket proxy is kept and reused: the optimizations keep their state in it (the
 * calls waiting to be merged, the tokens not yet written). When more than {@code maxBuckets}
 * proxies are held, they are all written back to the store and dropped (a call racing with that
 * may lose its unwritten tokens: at most {@code N} per key, once). {@link #flush()} and {@link
 * #close()} write every proxy back; a gateway closes its limiter before it stops.
 *
 * <p>A store that fails is not asked again for {@value #RETRY_AFTER_FAILURE_MILLIS} ms (by the
 * clock's monotonic time): meanwhile, and for the failed call, a check throws {@link
 * SharedLimitUnavailableException} (which {@link Limits} counts as a refusal: fail closed), or,
 * with {@link SharedLimits.OnUnavailable#LOCAL}, takes from a bucket of this process alone. After
 * that the store is tried again, so limits recover on their own once it is back.
 *
 * <p>A limit may be kept in step in another mode than the default ({@link #withSync}, a limit's
 * own {@code sync:}): each mode has its own bucket proxies, and all share the store and its
 * failure state.
 *
 * <p>Time in the buckets is the clock's wall-clock time ({@link #wallClock}), the same on every
 * gateway: give the proxy manager the same meter.
 *
 * <p>Thread-safe.
 */
public final class SharedRateLimiter implements SharedStoreLimiter, AutoCloseable {
  /** The default number of bucket proxies kept before they are written back and dropped. */
  public static final int DEFAULT_MAX_BUCKETS = 10_000;

  /** How long a failed store is left alone before it is tried again. */
  public static final long RETRY_AFTER_FAILURE_MILLIS = 1000;

  private static final Duration RETRY_AFTER_FAILURE = Duration.ofMillis(RETRY_AFTER_FAILURE_MILLIS);

  private final ProxyManager<String> store;
  private final String storeName;
  private final SharedLimits settings;
  private final Clock clock;
  private final TimeMeter time;
  private final int maxBuckets;
  private final @Nullable RateLimiter fallback; // null unless on_unavailable: local
  private final Synced defaults;
  private final ConcurrentHashMap<LimitSync, Synced> others = new ConcurrentHashMap<>();
  private final Object failureLock = new Object();
  private volatile boolean failing;
  private long retryAt; // clock.nanoTime() at which to try the store again; guarded by failureLock

  private SharedRateLimiter(ProxyManager<String> store, String storeName, SharedLimits settings,
      Clock clock, int maxBuckets) {
    this.store = store;
    this.storeName = storeName;
    this.settings = settings;
    this.clock = clock;
    this.maxBuckets = maxBuckets;
    this.time = wallClock(clock);
    this.defaults = new Synced(settings.sync());
    this.fallback = settings.onUnavailable() == SharedLimits.OnUnavailable.LOCAL
        ? LocalRateLimiter.create(clock) : null;
  }

  /**
   * A limiter on the given store.
   *
   * @param store the buckets, whose client clock must be {@link #wallClock wallClock(clock)}
   * @param storeName the store as named in messages, without credentials
   * @param settings how to keep in step with the store and what to do while it is away
   * @param clock the time of the buckets and of the retry after a failure
   */
  public static SharedRateLimiter create(ProxyManager<String> store, String storeName,
      SharedLimits settings, Clock clock) {
    return create(store, storeName, settings, clock, DEFAULT_MAX_BUCKETS);
  }

  /**
   * A limiter keeping at most {@code maxBuckets} bucket proxies.
   *
   * @throws IllegalArgumentException if {@code maxBuckets} is not positive
   */
  public static SharedRateLimiter create(ProxyManager<String> store, String storeName,
      SharedLimits settings, Clock clock, int maxBuckets) {
    if (maxBuckets <= 0) {
      throw new IllegalArgumentException("maxBuckets must be positive, got " + maxBuckets);
    }
    return new SharedRateLimiter(Objects.requireNonNull(store, "store"),
        Objects.requireNonNull(storeName, "storeName"), Objects.requireNonNull(settings, "settings"),
        Objects.requireNonNull(clock, "clock"), maxBuckets);
  }

  /**
   * Bucket4j time as nanoseconds since the epoch by the clock's wall-clock time: comparable
   * across the processes that share the buckets.
   */
  public static TimeMeter wallClock(Clock clock) {
    return new WallClockMeter(Objects.requireNonNull(clock, "clock"));
  }

  /** The settings this limiter was made with. */
  public SharedLimits settings() {
    return settings;
  }

  /**
   * This limiter's buckets kept in step with the store as {@code sync} says, for the limits that
   * name their own mode; this limiter itself for its default mode. The same mode gives the same
   * limiter (and bucket proxies) every time, so a reloaded policy keeps what was not written yet.
   */
  @Override
  public RateLimiter withSync(LimitSync sync) {
    Objects.requireNonNull(sync, "sync");
    if (sync.equals(settings.sync())) {
      return this;
    }
    return others.computeIfAbsent(sync, Synced::new);
  }

  @Override
  public RateLimitResult tryAcquire(String key, Rate rate, long cost) {
    return tryAcquire(defaults, key, rate, cost);
  }

  private RateLimitResult tryAcquire(Synced mode, String key, Rate rate, long cost) {
    if (cost <= 0) {
      throw new IllegalArgumentException("rate limit cost must be positive, got " + cost);
    }
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(rate, "rate");
    if (failing && !retryNow()) {
      return unavailable(key, rate, cost, null);
    }
    ConsumptionProbe probe;
    try {
      probe = consume(mode, key, rate, cost);
    } catch (RuntimeException e) {
      failed();
      return unavailable(key, rate, cost, e);
    }
    if (failing) {
      recovered();
    }
    if (probe.isConsumed()) {
      return RateLimitResult.allowed(probe.getRemainingTokens());
    }
    return RateLimitResult.refused(
        Math.max(0, probe.getRemainingTokens()), Duration.ofNanos(probe.getNanosToWaitForRefill()));
  }

  private ConsumptionProbe consume(Synced mode, String key, Rate rate, long cost) {
    BucketProxy proxy = mode.proxy(key, rate);
    try {
      return proxy.tryConsumeAndReturnRemaining(cost);
    } catch (RuntimeException e) {
      if (!bucketMissing(e)) {
        throw e;
      }
      // Calls merged into one batch do not create a missing bucket (a new key, or one the store
      // swept): create it with a plain proxy, then try again.
      store.builder().build(key, () -> configuration(rate)).getAvailableTokens();
      return proxy.tryConsumeAndReturnRemaining(cost);
    }
  }

  private static boolean bucketMissing(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BucketNotFoundException) {
        return true;
      }
    }
    return false;
  }

  /** Gives the tokens back ({@code addTokens}, written to the store at once), up to capacity. */
  @Override
  public void refund(String key, Rate rate, long cost) {
    refund(defaults, key, rate, cost);
  }

  private void refund(Synced mode, String key, Rate rate, long cost) {
    if (cost <= 0) {
      return;
    }
    if (failing) {
      if (fallback != null) {
        fallback.refund(key, rate, cost);
      }
      return;
    }
    try {
      BucketProxy proxy = mode.proxy(key, rate);
      try {
        proxy.addTokens(cost);
      } catch (RuntimeException e) {
        if (!bucketMissing(e)) {
          throw e;
        }
        // A bucket that is missing is full: nothing to give back.
      }
    } catch (RuntimeException e) {
      failed();
      throw new SharedLimitUnavailableException(
          "Cannot refund the shared rate limit in " + storeName + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes what this gateway took but has not written yet ({@code batched}, {@code delayed}) to
   * the store, in every mode ({@link #withSync}); exact buckets have nothing to write.
   *
   * @return how many buckets could not be written (the store is away)
   */
  public int flush() {
    int failed = defaults.flush();
    for (Synced mode : others.values()) {
      failed += mode.flush();
    }
    return failed;
  }

  /** Writes every bucket back ({@link #flush()}); the limiter may still be used afterwards. */
  @Override
  public void close() {
    flush();
  }

  private boolean sync(BucketProxy proxy) {
    try {
      proxy.getOptimizationController().syncImmediately();
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private boolean retryNow() {
    synchronized (failureLock) {
      if (clock.nanoTime() - retryAt < 0) {
        return false;
      }
      // One caller at a time tries the store; the others keep failing fast until it answers.
      retryAt = clock.nanoTime() + RETRY_AFTER_FAILURE.toNanos();
      return true;
    }
  }

  private void failed() {
    synchronized (failureLock) {
      retryAt = clock.nanoTime() + RETRY_AFTER_FAILURE.toNanos();
      failing = true;
    }
  }

  private void recovered() {
    synchronized (failureLock) {
      failing = false;
    }
  }

  private RateLimitResult unavailable(String key, Rate rate, long cost, @Nullable RuntimeException cause) {
    if (fallback != null) {
      return fallback.tryAcquire(key, rate, cost);
    }
    if (cause == null) {
      throw new SharedLimitUnavailableException(
          "Shared rate limits in " + storeName + " are unavailable; retrying shortly");
    }
    throw new SharedLimitUnavailableException(
        "Cannot take from the shared rate limit in " + storeName + ": " + cause.getMessage(), cause);
  }

  private static BucketConfiguration configuration(Rate rate) {
    return BucketConfiguration.builder()
        .addLimit(limit -> limit.capacity(rate.burst()).refillGreedy(rate.permits(), rate.period()))
        .build();
  }

  /**
   * The bucket proxies of one sync mode: the optimizations keep their state in them (the calls
   * waiting to be merged, the tokens not yet written). Thread-safe.
   */
  private final class Synced implements RateLimiter {
    final LimitSync sync;
    final Optimization optimization;
    final ConcurrentHashMap<String, BucketProxy> proxies = new ConcurrentHashMap<>();

    Synced(LimitSync sync) {
      this.sync = sync;
      this.optimization = optimization(sync, time);
    }

    @Override
    public RateLimitResult tryAcquire(String key, Rate rate, long cost) {
      return SharedRateLimiter.this.tryAcquire(this, key, rate, cost);
    }

    @Override
    public void refund(String key, Rate rate, long cost) {
      SharedRateLimiter.this.refund(this, key, rate, cost);
    }

    BucketProxy proxy(String key, Rate rate) {
      BucketProxy proxy = proxies.get(key);
      if (proxy != null) {
        return proxy;
      }
      if (proxies.size() >= maxBuckets) {
        dropAll();
      }
      return proxies.computeIfAbsent(key, k -> store.builder()
          .withOptimization(optimization)
          .build(k, () -> configuration(rate)));
    }

    /** Writes back and drops every proxy: a new one is made at the next call for its key. */
    synchronized void dropAll() {
      if (proxies.size() < maxBuckets) {
        return;
      }
      boolean write = sync.mode() != LimitSync.Mode.EXACT;
      for (String key : proxies.keySet()) {
        BucketProxy proxy = proxies.remove(key);
        if (proxy != null && write) {
          SharedRateLimiter.this.sync(proxy);
        }
      }
    }

    int flush() {
      if (sync.mode() == LimitSync.Mode.EXACT) {
        return 0;
      }
      int failed = 0;
      for (BucketProxy proxy : proxies.values()) {
        if (!SharedRateLimiter.this.sync(proxy)) {
          failed++;
        }
      }
      return failed;
    }

    @Override
    public String toString() {
      return SharedRateLimiter.this + " as " + sync;
    }
  }

  private static Optimization optimization(LimitSync sync, TimeMeter time) {
    switch (sync.mode()) {
      case EXACT:
        return new BatchingOptimization(NopeOptimizationListener.INSTANCE);
      case BATCHED:
        return new DelayOptimization(
            new DelayParameters(sync.tokens(), Duration.ofMillis(LimitSync.BATCHED_MAX_STALENESS_MILLIS)),
            NopeOptimizationListener.INSTANCE, time);
      default:
        // No bound in tokens: a sync at least every interval. (Bucket4j's predicting() was not
        // used: its estimate of the other gateways' use multiplies their rate by the time of the
        // last sync since the epoch, which with a wall clock predicts an enormous consumption.)
        return new DelayOptimization(new DelayParameters(Long.MAX_VALUE / 2, sync.interval()),
            NopeOptimizationListener.INSTANCE, time);
    }
  }

  @Override
  public String toString() {
    return "SharedRateLimiter[" + storeName + ", sync=" + settings.sync()
        + ", on_unavailable=" + settings.onUnavailable().name().toLowerCase(java.util.Locale.ROOT)
        + "]";
  }

  /** Nanoseconds since the epoch by the clock's wall-clock time. */
  private static final class WallClockMeter implements TimeMeter {
    private final Clock clock;

    WallClockMeter(Clock clock) {
      this.clock = clock;
    }

    @Override
    public long currentTimeNanos() {
      Instant now = clock.instant();
      return Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
    }

    @Override
    public boolean isWallClockBased() {
      return true;
    }
  }
}
