package dev.sentinel.core.limit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link RateLimiter} must have. Each implementation's test extends this and
 * supplies a limiter on a manual clock.
 */
public abstract class RateLimiterContract {

  /** A fresh limiter whose buckets refill by the given clock. */
  protected abstract RateLimiter limiter(ManualClock clock);

  @Test
  void tryAcquire_fullBucketAdmitsBurstThenRefuses() {
    RateLimiter limiter = limiter(new ManualClock());
    Rate rate = Rate.of(3, Duration.ofMinutes(1)).withBurst(5);
    for (int i = 4; i >= 0; i--) {
      assertThat(limiter.tryAcquire("k", rate, 1)).isEqualTo(RateLimitResult.allowed(i));
    }
    RateLimitResult refused = limiter.tryAcquire("k", rate, 1);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.remaining()).isZero();
  }

  @Test
  void tryAcquire_whenEmpty_retryAfterIsTimeToRefillTheCost() {
    RateLimiter limiter = limiter(new ManualClock());
    Rate rate = Rate.parse("60/min");
    assertThat(limiter.tryAcquire("k", rate, 60).allowed()).isTrue();
    assertThat(limiter.tryAcquire("k", rate, 1).retryAfter()).isEqualTo(Duration.ofSeconds(1));
    assertThat(limiter.tryAcquire("k", rate, 3).retryAfter()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void tryAcquire_afterTimeAdvances_refillsGreedily() {
    ManualClock clock = new ManualClock();
    RateLimiter limiter = limiter(clock);
    Rate rate = Rate.parse("10/10s");
    assertThat(limiter.tryAcquire("k", rate, 10).allowed()).isTrue();
    assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isFalse();
    clock.advance(Duration.ofMillis(999));
    assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isTrue();
    assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isFalse();
    clock.advance(Duration.ofHours(1));
    assertThat(limiter.tryAcquire("k", rate, 1)).isEqualTo(RateLimitResult.allowed(9));
  }

  @Test
  void tryAcquire_costAboveBurst_isRefused() {
    RateLimiter limiter = limiter(new ManualClock());
    RateLimitResult result = limiter.tryAcquire("k", Rate.parse("5/s"), 6);
    assertThat(result.allowed()).isFalse();
    assertThat(result.retryAfter()).isPositive();
  }

  @Test
  void tryAcquire_keysHaveSeparateBuckets() {
    RateLimiter limiter = limiter(new ManualClock());
    Rate rate = Rate.parse("1/min");
    assertThat(limiter.tryAcquire("a", rate, 1).allowed()).isTrue();
    assertThat(limiter.tryAcquire("a", rate, 1).allowed()).isFalse();
    assertThat(limiter.tryAcquire("b", rate, 1).allowed()).isTrue();
  }

  @Test
  void refund_givesTokensBack_cappedAtCapacity() {
    RateLimiter limiter = limiter(new ManualClock());
    Rate rate = Rate.parse("5/min");
    assertThat(limiter.tryAcquire("k", rate, 3)).isEqualTo(RateLimitResult.allowed(2));
    limiter.refund("k", rate, 2);
    assertThat(limiter.tryAcquire("k", rate, 1)).isEqualTo(RateLimitResult.allowed(3));
    limiter.refund("k", rate, 100);
    assertThat(limiter.tryAcquire("k", rate, 1)).isEqualTo(RateLimitResult.allowed(4));
  }

  @Test
  void tryAcquire_manyThreads_admitExactlyTheBucket() throws Exception {
    RateLimiter limiter = limiter(new ManualClock());
    Rate rate = Rate.of(500, Duration.ofHours(1));
    int threads = 8;
    int attempts = 2_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        tasks.add(() -> {
          int admitted = 0;
          for (int i = 0; i < attempts; i++) {
            if (limiter.tryAcquire("shared", rate, 1).allowed()) {
              admitted++;
            }
          }
          return admitted;
        });
      }
      int total = 0;
      for (Future<Integer> future : pool.invokeAll(tasks)) {
        total += future.get();
      }
      assertThat(total).isEqualTo(500);
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(1, TimeUnit.MINUTES);
    }
  }
}
