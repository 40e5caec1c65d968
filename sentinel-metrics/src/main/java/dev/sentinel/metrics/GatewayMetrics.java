package dev.sentinel.metrics;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.SentinelListener;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.mcp.engine.BackendStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Info;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The gateway's Prometheus metrics, on a Micrometer {@link PrometheusMeterRegistry}.
 *
 * <p>As a {@link SentinelListener} it counts every governed call: {@code sentinel_requests_total}
 * by method, tool and outcome, {@code sentinel_request_duration_seconds} (a histogram) by method,
 * {@code sentinel_denials_total} by rule, {@code sentinel_limiter_refusals_total} by limit and
 * {@code sentinel_break_glass_calls_total} by outcome (calls made inside a break-glass window).
 * {@link #bind} adds what is read at scrape time: backend health and restarts, the audit queue,
 * the config revision. The HTTP runner adds sessions, connections and responses by status.
 *
 * <p>Label values are bounded whatever clients send: a tool is counted under its name only when
 * a backend listed it ({@code knownTool}), else under {@code tool="other"}; methods outside
 * MCP's are {@code method="other"}; at most {@value #MAX_LABEL_VALUES} tool names and rule ids
 * each, the rest {@code other}. Recording a call costs a few map lookups on pre-registered
 * meters: no string is built and nothing is registered once a label combination has been seen.
 *
 * <p>Thread-safe.
 */
public final class GatewayMetrics implements SentinelListener {
  /** The label value that unknown or surplus tools, methods and rules fold into. */
  public static final String OTHER = "other";
  /** The {@code tool} label of requests that name no tool (every method but tools/call). */
  public static final String NO_TOOL = "";
  /** The {@code rule} label of a denial no rule decided (the policy's default deny). */
  public static final String DEFAULT_RULE = "default";
  /** The most distinct tool names, and the most distinct rule ids, used as label values. */
  public static final int MAX_LABEL_VALUES = 1_000;

  /** The latency histogram's bucket bounds: 0.1 ms to 10 s. */
  static final Duration[] BUCKETS = {
    Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
    Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10),
    Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
    Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2_500), Duration.ofSeconds(5),
    Duration.ofSeconds(10)};

  /** The MCP methods counted under their own name. */
  static final Set<String> METHODS = Set.of(
      "initialize", "ping", Request.TOOLS_CALL, "tools/list", Request.PROMPTS_GET, "prompts/list",
      Request.RESOURCES_READ, "resources/list", "resources/templates/list", "resources/subscribe",
      "resources/unsubscribe", "completion/complete", "logging/setLevel", "sampling/createMessage",
      "elicitation/create", "roots/list", "sentinel/stream_dropped");

  private static final Outcome[] OUTCOMES = Outcome.values();
  private static final String OPENMETRICS = "application/openmetrics-text";
  /** The Content-Type of the OpenMetrics text format. */
  public static final String OPENMETRICS_TYPE =
      "application/openmetrics-text; version=1.0.0; charset=utf-8";
  /** The Content-Type of the Prometheus text format (0.0.4). */
  public static final String TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  private final Predicate<String> knownTool;
  private final Map<String, MethodMeters> methods = new ConcurrentHashMap<>();
  private final Map<String, Counter> denials = new ConcurrentHashMap<>();
  /** {@code sentinel_break_glass_calls_total}, by outcome ordinal; registered on first use. */
  private final AtomicReferenceArray<Counter> breakGlass =
      new AtomicReferenceArray<>(Outcome.values().length);
  private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
  private final AtomicReferenceArray<Counter> responses = new AtomicReferenceArray<>(600);
  private final Map<String, Counter> httpRefusals = new ConcurrentHashMap<>();
  private final Map<String, Counter> dropped = new ConcurrentHashMap<>();
  private final Counter headerTimeouts;
  private final Counter eventsDropped;
  private final Set<String> boundBackends = ConcurrentHashMap.newKeySet();
  private final Info config;
  private volatile @Nullable GatewayRuntime runtime; // null until bound
  private volatile @Nullable String revision;
  private volatile @Nullable JvmGcMetrics gc;

  private GatewayMetrics(Predicate<String> knownTool) {
    this.knownTool = knownTool;
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.config = Info.builder()
        .name("sentinel_config")
        .help("The config revision in force (value 1)")
        .labelNames("revision")
        .register(registry.getPrometheusRegistry());
    this.headerTimeouts = Counter.builder("sentinel.http.header.timeouts")
        .description("Connections closed because a request head did not arrive within the header timeout")
        .register(registry);
    this.eventsDropped = Counter.builder("sentinel.http.events.dropped")
        .description("Undelivered SSE events a session forgot to stay within its output bound")
        .register(registry);
  }

  /**
   * Metrics that count a tool under its own name only when {@code knownTool} says a backend
   * listed it (usually {@link GatewayRuntime#listedTool}); the predicate must be fast and
   * thread-safe.
   */
  public static GatewayMetrics create(Predicate<String> knownTool) {
    return new GatewayMetrics(Objects.requireNonNull(knownTool, "knownTool"));
  }

  /**
   * Observes a runtime: adds these metrics as its listener and exports its backends' health and
   * restarts, its audit queue and its config revision (read at each scrape). Call once.
   *
   * @throws IllegalStateException if already bound
   */
  public void bind(GatewayRuntime runtime) {
    Objects.requireNonNull(runtime, "runtime");
    synchronized (this) {
      if (this.runtime != null) {
        throw new IllegalStateException("the metrics are already bound to a runtime");
      }
      this.runtime = runtime;
    }
    Gauge.builder("sentinel.audit.queue.depth", this, m -> m.audit().queueDepth())
        .description("Audit events recorded but not yet written (the furthest-behind sink)")
        .strongReference(true)
        .register(registry);
    FunctionCounter.builder("sentinel.audit.failures", this, m -> m.audit().failedWrites())
        .description("Failed audit sink writes")
        .register(registry);
    FunctionCounter.builder("sentinel.audit.dropped", this, m -> m.audit().dropped())
        .description("Audit events logged to the fallback instead of written")
        .register(registry);
    FunctionCounter.builder("sentinel.audit.written", this, m -> m.audit().written())
        .description("Audit events written")
        .register(registry);
    FunctionCounter.builder("sentinel.tool.hidden.instructions", runtime,
            GatewayRuntime::hiddenInstructionsSeen)
        .description("Listed tool definitions carrying hidden instructions (invisible characters,"
            + " text addressed to the model); sentinel tools diff shows them")
        .register(registry);
    Gauge.builder("sentinel.config.drift", runtime, r -> r.configDrift().isPresent() ? 1 : 0)
        .description("1 when this gateway runs another bundle than its desired one (its"
            + " channel's head, a rollout's bundle for a canary, or its bundle file's), for"
            + " example one it refused; 0 otherwise")
        .strongReference(true)
        .register(registry);
    refresh();
    runtime.addListener(this);
    bindJvm();
  }

  /**
   * The JVM's and the process's own metrics (issue 16, item 7): memory pools, garbage
   * collection, threads, classes, CPU, uptime and open files, as Micrometer's binders name them
   * ({@code jvm_memory_used_bytes}, {@code process_cpu_usage}, ...).
   */
  private void bindJvm() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    // It listens to the JVM's GC notifications until closed: closed by unbind().
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    this.gc = gc;
  }

  /** Stops observing the bound runtime (the gateway calls it when it closes). */
  public void unbind() {
    GatewayRuntime bound = runtime;
    if (bound != null) {
      bound.removeListener(this);
    }
    JvmGcMetrics listening = gc;
    if (listening != null) {
      listening.close();
    }
  }

  /** Exports {@code sentinel_http_sessions} and {@code sentinel_http_connections}, read at scrape time. */
  public void http(IntSupplier sessions, IntSupplier connections) {
    Objects.requireNonNull(sessions, "sessions");
    Objects.requireNonNull(connections, "connections");
    Gauge.builder("sentinel.http.sessions", sessions, IntSupplier::getAsInt)
        .description("Open MCP sessions").strongReference(true).register(registry);
    Gauge.builder("sentinel.http.connections", connections, IntSupplier::getAsInt)
        .description("Open TCP connections").strongReference(true).register(registry);
  }

  /**
   * Exports {@code sentinel_http_streams} (open SSE streams) and
   * {@code sentinel_http_buffered_bytes} (output the sessions hold: events kept for delivery or
   * replay, and bytes queued to connections but not yet written), read at scrape time.
   */
  public void streams(IntSupplier streams, LongSupplier bufferedBytes) {
    Objects.requireNonNull(streams, "streams");
    Objects.requireNonNull(bufferedBytes, "bufferedBytes");
    Gauge.builder("sentinel.http.streams", streams, IntSupplier::getAsInt)
        .description("Open SSE streams (GET streams and streamed POST answers)")
        .strongReference(true).register(registry);
    Gauge.builder("sentinel.http.buffered.bytes", bufferedBytes, LongSupplier::getAsLong)
        .description("Output held by the sessions: events kept for delivery or replay, and bytes"
            + " queued to connections but not yet written")
        .strongReference(true).register(registry);
  }

  /**
   * Counts a request refused by one of the HTTP gateway's caps in
   * {@code sentinel_http_refusals_total{cap}}: {@code max_sessions},
   * {@code max_sessions_per_principal}, {@code max_streams_per_principal}.
   */
  public void refused(String cap) {
    counter(httpRefusals, "sentinel.http.refusals",
        "Requests refused by an HTTP gateway cap, by cap", "cap", cap).increment();
  }

  /**
   * Counts an SSE connection the gateway ended because its client did not read what it was
   * sent, in {@code sentinel_http_streams_dropped_total{reason}} ({@code slow_reader}: more
   * unwritten output than a connection may hold; {@code session_buffer}: the slowest of a
   * session whose output exceeds the session's bound).
   */
  public void streamDropped(String reason) {
    counter(dropped, "sentinel.http.streams.dropped",
        "SSE connections ended because the client did not read, by reason", "reason", reason).increment();
  }

  /**
   * Counts undelivered events a session forgot to stay within its output bound (no client was
   * listening on their stream), in {@code sentinel_http_events_dropped_total}.
   */
  public void eventDropped() {
    eventsDropped.increment();
  }

  /**
   * Counts a connection closed because its request head did not arrive within the header
   * timeout, in {@code sentinel_http_header_timeouts_total}.
   */
  public void headerTimedOut() {
    headerTimeouts.increment();
  }

  /** Counts one HTTP response in {@code sentinel_http_responses_total{status}}. */
  public void response(int status) {
    int index = status >= 100 && status < 600 ? status : 0;
    Counter counter = responses.get(index);
    if (counter == null) {
      counter = Counter.builder("sentinel.http.responses")
          .description("HTTP responses by status")
          .tag("status", index == 0 ? OTHER : Integer.toString(index))
          .register(registry);
      responses.set(index, counter);
    }
    counter.increment();
  }

  @Override
  public void completed(AuditEvent event) {
    if (event.outcome() == Outcome.PENDING) {
      return;
    }
    String method = event.method();
    MethodMeters meters = methods.get(method);
    if (meters == null) {
      meters = methodMeters(method);
    }
    meters.timer.record(event.latency().toNanos(), TimeUnit.NANOSECONDS);
    meters.requests(event.name()).increment(event.outcome());
    List<String> rules = event.rules();
    if (!rules.isEmpty() && Sentinel.BREAK_GLASS.equals(rules.get(rules.size() - 1))) {
      breakGlass(event.outcome()).increment();
    }
    if (event.outcome() == Outcome.DENIED) {
      count(denials, "sentinel.denials", "Calls denied by the policy, by deciding rule", event.rules());
    } else if (event.outcome() == Outcome.LIMITED) {
      count(refusals, "sentinel.limiter.refusals", "Calls refused by a rate limit, by limit",
          event.rules());
    }
  }

  private Counter breakGlass(Outcome outcome) {
    Counter counter = breakGlass.get(outcome.ordinal());
    if (counter == null) {
      counter = Counter.builder("sentinel.break_glass.calls")
          .description("Calls made inside a break-glass window, by outcome")
          .tag("outcome", outcome.name().toLowerCase(Locale.ROOT))
          .register(registry);
      breakGlass.set(outcome.ordinal(), counter);
    }
    return counter;
  }

  /**
   * The exposition of every metric, in OpenMetrics when {@code accept} asks for
   * {@code application/openmetrics-text}, else in the Prometheus text format.
   *
   * @param accept the request's {@code Accept} header, or {@code null}
   */
  public Scrape scrape(String accept) {
    refresh();
    boolean openMetrics = accept != null && accept.toLowerCase(Locale.ROOT).contains(OPENMETRICS);
    String type = openMetrics ? OPENMETRICS_TYPE : TEXT_TYPE;
    return new Scrape(type, registry.scrape(type));
  }

  /** The registry, to add meters of one's own. */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * One rendering of the metrics.
   *
   * @param contentType the response's Content-Type
   * @param body the exposition text
   */
  public record Scrape(String contentType, String body) {
    /** Validates. */
    public Scrape {
      Objects.requireNonNull(contentType, "contentType");
      Objects.requireNonNull(body, "body");
    }
  }

  // ---- internals --------------------------------------------------------------------------

  private AuditDispatcher.Stats audit() {
    GatewayRuntime bound = runtime;
    return bound == null ? new AuditDispatcher.Stats(0, 0, 0, 0, 0, true)
        : bound.sentinel().audit().stats();
  }

  /** Registers meters of backends that appeared (a reload may add some) and the revision. */
  private void refresh() {
    GatewayRuntime bound = runtime;
    if (bound == null) {
      return;
    }
    for (String name : bound.backends().keySet()) {
      if (boundBackends.add(name)) {
        Gauge.builder("sentinel.backend.up", bound, r -> state(r, name) == BackendStatus.State.UP ? 1 : 0)
            .description("Whether the backend is up (1) or starting or down (0)")
            .strongReference(true)
            .tag("backend", name).register(registry);
        FunctionCounter.builder("sentinel.backend.restarts", bound, r -> restarts(r, name))
            .description("Times the gateway reconnected the backend after a failure")
            .tag("backend", name).register(registry);
        Gauge.builder("sentinel.backend.connections", bound, r -> connections(r, name))
            .description("The backend's connections that are up (one per session or principal when isolated)")
            .strongReference(true)
            .tag("backend", name).register(registry);
        FunctionCounter.builder("sentinel.backend.log.messages", bound,
                r -> r.backendLogMessages().getOrDefault(name, 0L))
            .description("Log messages of a shared backend connection, written to the gateway's log, not relayed")
            .tag("backend", name).register(registry);
      }
    }
    String current = bound.sentinel().revision();
    String shown = current == null ? "" : current;
    if (!shown.equals(revision)) {
      synchronized (config) {
        config.setLabelValues(shown);
        revision = shown;
      }
    }
  }

  private static BackendStatus.State state(GatewayRuntime runtime, String name) {
    BackendStatus status = runtime.backends().get(name);
    return status == null ? BackendStatus.State.DOWN : status.state();
  }

  private static double connections(GatewayRuntime runtime, String name) {
    BackendStatus status = runtime.backends().get(name);
    return status == null ? 0 : status.connections();
  }

  private static double restarts(GatewayRuntime runtime, String name) {
    BackendStatus status = runtime.backends().get(name);
    return status == null ? 0 : status.restarts();
  }

  /** An unknown method is counted as {@code other}: its own name could grow without bound. */
  private MethodMeters methodMeters(String method) {
    String label = METHODS.contains(method) ? method : OTHER;
    return methods.computeIfAbsent(label, l -> new MethodMeters(l, registry));
  }

  private void count(Map<String, Counter> counters, String name, String description, List<String> rules) {
    if (rules.isEmpty()) {
      counter(counters, name, description, DEFAULT_RULE).increment();
      return;
    }
    for (int i = 0; i < rules.size(); i++) {
      counter(counters, name, description, rules.get(i)).increment();
    }
  }

  private Counter counter(Map<String, Counter> counters, String name, String description, String rule) {
    Counter counter = counters.get(rule);
    if (counter != null) {
      return counter;
    }
    String label = counters.size() < MAX_LABEL_VALUES ? rule : OTHER;
    return counters.computeIfAbsent(label, l ->
        Counter.builder(name).description(description).tag("rule", l).register(registry));
  }

  /** A counter with one label whose values the gateway's code names (a fixed, small set). */
  private Counter counter(Map<String, Counter> counters, String name, String description,
      String label, String value) {
    Counter counter = counters.get(value);
    if (counter != null) {
      return counter;
    }
    return counters.computeIfAbsent(value, v ->
        Counter.builder(name).description(description).tag(label, v).register(registry));
  }

  /** The meters of one method: its timer and its request counters by tool and outcome. */
  private final class MethodMeters {
    final String method;
    final Timer timer;
    final boolean tools;
    final Map<String, OutcomeCounters> byTool = new ConcurrentHashMap<>();

    MethodMeters(String method, MeterRegistry registry) {
      this.method = method;
      this.tools = Request.TOOLS_CALL.equals(method);
      this.timer = Timer.builder("sentinel.request.duration")
          .description("Governed MCP request latency, from arrival to outcome")
          .tag("method", method)
          .serviceLevelObjectives(BUCKETS)
          .register(registry);
    }

    OutcomeCounters requests(@Nullable String name) {
      if (!tools || name == null) {
        return byTool.computeIfAbsent(NO_TOOL, t -> new OutcomeCounters(method, t));
      }
      OutcomeCounters counters = byTool.get(name);
      if (counters != null) {
        return counters;
      }
      String label = byTool.size() < MAX_LABEL_VALUES && knownTool.test(name) ? name : OTHER;
      if (label.equals(OTHER)) {
        OutcomeCounters other = byTool.get(OTHER);
        if (other != null) {
          return other;
        }
      }
      return byTool.computeIfAbsent(label, t -> new OutcomeCounters(method, t));
    }
  }

  /** One request counter per outcome, registered on first use. */
  private final class OutcomeCounters {
    final String method;
    final String tool;
    final AtomicReferenceArray<Counter> counters = new AtomicReferenceArray<>(OUTCOMES.length);

    OutcomeCounters(String method, String tool) {
      this.method = method;
      this.tool = tool;
    }

    void increment(Outcome outcome) {
      int index = outcome.ordinal();
      Counter counter = counters.get(index);
      if (counter == null) {
        counter = Counter.builder("sentinel.requests")
            .description("Governed MCP requests by method, tool and outcome")
            .tag("method", method)
            .tag("tool", tool)
            .tag("outcome", outcome.name().toLowerCase(Locale.ROOT))
            .register(registry);
        counters.set(index, counter);
      }
      counter.increment();
    }
  }
}
