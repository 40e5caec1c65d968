package dev.sentinel.otel;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallTracer;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A {@link CallTracer} that makes each governed call an OpenTelemetry span, with a child span
 * per stage it reached ({@code sentinel.decision}, {@code sentinel.limit}, {@code
 * sentinel.confirmation}, {@code sentinel.backend}, {@code sentinel.audit}).
 *
 * <p>The call's span is named {@code <method> <tool>} ({@code tools/call fs__read_file}; the
 * method alone when the request names no target), of kind {@code SERVER}, and is the child of
 * the trace context the caller sent ({@link Call#traceParent}) when there is one. Its attributes
 * name the method, tool, backend, principal, outcome, decision, rules and audit record, never the
 * arguments, the response or a credential. A call that did not end {@code ALLOWED} gets the
 * status {@code ERROR} (its client got a JSON-RPC error) and {@code error.type}, the outcome; so
 * does the stage that refused it.
 *
 * <pre>{@code
 * Sentinel sentinel = Sentinel.builder()
 *     .tracer(OtelTracer.create(openTelemetry))   // the application's own SDK
 *     ...
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe; each call's trace is used by the call's thread only.
 */
public final class OtelTracer implements CallTracer {
  /** The instrumentation scope of the spans. */
  public static final String SCOPE = "dev.sentinel.otel";

  static final AttributeKey<String> METHOD = AttributeKey.stringKey("mcp.method.name");
  static final AttributeKey<String> TOOL = AttributeKey.stringKey("gen_ai.tool.name");
  static final AttributeKey<String> BACKEND = AttributeKey.stringKey("sentinel.backend");
  static final AttributeKey<String> SESSION = AttributeKey.stringKey("mcp.session.id");
  static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("jsonrpc.request.id");
  static final AttributeKey<String> PRINCIPAL = AttributeKey.stringKey("sentinel.principal");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("sentinel.outcome");
  static final AttributeKey<String> DECISION = AttributeKey.stringKey("sentinel.decision");
  static final AttributeKey<List<String>> RULES = AttributeKey.stringArrayKey("sentinel.rules");
  static final AttributeKey<String> AUDIT_ID = AttributeKey.stringKey("sentinel.audit.id");
  static final AttributeKey<String> REVISION = AttributeKey.stringKey("sentinel.revision");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private static final String[] STAGE_NAMES = stageNames();
  private static final TextMapGetter<String> TRACEPARENT = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(String carrier) {
      return List.of("traceparent");
    }

    @Override
    public @Nullable String get(String carrier, String key) {
      return "traceparent".equals(key) ? carrier : null;
    }
  };

  private final Tracer tracer;

  private OtelTracer(Tracer tracer) {
    this.tracer = tracer;
  }

  /** A tracer whose spans go to {@code openTelemetry}'s tracer provider. */
  public static OtelTracer create(OpenTelemetry openTelemetry) {
    Objects.requireNonNull(openTelemetry, "openTelemetry");
    return new OtelTracer(openTelemetry.getTracer(SCOPE));
  }

  /** A tracer whose spans go to {@code tracer}. */
  public static OtelTracer create(Tracer tracer) {
    return new OtelTracer(Objects.requireNonNull(tracer, "tracer"));
  }

  @Override
  public CallTrace start(Call call) {
    Context parent = Context.root();
    if (call.traceParent() != null) {
      parent = W3CTraceContextPropagator.getInstance().extract(parent, call.traceParent(), TRACEPARENT);
    }
    Request request = call.request();
    SpanBuilder builder = tracer.spanBuilder(spanName(request))
        .setParent(parent)
        .setSpanKind(SpanKind.SERVER)
        .setAttribute(METHOD, request.method());
    if (Request.TOOLS_CALL.equals(request.method()) && request.name() != null) {
      builder.setAttribute(TOOL, request.name());
    }
    if (request.backend() != null) {
      builder.setAttribute(BACKEND, request.backend());
    }
    if (call.sessionId() != null) {
      builder.setAttribute(SESSION, call.sessionId());
    }
    if (call.requestId() != null) {
      builder.setAttribute(REQUEST_ID, call.requestId());
    }
    Span span = builder.startSpan();
    if (!span.isRecording()) {
      // Not sampled: nothing to record, and no child to start.
      return new Unsampled(span);
    }
    return new Trace(span, parent.with(span));
  }

  /** {@code <method> <target>}, as OpenTelemetry's MCP conventions name a server span. */
  static String spanName(Request request) {
    return request.name() == null ? request.method() : request.method() + " " + request.name();
  }

  private static String[] stageNames() {
    Stage[] stages = Stage.values();
    String[] names = new String[stages.length];
    for (Stage stage : stages) {
      names[stage.ordinal()] = "sentinel." + stage.name().toLowerCase(Locale.ROOT);
    }
    return names;
  }

  /** One sampled call: its span, and the span of the stage under way. */
  private final class Trace implements CallTrace {
    private final Span span;
    private final Context context;
    private @Nullable Span stage; // null between stages

    Trace(Span span, Context context) {
      this.span = span;
      this.context = context;
    }

    @Override
    public void begin(Stage begun) {
      stage = tracer.spanBuilder(STAGE_NAMES[begun.ordinal()])
          .setParent(context)
          .setSpanKind(SpanKind.INTERNAL)
          .startSpan();
    }

    @Override
    public void end(Stage ended, @Nullable Refusal refusal) {
      Span current = stage;
      if (current == null) {
        return;
      }
      stage = null;
      if (refusal != null) {
        current.setAttribute(OUTCOME, refusal.outcome().name());
        current.setAttribute(RULES, refusal.rules());
        current.setAttribute(ERROR_TYPE, refusal.outcome().name());
        current.setStatus(StatusCode.ERROR, refusal.outcome().name());
      }
      current.end();
    }

    @Override
    public void completed(AuditEvent event) {
      if (stage != null) {
        stage.end(); // a stage an Error cut short
        stage = null;
      }
      if (event.principal() != null) {
        span.setAttribute(PRINCIPAL, event.principal());
      }
      span.setAttribute(OUTCOME, event.outcome().name());
      if (event.effect() != null) {
        span.setAttribute(DECISION, event.effect().name());
      }
      if (!event.rules().isEmpty()) {
        span.setAttribute(RULES, event.rules());
      }
      span.setAttribute(AUDIT_ID, event.id());
      if (event.revision() != null) {
        span.setAttribute(REVISION, event.revision());
      }
      if (event.outcome() != Outcome.ALLOWED) {
        span.setAttribute(ERROR_TYPE, event.outcome().name());
        span.setStatus(StatusCode.ERROR, event.outcome().name());
      }
      span.end();
    }
  }

  /** A call the sampler left out: its span ends with the call, nothing else is made. */
  private static final class Unsampled implements CallTrace {
    private final Span span;

    Unsampled(Span span) {
      this.span = span;
    }

    @Override
    public void completed(AuditEvent event) {
      span.end();
    }
  }
}
