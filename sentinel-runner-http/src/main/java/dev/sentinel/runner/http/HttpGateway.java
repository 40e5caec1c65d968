package dev.sentinel.runner.http;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.api.KeyStore;
import dev.sentinel.core.approval.ApprovalStore;
import dev.sentinel.core.config.Admin;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Jwt;
import dev.sentinel.core.config.OAuth;
import dev.sentinel.core.operator.AuditTrail;
import dev.sentinel.operator.Operations;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.mcp.gateway.RunOptions;
import dev.sentinel.mcp.streamable.Bounds;
import dev.sentinel.mcp.streamable.StatelessExchange;
import dev.sentinel.mcp.streamable.StreamableHub;
import dev.sentinel.mcp.streamable.StreamableSession;
import dev.sentinel.runner.http.admin.AdminHandler;
import dev.sentinel.runner.http.llm.LlmHandler;
import dev.sentinel.metrics.GatewayMetrics;
import dev.sentinel.otel.OtlpTracing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sentinel http}: serves a {@link GatewayRuntime} to MCP clients over the Streamable HTTP
 * transport (MCP 2025-03-26 to 2025-11-25) on Jetty 12.
 *
 * <pre>{@code
 * try (HttpGateway http = HttpGateway.builder()
 *         .runtime(runtime)
 *         .authenticator(ApiKeys.create(keyStore, clock).authenticator())
 *         .bind("127.0.0.1", 8080)
 *         .build()) {
 *   http.start();
 *   ...
 * }
 * }</pre>
 *
 * <p>Endpoints: the MCP endpoint ({@code /mcp} by default: POST a JSON-RPC message, GET a stream
 * of server messages, DELETE to end a session) and {@code /healthz}, {@code /livez},
 * {@code /readyz}; with an admin token ({@link Builder#admin}), the operator page and the admin API
 * under {@code /admin} ({@link dev.sentinel.runner.http.admin.AdminHandler}). Every MCP request is checked, in this order: Host (403), Origin if present
 * (403), credentials ({@code Authorization: Bearer} or {@code X-API-Key}, through the
 * authenticator; 401), then content type (415), accepted types (406), body size (413, enforced
 * while reading), JSON (400 with -32700), batches (400 with -32600), session (400 without an id,
 * 404 for an unknown, expired or foreign one) and {@code MCP-Protocol-Version} (400). Each
 * session is bound to the principal that initialized it. docs/http.md has the whole contract.
 *
 * <p>Thread-safe. {@link #close()} drains: it refuses new requests, lets requests in flight
 * finish up to the drain timeout, ends the sessions and stops the server. It does not close the
 * runtime, which its owner closes.
 */
public final class HttpGateway implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpGateway.class);
  /** Events one stream keeps, by default. */
  static final int DEFAULT_STREAM_EVENTS = 256;
  /** Bytes one stream keeps, by default: 1 MiB (a larger single message is still kept). */
  static final long DEFAULT_STREAM_BYTES = 1L << 20;
  /** Events one session holds, its streams and connections together, by default. */
  static final int DEFAULT_SESSION_EVENTS = 1_024;
  /** Bytes one session holds, its streams and connections together, by default: 4 MiB. */
  static final long DEFAULT_SESSION_BYTES = 4L << 20;
  /** How often the TLS files are checked for a change, by default: as Jetty's KeyStoreScanner. */
  static final Duration DEFAULT_TLS_CHECK_INTERVAL = Duration.ofSeconds(1);

  private final GatewayRuntime runtime;
  private final Authenticator authenticator;
  private final String host;
  private final int requestedPort;
  private final @Nullable ServerSocketChannel bound;
  private final String path;
  private final @Nullable Set<String> allowedOrigins;
  private final @Nullable Set<String> allowedHosts;
  private final long maxBodyBytes;
  private final int maxSessions;
  private final int maxSessionsPerPrincipal;
  private final int maxStreamsPerPrincipal;
  private final int maxConnections;
  private final Duration keepAlive;
  private final Duration headerTimeout;
  private final Duration idleTimeout;
  private final Duration sessionIdleTimeout;
  private final Duration drainTimeout;
  private final int streamEvents;
  private final long streamBytes;
  private final int sessionEvents;
  private final long sessionBytes;
  private final Clock clock;
  private final OperatorAccess operators;
  /** The roles of named operators, or {@code null} when the admin endpoints are not served. */
  private final @Nullable Set<String> operatorRoles;
  private final boolean publicMetrics;
  private final GatewayMetrics metrics;
  /** The OTLP traces of the calls, when the config has {@code telemetry.otlp}; else {@code null}. */
  private volatile @Nullable OtlpTracing tracing;
  private final @Nullable OAuth protectedResource;
  private final @Nullable KeyStore keys;
  private final @Nullable AuditTrail auditTrail;
  private final @Nullable ApprovalStore approvals;
  private final dev.sentinel.core.bundle.@Nullable BundleStore bundles;
  private final @Nullable ConfigReloader reloader;
  private final @Nullable ServerTls tls;
  private final Duration tlsCheckInterval;
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  private volatile boolean draining;
  // Set by start().
  private @Nullable Server server;
  private @Nullable ServerConnector connector;
  private @Nullable StreamableHub hub;
  private @Nullable ExecutorService pool;
  private @Nullable ScheduledExecutorService timers;

  private enum State { NEW, STARTED, CLOSED }

  private HttpGateway(Builder builder) {
    // Both checked by build().
    this.runtime = Objects.requireNonNull(builder.runtime, "runtime");
    this.authenticator = Objects.requireNonNull(builder.authenticator, "authenticator");
    this.host = builder.host;
    this.requestedPort = builder.port;
    this.bound = builder.bound;
    this.path = builder.path;
    this.allowedOrigins = builder.allowedOrigins;
    this.allowedHosts = builder.allowedHosts;
    this.maxBodyBytes = builder.maxBodyBytes > 0 ? builder.maxBodyBytes : runtime.frameLimits().maxMessageBytes();
    this.maxSessions = builder.maxSessions;
    this.maxConnections = builder.maxConnections;
    this.maxSessionsPerPrincipal = builder.maxSessionsPerPrincipal > 0 ? builder.maxSessionsPerPrincipal
        : dev.sentinel.core.config.Server.perPrincipal(builder.maxSessions);
    this.maxStreamsPerPrincipal = builder.maxStreamsPerPrincipal > 0 ? builder.maxStreamsPerPrincipal
        : dev.sentinel.core.config.Server.perPrincipal(builder.maxConnections);
    this.keepAlive = builder.keepAlive;
    this.headerTimeout = builder.headerTimeout;
    this.idleTimeout = builder.idleTimeout != null ? builder.idleTimeout
        : Duration.ofMillis(Math.max(30_000L, builder.keepAlive.toMillis() * 2 + 5_000L));
    this.sessionIdleTimeout = builder.sessionIdleTimeout;
    this.drainTimeout = builder.drainTimeout;
    this.streamEvents = builder.streamEvents;
    this.streamBytes = builder.streamBytes;
    this.sessionEvents = builder.sessionEvents;
    this.sessionBytes = builder.sessionBytes;
    this.clock = builder.clock;
    this.operators = OperatorAccess.of(builder.admin);
    this.operatorRoles = builder.admin.map(Admin::roles).map(Set::copyOf).orElse(null);
    this.publicMetrics = builder.publicMetrics;
    this.metrics = GatewayMetrics.create(runtime::listedTool);
    this.protectedResource = builder.protectedResource;
    this.keys = builder.keys;
    this.auditTrail = builder.auditTrail;
    this.approvals = builder.approvals;
    this.bundles = builder.bundles;
    this.reloader = builder.reloader;
    this.tls = builder.tls;
    this.tlsCheckInterval = builder.tlsCheckInterval;
  }

    /**
   * Starts {@code sentinel http} from a config, as {@code StdioGateway.run} starts {@code
   * sentinel stdio}: opens the config's database (wrapped for shared state as {@code options}
   * says), authenticates clients with its API keys, the {@code server.jwt} identity provider's
   * tokens and {@code server.anonymous}, starts the runtime and the server, and, with a config
   * file in {@code options}, reloads it on {@code POST /admin/api/reload} and (unless the options
   * turn watching off) when it changes on disk.
   *
   * @param channel a listening channel already bound (so that a port in use is reported before
   *     anything starts), or {@code null} to bind {@code server.host}:{@code server.port}
   * @return the running gateway; close it to drain and stop
   * @throws RuntimeException if anything fails to start; what had started is stopped
   */
  public static Running start(GatewayConfig config, RunOptions options,
      @Nullable ServerSocketChannel channel) {
    return Launcher.start(Objects.requireNonNull(config, "config"),
        Objects.requireNonNull(options, "options"), channel);
  }

  /**
   * Starts as {@link #start} does and serves until the JVM is asked to stop (a shutdown hook
   * drains and stops the gateway).
   *
   * @return the exit code, 0
   * @throws InterruptedException if interrupted while serving
   */
  public static int run(GatewayConfig config, RunOptions options,
      @Nullable ServerSocketChannel channel)
      throws InterruptedException {
    Running running = start(config, options, channel);
    Runtime.getRuntime().addShutdownHook(new Thread(running::close, "sentinel-http-shutdown"));
    running.awaitClose();
    return 0;
  }

  /** A gateway {@link #start started} from a config: its runtime, server and watcher. */
  public interface Running extends AutoCloseable {
    /** The MCP endpoint's URI, such as {@code http://127.0.0.1:8080/mcp}. */
    URI endpoint();

    /** The runtime served. */
    GatewayRuntime runtime();

    /** Blocks until {@link #close} has finished. */
    void awaitClose() throws InterruptedException;

    /** Drains requests in flight, stops the server and the watcher, then the runtime. */
    @Override
    void close();
  }

/** A builder; {@link Builder#runtime} and {@link Builder#authenticator} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds and starts serving.
   *
   * @throws UncheckedIOException if the address cannot be bound
   * @throws IllegalStateException if started before or closed
   */
  public void start() {
    if (!state.compareAndSet(State.NEW, State.STARTED)) {
      throw new IllegalStateException("the HTTP gateway was already started or is closed");
    }
    AtomicInteger threads = new AtomicInteger();
    pool = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(runnable, "sentinel-http-delivery-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    timers = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "sentinel-http-timers");
      thread.setDaemon(true);
      return thread;
    });
    Json json = new Json(runtime.frameLimits().maxDepth(), maxBodyBytes);
    hub = new StreamableHub(clock, pool, new Bounds(maxSessions, maxSessionsPerPrincipal,
        maxStreamsPerPrincipal, streamEvents, streamBytes, sessionEvents, sessionBytes), counters(metrics));

    QueuedThreadPool jettyThreads = new QueuedThreadPool();
    jettyThreads.setName("sentinel-http");
    jettyThreads.setDaemon(true);
    server = new Server(jettyThreads);
    // Jetty's own error page would show an exception's toString() to the client.
    server.setErrorHandler(new GenericErrors(json));
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    // A request reaches the handlers when its head is complete, which ends its header timeout;
    // waiting for the body's first bytes would leave that gap to no timeout but the idle one.
    http.setDelayDispatchUntilContent(false);
    HeaderDeadline heads = new HeaderDeadline(clock, headerTimeout, metrics::headerTimedOut);
    ConnectionFactory[] factories;
    if (tls == null) {
      factories = new ConnectionFactory[] {new HttpConnectionFactory(http)};
    } else {
      // Requests say they came over TLS (isSecure, the https scheme); the Host check stays ours.
      http.addCustomizer(new SecureRequestCustomizer(false));
      factories = new ConnectionFactory[] {
          new SslConnectionFactory(tls.factory(), HttpVersion.HTTP_1_1.asString()),
          new HttpConnectionFactory(http)};
    }
    connector = heads.connector(server, factories);
    connector.setHost(host);
    connector.setPort(requestedPort);
    // SSE streams carry a keep-alive comment every interval: the idle timeout must be longer.
    // It also cuts clients that stall mid-request (a body that stops arriving).
    connector.setIdleTimeout(idleTimeout.toMillis());
    server.addConnector(connector);
    // Beyond the limit, the acceptor stops accepting: further connections wait in the kernel's
    // backlog, costing no thread and no parsing, until one closes.
    server.addBean(new NetworkConnectionLimit(maxConnections, connector));
    try {
      if (bound != null) {
        connector.open(bound);
      } else {
        connector.open();
      }
    } catch (IOException e) {
      state.set(State.CLOSED);
      shutdownExecutors();
      throw new UncheckedIOException("cannot bind " + host + ":" + requestedPort + ": " + e.getMessage(), e);
    }
    Guard guard = Guard.of(allowedOrigins, allowedHosts, host, connector.getLocalPort());
    McpHandler.Settings settings = new McpHandler.Settings(path, maxBodyBytes,
        sessionIdleTimeout.toNanos(), authenticator,
        protectedResource == null ? null : new ResourceMetadata(protectedResource, path));
    metrics.bind(runtime);
    if (runtime.config().telemetry().enabled()) {
      tracing = OtlpTracing.bind(runtime);
    }
    ServerConnector bound = connector;
    StreamableHub sessions = hub;
    metrics.http(sessions::sessionCount, () -> bound.getConnectedEndPoints().size());
    metrics.streams(sessions::streamCount, sessions::bufferedBytes);
    MetricsRoute route = new MetricsRoute(metrics, operators, publicMetrics);
    Handler mcp = new McpHandler(settings, runtime, hub, json, guard, () -> draining, route);
    List<Handler> handlers = new ArrayList<>();
    Set<String> roles = operatorRoles;
    if (roles != null) {
      handlers.add(admin(guard, roles));
    }
    handlers.add(mcp);
    Handler handled = handlers.size() == 1 ? mcp
        : new Handler.Sequence(handlers.toArray(new Handler[0]));
    // The LLM route answers /v1 paths only (admin's are under /admin), when the config has an
    // llm: section (at start). It never blocks its calling thread, so that Jetty may call it on
    // the selector: the handlers after it then go to the pool explicitly, as Jetty would have
    // sent every request had any handler of the server been blocking.
    if (runtime.config().llm().enabled()) {
      handled = new Handler.Sequence(LlmHandler.builder().runtime(runtime)
          .authenticator(authenticator).credentials(McpHandler::credentials)
          .guard(guard::hostAllowed, guard::originAllowed).draining(() -> draining)
          .metrics(metrics.registry()).build(), new OnPool(handled));
    }
    server.setHandler(heads.marking(new CountingResponses(metrics, handled)));
    try {
      server.start();
    } catch (Exception e) {
      state.set(State.CLOSED);
      stopServer();
      shutdownExecutors();
      metrics.unbind();
      closeTracing();
      throw new IllegalStateException("cannot start the HTTP server: " + e.getMessage(), e);
    }
    long keepAliveMillis = keepAlive.toMillis();
    timers.scheduleAtFixedRate(() -> keepAlive(sessions), keepAliveMillis, keepAliveMillis,
        TimeUnit.MILLISECONDS);
    long sweep = Math.max(100, Math.min(1_000, sessionIdleTimeout.toMillis() / 2));
    timers.scheduleWithFixedDelay(() -> expire(sessions), sweep, sweep, TimeUnit.MILLISECONDS);
    long headSweep = heads.sweepInterval().toMillis();
    timers.scheduleWithFixedDelay(() -> sweepHeads(heads, bound), headSweep, headSweep,
        TimeUnit.MILLISECONDS);
    ServerTls served = tls;
    if (served != null) {
      long every = tlsCheckInterval.toMillis();
      timers.scheduleWithFixedDelay(() -> checkTls(served), every, every, TimeUnit.MILLISECONDS);
    }
    log.info("sentinel http serving MCP on {}", endpoint());
  }

  /** The bound port (the actual one when the builder asked for port 0). */
  public int port() {
    ServerConnector bound = connector;
    if (bound == null) {
      throw new IllegalStateException("the HTTP gateway is not started");
    }
    return bound.getLocalPort();
  }

  /**
   * The MCP endpoint's URL, such as {@code http://127.0.0.1:8080/mcp}, or
   * {@code https://127.0.0.1:8443/mcp} when it serves TLS.
   */
  public URI endpoint() {
    String shown = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    return URI.create((tls == null ? "http" : "https") + "://" + shown + ":" + port() + path);
  }

  /** The sessions' shared state, for tests; {@code null} before {@link #start()}. */
  @Nullable StreamableHub hub() {
    return hub;
  }

  /** How many sessions are open. */
  public int sessionCount() {
    StreamableHub current = hub;
    return current == null ? 0 : current.sessionCount();
  }

  /**
   * The gateway's metrics, served at {@code /metrics}: to add meters, or to read them in-process.
   * They count the runtime's calls from {@link #start()} until {@link #close()}.
   */
  public GatewayMetrics metrics() {
    return metrics;
  }

  /**
   * Drains and stops: new requests are refused with 503, requests in flight get up to the drain
   * timeout to finish, then every session ends (open streams end too) and the server stops.
   * Idempotent. The runtime stays open.
   */
  @Override
  public void close() {
    State previous = state.getAndSet(State.CLOSED);
    if (previous != State.STARTED) {
      return;
    }
    draining = true;
    StreamableHub sessions = hub;
    if (sessions != null) { // null only if start() failed before making it
      try {
        if (!sessions.awaitQuiet(drainTimeout.toNanos())) {
          log.warn("requests still in flight after the drain timeout of {}; ending them",
              drainTimeout);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      for (StreamableSession session : sessions.sessions()) {
        session.terminate();
      }
      for (StatelessExchange listen : sessions.listens()) {
        listen.end();
      }
    }
    stopServer();
    shutdownExecutors();
    metrics.unbind();
    closeTracing();
    log.info("sentinel http stopped");
  }

  /** Exports the spans still queued and stops tracing. */
  private void closeTracing() {
    OtlpTracing open = tracing;
    if (open != null) {
      tracing = null;
      open.close();
    }
  }

  /** The operators' endpoints under /admin, which answer only paths of their own. */
  private AdminHandler admin(Guard guard, Set<String> operatorRoles) {
    Operations.Builder operations = Operations.builder()
        .killSwitch(runtime.killSwitchControl())
        .notifier(runtime.notifier())
        .pinStore(runtime.pinStore())
        .breakGlassSettings(runtime::breakGlassSettings)
        .onBreakGlassChange(runtime.breakGlassWindows()::refresh)
        .clock(clock);
    // A runtime's windows always have a store (the database's, else one in memory).
    dev.sentinel.core.breakglass.BreakGlassStore windows = runtime.breakGlassWindows().store();
    if (windows != null) {
      operations.breakGlassStore(windows);
    }
    if (keys != null) {
      operations.keyStore(keys);
    }
    if (bundles != null) {
      operations.bundleStore(bundles);
    }
    if (approvals != null) {
      operations.approvalStore(approvals);
    }
    if (auditTrail != null) {
      operations.auditTrail(auditTrail);
    }
    if (reloader != null) {
      operations.reloading(reloader);
    }
    AdminHandler.Builder admin = AdminHandler.builder()
        .runtime(runtime)
        .operations(operations.build())
        .guard(guard::hostAllowed, guard::originAllowed)
        .operator(operators::permits)
        .operatorRoles(operatorRoles)
        .principals(this::principal)
        .sessions(this::sessionCount)
        .clock(clock);
    return admin.build();
  }

  /**
   * Who a request's own credentials authenticate (as an MCP request's are), or {@code null}:
   * for the break-glass self-service endpoint.
   */
  private dev.sentinel.api.@Nullable Principal principal(
      org.eclipse.jetty.http.HttpFields headers) {
    dev.sentinel.api.Credentials credentials;
    try {
      credentials = McpHandler.credentials(headers);
    } catch (IllegalArgumentException several) {
      return null;
    }
    if (credentials == null || credentials.type() == dev.sentinel.api.Credentials.Type.NONE) {
      return null;
    }
    return runtime.sentinel().authenticate(credentials).principal();
  }

  /** The sessions' refusals and drops, counted in the gateway's metrics. */
  private static StreamableHub.Counters counters(GatewayMetrics metrics) {
    return new StreamableHub.Counters() {
      @Override
      public void refused(String cap) {
        metrics.refused(cap);
      }

      @Override
      public void eventDropped() {
        metrics.eventDropped();
      }

      @Override
      public void streamDropped(String reason) {
        metrics.streamDropped(reason);
      }
    };
  }

  private static void keepAlive(StreamableHub hub) {
    try {
      hub.keepAlive();
    } catch (RuntimeException e) {
      log.warn("writing keep-alive comments failed", e);
    }
  }

  private static void sweepHeads(HeaderDeadline heads, ServerConnector connector) {
    try {
      heads.sweep(connector.getConnectedEndPoints());
    } catch (RuntimeException e) {
      log.warn("closing connections over the header timeout failed", e);
    }
  }

  private static void checkTls(ServerTls tls) {
    try {
      tls.check();
    } catch (RuntimeException e) {
      log.error("checking the TLS certificate files failed; still serving the previous"
          + " certificate: {}", e.toString());
    }
  }

  private void expire(StreamableHub hub) {
    try {
      hub.expireIdle(sessionIdleTimeout.toNanos());
    } catch (RuntimeException e) {
      log.warn("expiring idle sessions failed", e);
    }
  }

  private void stopServer() {
    try {
      if (server != null) {
        server.stop();
      }
    } catch (Exception e) {
      log.warn("stopping the HTTP server failed: {}", e.toString());
    }
  }

  private void shutdownExecutors() {
    if (timers != null) {
      timers.shutdownNow();
    }
    if (pool != null) {
      pool.shutdown();
    }
  }

  /**
   * Runs a blocking handler on the server's pool, so that the server may be non-blocking for the
   * handlers beside it: a request the wrapped handler does not take is answered 404, as the
   * server answers a request no handler takes. A non-blocking handler is called as it is.
   */
  static final class OnPool extends Handler.Wrapper {
    OnPool(Handler handler) {
      super(handler);
    }

    @Override
    public InvocationType getInvocationType() {
      return InvocationType.NON_BLOCKING;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      Handler handler = getHandler();
      if (handler == null) {
        return false;
      }
      if (handler.getInvocationType() == InvocationType.NON_BLOCKING) {
        return handler.handle(request, response, callback);
      }
      request.getComponents().getExecutor().execute(() -> {
        try {
          if (!handler.handle(request, response, callback)) {
            Response.writeError(request, response, callback, 404);
          }
        } catch (Throwable failure) {
          callback.failed(failure);
        }
      });
      return true;
    }
  }

  /** Counts every response by status, once it has been sent (or failed). */
  private static final class CountingResponses extends Handler.Wrapper {
    private final GatewayMetrics metrics;

    CountingResponses(GatewayMetrics metrics, Handler handler) {
      super(handler);
      this.metrics = metrics;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      return super.handle(request, response, new Callback.Nested(callback) {
        @Override
        public void succeeded() {
          metrics.response(response.getStatus());
          super.succeeded();
        }

        @Override
        public void failed(Throwable cause) {
          metrics.response(response.getStatus());
          super.failed(cause);
        }
      });
    }
  }

  /**
   * Assembles an {@link HttpGateway}. Each setter validates its value at once. Not thread-safe.
   */
  public static final class Builder {
    private @Nullable GatewayRuntime runtime;
    private @Nullable Authenticator authenticator;
    private String host = "127.0.0.1";
    private int port = 0;
    private @Nullable ServerSocketChannel bound;
    private String path = "/mcp";
    private @Nullable Set<String> allowedOrigins;
    private @Nullable Set<String> allowedHosts;
    private long maxBodyBytes = -1;
    private int maxSessions = dev.sentinel.core.config.Server.DEFAULT_MAX_SESSIONS;
    private int maxSessionsPerPrincipal;
    private int maxStreamsPerPrincipal;
    private int maxConnections = dev.sentinel.core.config.Server.DEFAULT_MAX_CONNECTIONS;
    private Duration keepAlive = dev.sentinel.core.config.Server.DEFAULT_KEEP_ALIVE;
    private Duration headerTimeout = dev.sentinel.core.config.Server.DEFAULT_HEADER_TIMEOUT;
    private @Nullable Duration idleTimeout;
    private Duration sessionIdleTimeout =
        dev.sentinel.core.config.Server.DEFAULT_SESSION_IDLE_TIMEOUT;
    private Duration drainTimeout = dev.sentinel.core.config.Server.DEFAULT_DRAIN_TIMEOUT;
    private int streamEvents = DEFAULT_STREAM_EVENTS;
    private long streamBytes = DEFAULT_STREAM_BYTES;
    private int sessionEvents = DEFAULT_SESSION_EVENTS;
    private long sessionBytes = DEFAULT_SESSION_BYTES;
    private Clock clock = Clock.system();
    private Optional<Admin> admin = Optional.empty();
    private boolean publicMetrics;
    private @Nullable OAuth protectedResource;
    private @Nullable KeyStore keys;
    private @Nullable AuditTrail auditTrail;
    private @Nullable ApprovalStore approvals;
    private dev.sentinel.core.bundle.@Nullable BundleStore bundles;
    private @Nullable ConfigReloader reloader;
    private @Nullable ServerTls tls;
    private Duration tlsCheckInterval = DEFAULT_TLS_CHECK_INTERVAL;

    private Builder() {}

    /**
     * Serves HTTPS with the PEM certificate chain and PKCS#8 key (RSA or EC) of {@code tls},
     * read at once, and reloaded when the files change: new connections get the new
     * certificate, open ones keep theirs; changed files that cannot be used are logged and the
     * previous certificate keeps serving.
     *
     * @throws TlsException if a file is missing or unreadable, holds no usable PEM, or the key
     *     is not the certificate's; the message names the file
     */
    public Builder tls(dev.sentinel.core.config.Tls tls) {
      this.tls = ServerTls.load(Objects.requireNonNull(tls, "tls"));
      return this;
    }

    /** How often the TLS files are checked for a change; 1 second by default. */
    Builder tlsCheckInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("the TLS check interval must be positive");
      }
      this.tlsCheckInterval = interval;
      return this;
    }

    /** The key store the admin API's keys endpoints manage (the database's). */
    public Builder keys(KeyStore keys) {
      this.keys = Objects.requireNonNull(keys, "keys");
      return this;
    }

    /** The bundles and heartbeats of the fleet, for the admin API's fleet endpoint. */
    public Builder bundles(dev.sentinel.core.bundle.BundleStore bundles) {
      this.bundles = Objects.requireNonNull(bundles, "bundles");
      return this;
    }

    /** The approval queue the admin API's approvals endpoints decide on. */
    public Builder approvals(ApprovalStore approvals) {
      this.approvals = Objects.requireNonNull(approvals, "approvals");
      return this;
    }

    /** The audit trail the admin API's audit endpoints and the operator page read. */
    public Builder auditTrail(AuditTrail auditTrail) {
      this.auditTrail = Objects.requireNonNull(auditTrail, "auditTrail");
      return this;
    }

    /** Reloads the config file on the admin API's {@code POST /admin/api/reload}. */
    public Builder reloader(ConfigReloader reloader) {
      this.reloader = Objects.requireNonNull(reloader, "reloader");
      return this;
    }

    /** The gateway to serve; required. The HTTP gateway does not close it. */
    public Builder runtime(GatewayRuntime runtime) {
      this.runtime = Objects.requireNonNull(runtime, "runtime");
      return this;
    }

    /**
     * Who may call: every MCP request's credentials ({@code Authorization: Bearer <token>} as
     * {@link dev.sentinel.api.Credentials#bearer}, {@code X-API-Key} as
     * {@link dev.sentinel.api.Credentials#apiKey}, none as
     * {@link dev.sentinel.api.Credentials#none}) go through it; required.
     */
    public Builder authenticator(Authenticator authenticator) {
      this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
      return this;
    }

    /**
     * Every listening setting of a config's {@code server:} section: bind address and port,
     * path, allowed origins and hosts (when the section names any), session, stream and
     * connection limits, header, keep-alive, idle and drain timeouts, and TLS (whose files are
     * read at once, see {@link #tls}). Later setters override.
     */
    public Builder server(dev.sentinel.core.config.Server settings) {
      Objects.requireNonNull(settings, "settings");
      bind(settings.host(), settings.port());
      path(settings.path());
      if (!settings.allowedOrigins().isEmpty()) {
        allowedOrigins(settings.allowedOrigins());
      }
      if (!settings.allowedHosts().isEmpty()) {
        allowedHosts(settings.allowedHosts());
      }
      maxSessions(settings.maxSessions());
      maxConnections(settings.maxConnections());
      maxSessionsPerPrincipal(settings.maxSessionsPerPrincipal());
      maxStreamsPerPrincipal(settings.maxStreamsPerPrincipal());
      keepAlive(settings.keepAlive());
      headerTimeout(settings.headerTimeout());
      sessionIdleTimeout(settings.sessionIdleTimeout());
      settings.admin().ifPresent(this::admin);
      settings.tls().ifPresent(this::tls);
      publicMetrics(settings.publicMetrics());
      if (settings.jwt().isPresent() || !settings.oauth().authorizationServers().isEmpty()) {
        protectedResource(settings.oauth(), settings.jwt().map(Jwt::issuer).orElse(null));
      }
      return drainTimeout(settings.drainTimeout());
    }

    /**
     * Serves OAuth 2.0 Protected Resource Metadata (RFC 9728) at
     * {@code /.well-known/oauth-protected-resource} and at that path followed by the MCP path,
     * without credentials (Host-checked), and points every 401's {@code WWW-Authenticate} to it
     * with {@code resource_metadata}, as MCP clients expect before they ask the authorization
     * server for a token. Not served by default.
     *
     * @param metadata what to publish; its resource defaults to the MCP endpoint's URL
     * @param issuer the authorization server to publish when {@code metadata} names none (the
     *     JWT issuer), or {@code null}
     */
    public Builder protectedResource(OAuth metadata, @Nullable String issuer) {
      Objects.requireNonNull(metadata, "metadata");
      OAuth resolved = metadata;
      if (metadata.authorizationServers().isEmpty() && issuer != null) {
        try {
          resolved = new OAuth(metadata.resource(), List.of(URI.create(issuer)), metadata.scopesSupported());
        } catch (IllegalArgumentException notAUri) {
          throw new IllegalArgumentException("the issuer is not a URL; name the authorization"
              + " servers in the oauth section", notAUri);
        }
      }
      this.protectedResource = resolved;
      return this;
    }

    /**
     * The operators' credentials: the admin endpoints are served only with them, and only to
     * requests that present the token as {@code Authorization: Bearer}.
     */
    public Builder admin(Admin admin) {
      this.admin = Optional.of(Objects.requireNonNull(admin, "admin"));
      return this;
    }

    /**
     * Whether {@code /metrics} is served to anyone who can reach the gateway (and passes the Host
     * check), for a Prometheus on a private network; by default only to the admin token, and not
     * at all without one. Public metrics reveal tool, backend and rule names and call counts.
     */
    public Builder publicMetrics(boolean open) {
      this.publicMetrics = open;
      return this;
    }

    /**
     * The address and port to listen on; {@code 127.0.0.1} and an ephemeral port by default.
     * A non-loopback address exposes the gateway: set {@link #allowedHosts} to the names
     * clients use.
     *
     * @param port 0 for an ephemeral port, else 1 to 65535
     */
    public Builder bind(String host, int port) {
      Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("bind host must not be blank");
      }
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be 0 (ephemeral) to 65535, was " + port);
      }
      this.host = host.trim();
      this.port = port;
      return this;
    }

    /**
     * Serve on a channel already bound, instead of binding {@link #bind}'s port in
     * {@link HttpGateway#start()}: a caller binds first so that a port in use is found before
     * anything else starts (the CLI binds before it spawns the backends). The gateway owns the
     * channel from {@code start} on and closes it when it closes. {@link #bind}'s host still
     * names the address for the Host check; the port is the channel's.
     */
    public Builder channel(ServerSocketChannel bound) {
      this.bound = Objects.requireNonNull(bound, "bound");
      return this;
    }

    /** The MCP endpoint's path; {@code /mcp} by default. */
    public Builder path(String path) {
      Objects.requireNonNull(path, "path");
      if (!path.startsWith("/") || path.length() < 2 || path.contains("?") || path.contains("#")) {
        throw new IllegalArgumentException("path must start with '/' and name an endpoint, was '" + path + "'");
      }
      if (path.equals("/healthz") || path.equals("/livez") || path.equals("/readyz")
          || path.equals("/metrics")) {
        throw new IllegalArgumentException("path " + path + " is taken by a health or metrics endpoint");
      }
      this.path = path;
      return this;
    }

    /**
     * The origins browsers may call from: {@code scheme://host[:port]}, {@code scheme://host:*}
     * for any port, or {@code *} for any origin. By default loopback origins
     * ({@code http(s)://localhost}, {@code 127.0.0.1}, {@code [::1]}) on any port. A request
     * with another {@code Origin} is refused with 403; requests without one (non-browser
     * clients) pass.
     */
    public Builder allowedOrigins(Set<String> origins) {
      this.allowedOrigins = entries(origins, "allowedOrigins");
      return this;
    }

    /**
     * The {@code Host} header values accepted: {@code host:port}, {@code host} (any port) or
     * {@code *} (no check). By default {@code localhost}, {@code 127.0.0.1} and {@code [::1]}
     * with the bound port, and the bind address itself when it is a specific one. Another Host
     * is refused with 403: this is what stops DNS rebinding.
     */
    public Builder allowedHosts(Set<String> hosts) {
      this.allowedHosts = entries(hosts, "allowedHosts");
      return this;
    }

    /** The largest request body accepted; by default the runtime's message limit. Bigger bodies get 413. */
    public Builder maxBodyBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxBodyBytes must be positive, was " + bytes);
      }
      this.maxBodyBytes = bytes;
      return this;
    }

    /** How many sessions may be open at once; 1000 by default. More initializes get 503. */
    public Builder maxSessions(int sessions) {
      if (sessions < 1) {
        throw new IllegalArgumentException("maxSessions must be at least 1, was " + sessions);
      }
      this.maxSessions = sessions;
      return this;
    }

    /**
     * How many sessions one principal may hold at once; by default a quarter of
     * {@link #maxSessions} (at least 1), so that one caller cannot take every session. More
     * initializes of that principal get 503 naming {@code max_sessions_per_principal}.
     */
    public Builder maxSessionsPerPrincipal(int sessions) {
      if (sessions < 1) {
        throw new IllegalArgumentException("maxSessionsPerPrincipal must be at least 1, was " + sessions);
      }
      this.maxSessionsPerPrincipal = sessions;
      return this;
    }

    /**
     * How many SSE streams (GET streams and POST answers streamed as SSE) one principal may hold
     * open at once; by default a quarter of {@link #maxConnections} (at least 1), since each
     * holds a connection. Over it, a GET (or a POST whose client accepts only SSE) gets 503
     * naming {@code max_streams_per_principal}; a POST whose client accepts JSON is answered in
     * JSON, its request's messages going to the session's GET stream.
     */
    public Builder maxStreamsPerPrincipal(int streams) {
      if (streams < 1) {
        throw new IllegalArgumentException("maxStreamsPerPrincipal must be at least 1, was " + streams);
      }
      this.maxStreamsPerPrincipal = streams;
      return this;
    }

    /**
     * How many TCP connections may be open at once; 1000 by default. Beyond it, new connections
     * are not accepted until one closes (they wait in the listen backlog), so a flood of
     * connections costs no parsing and does not starve open sessions.
     */
    public Builder maxConnections(int connections) {
      if (connections < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1, was " + connections);
      }
      this.maxConnections = connections;
      return this;
    }

    /**
     * The interval of the {@code : keep-alive} comment on open SSE streams; 25 s by default
     * (proxies such as Cloudflare close streams idle for 100 s).
     */
    public Builder keepAlive(Duration interval) {
      this.keepAlive = positive(interval, "keepAlive");
      return this;
    }

    /**
     * How long a request's head (request line and headers) may take to arrive, counted from the
     * connection's opening for its first request and from its first bytes for a later one; a
     * connection over it is closed. 10 s by default. The idle timeout cannot do this: it never
     * fires for a client that sends a header line every few seconds. Measured on the
     * {@link #clock}.
     */
    public Builder headerTimeout(Duration timeout) {
      this.headerTimeout = positive(timeout, "headerTimeout");
      return this;
    }

    /**
     * How long a connection may stay silent (no bytes either way) before it is closed: a client
     * that stalls while sending a request is cut after it, with no thread waiting meanwhile. By
     * default twice {@link #keepAlive} plus 5 s, at least 30 s; it must exceed the keep-alive
     * interval, or idle SSE streams would be cut.
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = positive(timeout, "idleTimeout");
      return this;
    }

    /** How long a session may go unused (no request, no open stream) before it ends; 30 min by default. */
    public Builder sessionIdleTimeout(Duration timeout) {
      this.sessionIdleTimeout = positive(timeout, "sessionIdleTimeout");
      return this;
    }

    /** How long {@link HttpGateway#close()} waits for requests in flight; 10 s by default. */
    public Builder drainTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "drainTimeout");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("drainTimeout must not be negative, was " + timeout);
      }
      this.drainTimeout = timeout;
      return this;
    }

    /**
     * What one SSE stream keeps for delivery and resumption: its last {@code events} events, at
     * most {@code bytes} (a single larger message is still kept); 256 events and 1 MiB by
     * default. Older events are dropped first. A stream's connection may hold twice as much
     * written but not yet taken by the client's socket; a connection over that is dropped (its
     * client does not read), its events staying in the stream for a resumption.
     */
    public Builder streamBuffer(int events, long bytes) {
      if (events < 1 || bytes < 1) {
        throw new IllegalArgumentException("streamBuffer must be positive, was " + events + " events and "
            + bytes + " bytes");
      }
      this.streamEvents = events;
      this.streamBytes = bytes;
      return this;
    }

    /**
     * What one session may hold for its client, all its streams and connections together: 1024
     * events and 4 MiB by default. Beyond it the session forgets events already delivered, then
     * undelivered events of streams nobody reads, then drops the connection holding the most
     * unwritten output. A client that stops reading costs the gateway at most this.
     */
    public Builder sessionBuffer(int events, long bytes) {
      if (events < 1 || bytes < 1) {
        throw new IllegalArgumentException("sessionBuffer must be positive, was " + events + " events and "
            + bytes + " bytes");
      }
      this.sessionEvents = events;
      this.sessionBytes = bytes;
      return this;
    }

    /** The clock for session expiry and the header timeout; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the gateway; call {@link HttpGateway#start()} next.
     *
     * @throws IllegalStateException if the runtime or the authenticator is missing
     */
    public HttpGateway build() {
      if (runtime == null) {
        throw new IllegalStateException("a runtime is required");
      }
      if (authenticator == null) {
        throw new IllegalStateException("an authenticator is required");
      }
      if (maxSessionsPerPrincipal > maxSessions) {
        throw new IllegalStateException("maxSessionsPerPrincipal (" + maxSessionsPerPrincipal
            + ") must not exceed maxSessions (" + maxSessions + ")");
      }
      if (idleTimeout != null && idleTimeout.compareTo(keepAlive) <= 0) {
        throw new IllegalStateException("idleTimeout (" + idleTimeout + ") must be longer than keepAlive ("
            + keepAlive + "), or idle streams would be cut between keep-alive comments");
      }
      return new HttpGateway(this);
    }

    private static Set<String> entries(Set<String> values, String name) {
      Objects.requireNonNull(values, name);
      Set<String> copy = new LinkedHashSet<>();
      for (String value : values) {
        if (value == null || value.isBlank()) {
          throw new IllegalArgumentException(name + " must not contain blank entries");
        }
        copy.add(value.trim());
      }
      return Set.copyOf(copy);
    }

    private static Duration positive(Duration duration, String name) {
      Objects.requireNonNull(duration, name);
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + duration);
      }
      return duration;
    }
  }
}
