package dev.sentinel.benchmarks;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.Request;
import dev.sentinel.core.limit.LimitDecision;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Taking one token from a shared bucket that never runs dry, at one and two threads (this
 * machine has two cores): the raw {@link LocalRateLimiter} and the {@link Limits} front that the
 * pipeline calls (a per-principal limit, so it also finds the bucket key), with the two threads
 * sharing one bucket ({@code limits2}) or each using its own ({@code limits2distinct}). {@code baseline*} is
 * a contended {@link AtomicLong} increment, the cheapest shared counter.
 *
 * <p>Run: {@code benchmarks/run LimiterBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LimiterBenchmark {
  private static final Rate UNLIMITED = Rate.parse("1000000000/s");

  private final AtomicLong counter = new AtomicLong();
  private LocalRateLimiter limiter;
  private Limits limits;
  private Principal principal;
  private Request request;

  @Setup
  public void setUp() {
    limiter = LocalRateLimiter.create(Clock.system());
    limits = Limits.of(List.of(LimitRule.of("per-user", UNLIMITED, LimitRule.Key.PRINCIPAL)),
        LocalRateLimiter.create(Clock.system()));
    principal = Principal.of("ann");
    request = Request.toolCall("db", "db__query", null);
  }

  /** The floor: one contended atomic increment. */
  @Benchmark
  @Threads(1)
  public long baseline1() {
    return counter.incrementAndGet();
  }

  /** The floor at two threads. */
  @Benchmark
  @Threads(2)
  public long baseline2() {
    return counter.incrementAndGet();
  }

  /** The limiter SPI: one token from one bucket. */
  @Benchmark
  @Threads(1)
  public RateLimitResult acquire1() {
    return limiter.tryAcquire("global", UNLIMITED, 1);
  }

  /** The limiter SPI at two threads on the same bucket. */
  @Benchmark
  @Threads(2)
  public RateLimitResult acquire2() {
    return limiter.tryAcquire("global", UNLIMITED, 1);
  }

  /** What the pipeline calls: find the applicable limits, key them, acquire. */
  @Benchmark
  @Threads(1)
  public LimitDecision limits1() {
    return limits.acquire(principal, request);
  }

  /** The same at two threads, both callers sharing one bucket (the worst case: contention). */
  @Benchmark
  @Threads(2)
  public LimitDecision limits2() {
    return limits.acquire(principal, request);
  }

  /** Each benchmark thread is its own principal, so per-principal limits use distinct buckets. */
  @State(Scope.Thread)
  public static class Caller {
    private static final AtomicLong NEXT = new AtomicLong();
    Principal principal = Principal.of("caller-" + NEXT.incrementAndGet());
  }

  /** Two threads, two principals: per-principal buckets do not contend. */
  @Benchmark
  @Threads(2)
  public LimitDecision limits2distinct(Caller caller) {
    return limits.acquire(caller.principal, request);
  }
}
