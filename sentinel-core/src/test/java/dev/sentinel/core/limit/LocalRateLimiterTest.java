package dev.sentinel.core.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

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

  @Property(tries = 300)
  void tryAcquire_neverAdmitsMoreThanBurstPlusRefill(
      @ForAll @IntRange(min = 1, max = 50) int permits,
      @ForAll @IntRange(min = 1, max = 10_000) int periodMillis,
      @ForAll @IntRange(min = 1, max = 80) int burst,
      @ForAll("steps") List<Step> steps) {
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

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<Step> acquire =
        Arbitraries.integers().between(1, 10).map(cost -> new Step(true, cost, 0));
    Arbitrary<Step> advance =
        Arbitraries.longs().between(0, 5_000).map(millis -> new Step(false, 0, millis));
    return Arbitraries.frequencyOf(Tuple.of(3, acquire), Tuple.of(1, advance)).list().ofMaxSize(200);
  }
}
