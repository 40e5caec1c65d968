package dev.sentinel.core.gateway;

import dev.sentinel.api.AuditSink;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.Transport;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.SentinelListener;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.JsonLinesAuditSink;
import dev.sentinel.core.audit.Slf4jAuditSink;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.core.mcp.BackendStatus;
import dev.sentinel.core.mcp.ClientSession;
import dev.sentinel.core.mcp.McpGateway;
import dev.sentinel.core.transport.FrameLimits;
import dev.sentinel.core.transport.HttpSpec;
import dev.sentinel.core.transport.ProcessSpec;
import dev.sentinel.core.transport.ProcessTransport;
import dev.sentinel.core.transport.StreamableHttpTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A gateway assembled from its configuration: the governance pipeline ({@link Sentinel}) and the
 * MCP engine ({@link McpGateway}) with a connector per backend. The runners only add the
 * client-facing transport: stdin/stdout for {@code sentinel stdio}, HTTP for {@code sentinel
 * http}.
 *
 * <p>A database (API keys for {@code identity.api_key}, the {@code database} audit sink) comes in
 * as {@link Stores}: core does not depend on sentinel-jdbc, whose {@code JdbcStores.open(
 * config.database(), clock)} the runners pass in.
 *
 * <pre>{@code
 * try (GatewayRuntime runtime = GatewayRuntime.start(config, Clock.system(), stores)) {
 *   runtime.serve(StdioTransport.of(System.in, System.out, runtime.frameLimits()), "stdio")
 *       .closed().join();
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #close()} ends client sessions, stops backends (terminating child
 * processes), flushes the audit trail and closes the stores.
 */
public final class GatewayRuntime implements AutoCloseable {
  private static final int STDERR_TAIL_BYTES = 16 * 1024;
  private static final Duration STOP_GRACE = Duration.ofSeconds(2);
  private static final int DATABASE_BATCH = 4096;

  private final GatewayConfig config;
  private final Sentinel sentinel;
  private final McpGateway gateway;
  private final FrameLimits limits;
  private final Stores stores;
  private final Listeners listeners;

  private GatewayRuntime(GatewayConfig config, Sentinel sentinel, McpGateway gateway,
      FrameLimits limits, Stores stores, Listeners listeners) {
    this.config = config;
    this.sentinel = sentinel;
    this.gateway = gateway;
    this.limits = limits;
    this.stores = stores;
    this.listeners = listeners;
  }

  /**
   * Starts a gateway without a database ({@link Stores#none()}): for configs that use neither
   * {@code identity.api_key} nor a {@code database} audit sink.
   *
   * @throws dev.sentinel.api.SentinelException when the configuration cannot be served here,
   *     such as one that needs a database
   */
  public static GatewayRuntime start(GatewayConfig config, Clock clock) {
    return start(config, clock, Stores.none());
  }

  /**
   * Builds the pipeline and the engine from the config and starts the backends, waiting up to
   * the configured start timeout for them to initialize (a backend that does not is retried in
   * the background; the others serve).
   *
   * @param stores the config's database (usually sentinel-jdbc's {@code JdbcStores}); the
   *     runtime owns them from now on and closes them when it closes or fails to start
   * @throws dev.sentinel.api.SentinelException when the configuration cannot be served here,
   *     such as one that needs a database when {@code stores} has none
   */
  public static GatewayRuntime start(GatewayConfig config, Clock clock, Stores stores) {
    return start(config, clock, stores, null);
  }

  /**
   * Like {@link #start(GatewayConfig, Clock, Stores)}, for gateways whose clients present their
   * own credentials (HTTP): every call is authenticated by {@code clients} instead of the
   * config's {@code identity}.
   *
   * @param clients the authenticator of client credentials (API keys, tokens); {@code null} for
   *     the config's identity
   */
  public static GatewayRuntime start(
      GatewayConfig config, Clock clock, Stores stores, Authenticator clients) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(stores, "stores");
    Sentinel sentinel;
    Listeners listeners = new Listeners();
    try {
      sentinel = sentinel(config, clock, stores, clients, listeners);
    } catch (RuntimeException e) {
      stores.close();
      throw e;
    }
    Gateway settings = config.gateway();
    FrameLimits limits = new FrameLimits(
        (int) Math.min(Integer.MAX_VALUE, settings.maxMessageBytes()), settings.maxDepth());
    McpGateway.Builder builder = McpGateway.builder()
        .sentinel(sentinel)
        .clock(clock)
        .namespacing(settings.namespacing().separator(), settings.namespacing().prefixSingleBackend())
        .requestTimeout(settings.requestTimeout())
        .startTimeout(settings.startTimeout())
        .maxPendingRequests(settings.maxPendingRequests())
        .serverInfo(settings.name(), version());
    for (Backend backend : config.backends()) {
      builder.backend(backend.name(), connector(backend, limits));
    }
    McpGateway gateway = builder.build();
    GatewayRuntime runtime = new GatewayRuntime(config, sentinel, gateway, limits, stores, listeners);
    try {
      gateway.start();
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
    return runtime;
  }

  /** Serves one MCP client over the transport, with the config's identity (stdio). */
  public ClientSession serve(Transport client, String clientLabel) {
    return serve(client, config.identity().credentials(), clientLabel);
  }

  /**
   * Serves one MCP client over the transport with the credentials it presented (HTTP: each
   * session's bearer token or API key). Every request of the session is authenticated with them.
   */
  public ClientSession serve(Transport client, Credentials credentials, String clientLabel) {
    return gateway.serve(client, credentials, clientLabel);
  }

  /** The message limits for client-facing transports. */
  public FrameLimits frameLimits() {
    return limits;
  }

  /** The backends' states. */
  public Map<String, BackendStatus> backends() {
    return gateway.backends();
  }

  /**
   * Adds an observer of every governed call's final audit event (metrics, alerts), from now on;
   * listeners belong to the runtime, not to one pipeline. Thread-safe; a listener must be fast
   * and thread-safe (it runs on the calling thread), and whatever it throws is caught.
   */
  public void addListener(SentinelListener listener) {
    listeners.all.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Removes a listener added with {@link #addListener}; does nothing if it is not there. */
  public void removeListener(SentinelListener listener) {
    listeners.all.remove(listener);
  }

  /**
   * Whether a backend listed this tool (as clients name it) to any client so far: the bounded
   * set of tool names metrics may use as labels ({@link McpGateway#listedTool}).
   */
  public boolean listedTool(String name) {
    return gateway.listedTool(name);
  }

  /** The pipeline, for its kill switch and audit statistics. */
  public Sentinel sentinel() {
    return sentinel;
  }

  /** Ends sessions, stops backends, flushes the audit trail and closes the stores. */
  @Override
  public void close() {
    try {
      gateway.close();
    } finally {
      try {
        sentinel.close();
      } finally {
        stores.close();
      }
    }
  }

  /** The governance pipeline the config describes, on the given stores. */
  static Sentinel sentinel(GatewayConfig config, Clock clock, Stores stores, Authenticator clients,
      SentinelListener listener) {
    Authenticator authenticator;
    if (clients != null) {
      authenticator = clients;
    } else if (config.identity().apiKey() != null) {
      KeyStore keys = stores.keyStore().orElseThrow(() -> new GatewayConfigUnsupported(
          config.source() + ": identity.api_key is verified against the database's key store,"
              + " but the gateway was started without a database"));
      authenticator = ApiKeys.create(keys, clock).authenticator();
    } else {
      authenticator = Authenticator.fixed(config.identity().principal());
    }
    KillSwitch killSwitch = KillSwitch.create();
    killSwitch.replace(config.killSwitch());
    return Sentinel.builder()
        .clock(clock)
        .instance(config.gateway().name() + "-" + ProcessHandle.current().pid())
        .revision(config.revision())
        .authenticator(authenticator)
        .policy(config.policy())
        .limits(Limits.of(config.policy().limits(),
            stores.rateLimiter().orElseGet(() -> LocalRateLimiter.create(clock))))
        .killSwitch(killSwitch)
        .audit(dispatcher(config, clock, stores))
        .auditMode(config.audit().mode())
        .listener(listener)
        .build();
  }

  private static AuditDispatcher dispatcher(GatewayConfig config, Clock clock, Stores stores) {
    Audit audit = config.audit();
    List<AuditSink> sinks = new ArrayList<>();
    try {
      for (Audit.Sink sink : audit.sinks()) {
        if (sink instanceof Audit.JsonLinesSink) {
          Audit.JsonLinesSink jsonl = (Audit.JsonLinesSink) sink;
          sinks.add(JsonLinesAuditSink.open(jsonl.file(), jsonl.fsync()));
        } else if (sink instanceof Audit.Slf4jSink) {
          sinks.add(Slf4jAuditSink.create(((Audit.Slf4jSink) sink).logger()));
        } else {
          sinks.add(stores.auditSink().orElseThrow(() -> new GatewayConfigUnsupported(
              config.source() + ": the database audit sink"
                  + (config.audit().equals(Audit.DEFAULTS) ? " (the default without an audit: "
                      + "section)" : "")
                  + " needs the gateway's database, but the gateway was started without one")));
        }
      }
    } catch (RuntimeException e) {
      for (AuditSink opened : sinks) {
        try {
          opened.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
    AuditDispatcher.Builder builder = AuditDispatcher.builder()
        .clock(clock)
        // Group commit takes only what is queued, so a large batch costs nothing when idle and
        // lets a database keep up under load (SQLite: 41k rows/s at 512, 51k at 4096).
        .batchSize(audit.usesDatabase() ? DATABASE_BATCH : AuditDispatcher.DEFAULT_BATCH_SIZE)
        .capacity(audit.queueCapacity())
        .whenFull(audit.whenFull())
        .onSinkFailure(audit.onSinkFailure());
    sinks.forEach(builder::sink);
    return builder.build();
  }

  private static Supplier<Transport> connector(Backend backend, FrameLimits limits) {
    if (backend instanceof StdioBackend) {
      StdioBackend stdio = (StdioBackend) backend;
      ProcessSpec spec = new ProcessSpec(stdio.name(), stdio.command(), stdio.env(), stdio.cwd(),
          limits, STDERR_TAIL_BYTES, STOP_GRACE);
      return () -> {
        try {
          return ProcessTransport.start(spec);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
    }
    HttpBackend http = (HttpBackend) backend;
    HttpSpec spec = new HttpSpec(http.name(), http.url(), http.headers(), http.connectTimeout(),
        http.requestTimeout(), limits);
    return () -> StreamableHttpTransport.connect(spec);
  }

  private static String version() {
    String version = GatewayRuntime.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }

  /** The runtime's listeners, behind the one listener its pipeline has. */
  private static final class Listeners implements SentinelListener {
    final List<SentinelListener> all = new CopyOnWriteArrayList<>();

    @Override
    public void completed(dev.sentinel.api.AuditEvent event) {
      RuntimeException first = null;
      for (SentinelListener listener : all) {
        try {
          listener.completed(event);
        } catch (RuntimeException e) {
          first = first == null ? e : first; // one failing listener does not silence the others
        }
      }
      if (first != null) {
        throw first; // counted and logged by the pipeline
      }
    }
  }

  /** A configuration this build cannot serve. */
  static final class GatewayConfigUnsupported extends dev.sentinel.api.SentinelException {
    private static final long serialVersionUID = 1L;

    GatewayConfigUnsupported(String message) {
      super(message);
    }
  }
}
