package dev.sentinel.benchmarks;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.CallTracer;
import dev.sentinel.core.Invoker;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.otel.OtelTracer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.Collection;
import java.util.List;
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
 * What OpenTelemetry tracing adds to a governed call: {@link PipelineBenchmark}'s allow path
 * (6-rule policy, a per-principal limit, redact and enqueue the audit event to a discarding sink)
 * without a tracer ({@code baseline}: the pipeline's default no-op trace), with an {@link
 * OtelTracer} whose every call is sampled (a server span and four stage spans, handed to a batch
 * processor whose exporter discards them), and with one whose sampler keeps none (a non-recording
 * span per call). Sample mode: JMH reports p50 and p99.
 *
 * <p>Run: {@code benchmarks/run TracingBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TracingBenchmark {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private Sentinel untraced;
  private Sentinel traced;
  private Sentinel unsampled;
  private SdkTracerProvider sampledProvider;
  private SdkTracerProvider unsampledProvider;
  private Invoker<JsonNode> tool;
  private Call call;

  @Setup(Level.Trial)
  public void setUp() {
    sampledProvider = provider(Sampler.alwaysOn());
    unsampledProvider = provider(Sampler.alwaysOff());
    untraced = sentinel(CallTracer.none());
    traced = sentinel(OtelTracer.create(sampledProvider.get(OtelTracer.SCOPE)));
    unsampled = sentinel(OtelTracer.create(unsampledProvider.get(OtelTracer.SCOPE)));
    JsonNode result = JSON.readTree("{\"content\":[{\"type\":\"text\",\"text\":\"42 rows\"}]}");
    tool = request -> result;
    call = Call.of(Credentials.launch(), Request.toolCall("db", "db__query",
        JSON.readTree("{\"sql\":\"select id, name from users where id = 7\"}")));
  }

  private static SdkTracerProvider provider(Sampler sampler) {
    return SdkTracerProvider.builder()
        .setSampler(sampler)
        .addSpanProcessor(BatchSpanProcessor.builder(new DiscardingExporter()).build())
        .build();
  }

  private static Sentinel sentinel(CallTracer tracer) {
    return Sentinel.builder()
        .authenticator(Authenticator.fixed(Principal.of("ann", "developer")))
        .policy(PolicyEngine.parse(PipelineBenchmark.POLICY, "bench.yaml"))
        .limits(Limits.of(
            List.of(LimitRule.of("per-user", Rate.parse("1000000000/s"), LimitRule.Key.PRINCIPAL)),
            LocalRateLimiter.create(Clock.system())))
        .audit(AuditDispatcher.builder().sink(new DiscardingSink()).build())
        .tracer(tracer)
        .build();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    untraced.close();
    traced.close();
    unsampled.close();
    sampledProvider.shutdown().join(10, TimeUnit.SECONDS);
    unsampledProvider.shutdown().join(10, TimeUnit.SECONDS);
  }

  /** The allow path without a tracer: the pipeline's no-op trace. */
  @Benchmark
  public CallResult<JsonNode> baseline() {
    return untraced.call(call, tool);
  }

  /** Every call sampled: a server span and four stage spans, batched for a discarding exporter. */
  @Benchmark
  public CallResult<JsonNode> traced() {
    return traced.call(call, tool);
  }

  /** A sampler that keeps no call: one non-recording span per call. */
  @Benchmark
  public CallResult<JsonNode> notSampled() {
    return unsampled.call(call, tool);
  }

  /** An exporter that drops what it is given: export is not what is measured. */
  private static final class DiscardingExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
