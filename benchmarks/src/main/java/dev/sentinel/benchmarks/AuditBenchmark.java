package dev.sentinel.benchmarks;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.AuditIds;
import dev.sentinel.core.audit.Redacted;
import dev.sentinel.core.audit.Redactor;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The audit side of a call: redacting typical arguments, building the event, and handing it to
 * the asynchronous dispatcher (whose writer discards, so storage is not measured).
 * {@code baseline} builds the event with arguments already redacted and does not enqueue.
 *
 * <p>Run: {@code benchmarks/run AuditBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AuditBenchmark {
  private final Clock clock = Clock.system();
  private AuditDispatcher dispatcher;
  private Redactor redactor;
  private JsonNode arguments;
  private Redacted redacted;
  private Principal principal;
  private Request request;

  @Setup(Level.Trial)
  public void setUp() {
    dispatcher = AuditDispatcher.builder().sink(new DiscardingSink()).build();
    redactor = Redactor.defaults();
    arguments = JsonMapper.builder().build().readTree(
        "{\"path\":\"/workspace/src/Main.java\",\"content\":\"class Main {}\",\"api_key\":\"k-123\"}");
    redacted = redactor.redact(arguments);
    principal = Principal.of("ann", "developer");
    request = Request.toolCall("fs", "fs__write_file", arguments);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    dispatcher.close();
  }

  private AuditEvent event(Redacted args) {
    return AuditEvent.builder()
        .id(AuditIds.next(clock))
        .time(Instant.now())
        .principal(principal)
        .request(request)
        .arguments(args.value(), args.digest())
        .outcome(Outcome.ALLOWED)
        .build();
  }

  /** Builds an event from pre-redacted arguments; nothing is enqueued. */
  @Benchmark
  public AuditEvent baseline() {
    return event(redacted);
  }

  /** Redacts the arguments (with their digest). */
  @Benchmark
  public Redacted redact() {
    return redactor.redact(arguments);
  }

  /** Redacts, builds and enqueues: what every call pays. */
  @Benchmark
  public AuditEvent redactAndEnqueue() {
    AuditEvent event = event(redactor.redact(arguments));
    dispatcher.record(event);
    return event;
  }
}
