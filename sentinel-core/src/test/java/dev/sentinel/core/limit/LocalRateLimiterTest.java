package dev.sentinel.core.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.testing.Gen;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LocalRateLimiterTest extends RateLimiterContract {

  @Override
  protected RateLimiter limiter(ManualClock clock) {
    return LocalRateLimiter.create(clock);
  }

  @Test
  void size_countsBucketsCreated() {
    LocalRateLimiter limiter = LocalRateLimiter.create(new ManualClock());
    Rate rate = Rate.parse("5/s");
    assertThat(limiter.size()).isZero();
    limiter.tryAcquire("a", rate, 1);
    limiter.tryAcquire("a", rate, 1);
    limiter.tryAcquire("b", rate, 1);
    assertThat(limiter.size()).isEqualTo(2);
  }

  @Test
  void tryAcquire_overMaxBuckets_sweepsOnlyIdleBuckets() {
    ManualClock clock = new ManualClock();
    LocalRateLimiter limiter = LocalRateLimiter.create(clock, 4);
    Rate rate = Rate.parse("1/min");
    for (String key : new String[] {"a", "b", "c", "d"}) {
      limiter.tryAcquire(key, rate, 1);
    }
    clock.advance(Duration.ofMinutes(1));
    limiter.tryAcquire("d", rate, 1);

    limiter.tryAcquire("e", rate, 1);

    assertThat(limiter.size()).isEqualTo(2);
    assertThat(limiter.tryAcquire("d", rate, 1).allowed())
        .as("the busy bucket kept its state through the sweep")
        .isFalse();
    assertThat(limiter.tryAcquire("a", rate, 1).allowed()).isTrue();
  }

  @Test
  void refund_unknownKey_createsNoBucket() {
    LocalRateLimiter limiter = LocalRateLimiter.create(new ManualClock());
    limiter.refund("nothing", Rate.parse("5/s"), 1);
    assertThat(limiter.size()).isZero();
  }

  @Test
  void tryAcquire_nonPositiveCost_isRejected() {
    LocalRateLimiter limiter = LocalRateLimiter.create(new ManualClock());
    assertThatThrownBy(() -> limiter.tryAcquire("k", Rate.parse("5/s"), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cost must be positive");
  }

  /** One step of a random run: acquire {@code cost} tokens, or advance the clock. */
  record Step(boolean acquire, int cost, long advanceMillis) {}

  static LongStream seeds() {
    return Gen.seeds(300);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void tryAcquire_neverAdmitsMoreThanBurstPlusRefill(long seed) {
    Random random = new Random(seed);
    int permits = Gen.between(random, 1, 50);
    int periodMillis = Gen.between(random, 1, 10_000);
    int burst = Gen.between(random, 1, 80);
    List<Step> steps = steps(random);
    ManualClock clock = new ManualClock();
    LocalRateLimiter limiter = LocalRateLimiter.create(clock);
    Rate rate = new Rate(permits, Duration.ofMillis(periodMillis), burst);
    long admitted = 0;
    long elapsedNanos = 0;
    for (Step step : steps) {
      if (step.acquire()) {
        if (limiter.tryAcquire("k", rate, step.cost()).allowed()) {
          admitted += step.cost();
        }
      } else {
        clock.advance(Duration.ofMillis(step.advanceMillis()));
        elapsedNanos += step.advanceMillis() * 1_000_000;
      }
      long refilled = elapsedNanos * permits / (periodMillis * 1_000_000L);
      assertThat(admitted).isLessThanOrEqualTo(burst + refilled);
    }
  }

  /** Up to 200 steps, three acquisitions (cost 1 to 10) to one clock advance (0 to 5 s). */
  private static List<Step> steps(Random random) {
    return Gen.list(random, 0, 200, () -> random.nextInt(4) < 3
        ? new Step(true, Gen.between(random, 1, 10), 0)
        : new Step(false, 0, random.nextInt(5_001)));
  }
}
