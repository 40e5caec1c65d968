package dev.sentinel.otel;

import dev.sentinel.core.CallTracer;
import dev.sentinel.core.config.Telemetry;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Traces a gateway's calls as its config's {@code telemetry:} section says: an OpenTelemetry SDK
 * of its own (a tracer provider with the {@code service.name}, a parent-based ratio sampler and a
 * batch span processor) that exports by OTLP over HTTP ({@code http/protobuf}, sent with the
 * JDK's HttpClient), and an {@link OtelTracer} on it.
 *
 * <pre>{@code
 * try (OtlpTracing tracing = OtlpTracing.bind(runtime)) {   // does nothing without telemetry.otlp
 *   ... serve ...
 * }
 * }</pre>
 *
 * <p>Exports never hold a call up: spans wait in the batch processor's queue (2,048; past that
 * they are dropped) and go out in the background. {@link #close()} unbinds the tracer and exports
 * what is queued, waiting at most the exporter's timeout. Thread-safe.
 */
public final class OtlpTracing implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OtlpTracing.class);
  private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
  private static final OtlpTracing NONE = new OtlpTracing(null, null, null, 0);

  private final @Nullable SdkTracerProvider provider; // null when off
  private final @Nullable OtelTracer tracer; // null when off
  private final @Nullable GatewayRuntime runtime; // null when not bound
  private final long closeMillis;

  private OtlpTracing(@Nullable SdkTracerProvider provider, @Nullable OtelTracer tracer,
      @Nullable GatewayRuntime runtime, long closeMillis) {
    this.provider = provider;
    this.tracer = tracer;
    this.runtime = runtime;
    this.closeMillis = closeMillis;
  }

  /**
   * Traces the runtime's calls if its config has {@code telemetry.otlp}, from now on; else does
   * nothing. Close the result when the gateway stops.
   */
  public static OtlpTracing bind(GatewayRuntime runtime) {
    Objects.requireNonNull(runtime, "runtime");
    Telemetry telemetry = runtime.config().telemetry();
    Telemetry.Otlp otlp = telemetry.otlp();
    if (otlp == null) { // not enabled()
      return NONE;
    }
    OtlpTracing tracing = start(telemetry, exporter(otlp), runtime);
    runtime.tracer(tracing.tracer());
    log.info("tracing calls to {} (OTLP/HTTP, service.name {}, sample ratio {})",
        otlp.tracesUrl(), telemetry.serviceName(), telemetry.sampleRatio());
    return tracing;
  }

  /**
   * Traces calls as {@code telemetry} says, for a pipeline of one's own: pass {@link #tracer()}
   * to {@code Sentinel.builder().tracer(...)}. Off (and free) without {@code telemetry.otlp}.
   */
  public static OtlpTracing start(Telemetry telemetry) {
    Objects.requireNonNull(telemetry, "telemetry");
    Telemetry.Otlp otlp = telemetry.otlp();
    return otlp != null ? start(telemetry, exporter(otlp), null) : NONE; // enabled()
  }

  /** The OTLP/HTTP exporter the section describes; it sends with the JDK's HttpClient. */
  private static SpanExporter exporter(Telemetry.Otlp otlp) {
    OtlpHttpSpanExporterBuilder exporter = OtlpHttpSpanExporter.builder()
        .setEndpoint(otlp.tracesUrl().toString())
        .setTimeout(otlp.timeout());
    otlp.headers().forEach(exporter::addHeader);
    return exporter.build();
  }

  /**
   * Traces calls as {@code telemetry} says, to {@code exporter} (an OTLP exporter, or a test's
   * in-memory one), for a pipeline of one's own: pass {@link #tracer()} to {@code
   * Sentinel.builder().tracer(...)}.
   */
  public static OtlpTracing start(Telemetry telemetry, SpanExporter exporter) {
    return start(telemetry, exporter, null);
  }

  private static OtlpTracing start(
      Telemetry telemetry, SpanExporter exporter, @Nullable GatewayRuntime runtime) {
    Objects.requireNonNull(telemetry, "telemetry");
    Objects.requireNonNull(exporter, "exporter");
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(
            Resource.create(Attributes.of(SERVICE_NAME, telemetry.serviceName()))))
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(telemetry.sampleRatio())))
        .addSpanProcessor(BatchSpanProcessor.builder(exporter).build())
        .build();
    long closeMillis = telemetry.otlp() == null ? Telemetry.Otlp.DEFAULT_TIMEOUT.toMillis()
        : telemetry.otlp().timeout().toMillis();
    return new OtlpTracing(provider, OtelTracer.create(provider.get(OtelTracer.SCOPE)), runtime,
        closeMillis);
  }

  /** Whether calls are traced (the config has {@code telemetry.otlp}). */
  public boolean enabled() {
    return provider != null;
  }

  /** The tracer, or {@link CallTracer#none()} when off. */
  public CallTracer tracer() {
    return tracer == null ? CallTracer.none() : tracer;
  }

  /**
   * Exports the spans of calls that have ended and waits for the export, at most the exporter's
   * timeout.
   *
   * @return whether they were exported
   */
  public boolean flush() {
    if (provider == null) {
      return true;
    }
    CompletableResultCode done = provider.forceFlush().join(closeMillis, TimeUnit.MILLISECONDS);
    return done.isSuccess();
  }

  /** Unbinds the tracer from the runtime, exports what is queued and shuts the SDK down. */
  @Override
  public void close() {
    if (provider == null) {
      return;
    }
    if (runtime != null) {
      runtime.tracer(CallTracer.none());
    }
    CompletableResultCode done = provider.shutdown().join(closeMillis, TimeUnit.MILLISECONDS);
    if (!done.isSuccess()) {
      log.warn("spans queued for export could not all be sent within {} ms", closeMillis);
    }
  }
}
