package dev.sentinel.benchmarks;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.metrics.GatewayMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
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
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * The cost the HTTP gateway's metrics add to every governed call: {@link GatewayMetrics#completed}
 * for an allowed call of a listed tool (a counter and the latency histogram), a denied call (plus
 * the denial counter), and a call of an unknown tool (folded into {@code other}), at one thread
 * and, for the allowed call, at two threads on the same meters. {@code baseline} is one
 * {@link LongAdder} increment, the cheapest concurrent counter.
 *
 * <p>Run: {@code benchmarks/run MetricsListenerBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MetricsListenerBenchmark {
  private final LongAdder adder = new LongAdder();
  private GatewayMetrics metrics;
  private AuditEvent allowed;
  private AuditEvent denied;
  private AuditEvent unknown;

  @Setup
  public void setUp() {
    metrics = GatewayMetrics.create(Set.of("db__query", "fs__read_file")::contains);
    allowed = event("db__query", Outcome.ALLOWED, List.of("readonly-tools"));
    denied = event("db__query", Outcome.DENIED, List.of("no-destructive-sql"));
    unknown = event("db__made_up", Outcome.FAILED, List.of());
  }

  private static AuditEvent event(String tool, Outcome outcome, List<String> rules) {
    return AuditEvent.builder()
        .id("0192a3c4-0000-7000-8000-000000000000")
        .time(Instant.EPOCH)
        .request(Request.toolCall("db", tool, null))
        .arguments(JsonNodeFactory.instance.objectNode(), null)
        .decision(new Decision(outcome == Outcome.DENIED ? Effect.DENY : Effect.ALLOW, rules, "", List.of()))
        .outcome(outcome)
        .latency(Duration.ofNanos(420_000))
        .build();
  }

  /** The floor: one uncontended LongAdder increment. */
  @Benchmark
  public void baseline() {
    adder.increment();
  }

  /** An allowed call of a listed tool. */
  @Benchmark
  public void allowed() {
    metrics.completed(allowed);
  }

  /** A denied call: the request counter, the histogram and the denial counter. */
  @Benchmark
  public void denied() {
    metrics.completed(denied);
  }

  /** A call of a tool no backend listed: counted as {@code other}. */
  @Benchmark
  public void unknownTool() {
    metrics.completed(unknown);
  }

  /** Two threads recording allowed calls on the same meters. */
  @Benchmark
  @Threads(2)
  public void allowed2() {
    metrics.completed(allowed);
  }
}
