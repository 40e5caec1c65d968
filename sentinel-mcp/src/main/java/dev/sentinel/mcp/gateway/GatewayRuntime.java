package dev.sentinel.mcp.gateway;

import dev.sentinel.api.AuditSink;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Confirmer;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.api.Transport;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallTracer;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.SentinelListener;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.JsonLinesAuditSink;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.audit.Slf4jAuditSink;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.config.Audit;
import dev.sentinel.core.config.Backend;
import dev.sentinel.core.bundle.RunningBundle;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.Gateway;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.HttpBackend;
import dev.sentinel.core.config.StdioBackend;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.config.Units;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.killswitch.KillSwitchStore;
import dev.sentinel.core.approval.ApprovalConfirmer;
import dev.sentinel.core.approval.RoutingConfirmer;
import dev.sentinel.core.policy.ConfirmSettings;
import dev.sentinel.core.config.NotifySettings;
import dev.sentinel.core.notify.Notification;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.core.operator.KillSwitchControl;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.mcp.engine.BackendStatus;
import dev.sentinel.mcp.engine.ClientSession;
import dev.sentinel.mcp.engine.InitializeAnswer;
import dev.sentinel.mcp.engine.McpGateway;
import dev.sentinel.mcp.transport.FrameLimits;
import dev.sentinel.mcp.transport.HttpSpec;
import dev.sentinel.mcp.transport.ProcessSpec;
import dev.sentinel.mcp.transport.ProcessTransport;
import dev.sentinel.mcp.transport.StreamableHttpTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import dev.sentinel.core.breakglass.BreakGlassWindows;
import dev.sentinel.core.breakglass.InMemoryBreakGlassStore;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

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
 * <p><b>Housekeeping.</b> One daemon thread ({@code sentinel-maintenance}), started only when
 * there is work for it, keeps slow database work off the request path: it purges audit records
 * older than {@code audit.retention} at start and then every hour (or every retention, if
 * shorter; see {@link #purgeAudit()}), sweeps the stores every minute ({@link Stores#sweep()},
 * such as expired shared rate-limit buckets), and follows the shared kill switch.
 *
 * <p><b>Kill switch.</b> What is switched off is the union of two parts: the config's {@code
 * kill_switch:} section, always on while the config is loaded, and the operators' state, set
 * through {@link #updateKillSwitch} (the admin API) and, when the stores have a {@link
 * KillSwitchStore}, shared by every gateway on the database: loaded at start, read again every
 * {@code database.sync_interval} (and at once on PostgreSQL's {@code NOTIFY}). Where both name
 * the same target, the config's reason is shown. Operators cannot switch the config's entries
 * back on: edit the config for that.
 *
 * <p><b>Reload.</b> {@link #reload} swaps a new config's policy, limits, kill-switch entries and
 * revision in while the gateway serves; sections that need a restart (backends, {@code gateway:},
 * {@code identity:}, {@code audit:}, {@code database:}, {@code server:}) make it refuse.
 *
 * <p>Thread-safe. {@link #close()} ends client sessions, stops backends (terminating child
 * processes), flushes the audit trail and closes the stores.
 */
public final class GatewayRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayRuntime.class);
  private static final int STDERR_TAIL_BYTES = 16 * 1024;
  private static final Duration STOP_GRACE = Duration.ofSeconds(2);
  private static final int DATABASE_BATCH = 4096;
  /**
   * How long a database sink's writer waits for more records after the first of a batch: a
   * SQLite commit syncs its rollback journal and the database, about 1 ms of CPU and several of
   * waiting whatever the batch holds (BENCHMARKS.md), so at a few hundred calls per second each
   * record would otherwise be a commit of its own. Durable records do not wait.
   */
  private static final Duration DATABASE_LINGER = Duration.ofMillis(50);
  /**
   * How often a busy audit writer looks at its queue instead of being woken by each event: a
   * thread wake-up costs the stdio gateway about 20 µs of CPU on a small VM (BENCHMARKS.md), and a
   * client calling back to back would get one per call. Only while calls come at least every
   * 0.5 ms (a client at machine speed, not a person's agent); records then reach the sinks at most
   * 1 ms later, in batches small enough not to hold up the calls for long.
   */
  private static final Duration AUDIT_POLL = Duration.ofMillis(1);
  private static final Duration MAX_PURGE_INTERVAL = Duration.ofHours(1);
  private static final Duration SWEEP_INTERVAL = Duration.ofMinutes(1);
  private static final Duration MAINTENANCE_STOP = Duration.ofSeconds(5);

  private volatile GatewayConfig config;
  private final Clock clock;
  private final RateLimiter limiter;
  private final Sentinel sentinel;
  private final McpGateway gateway;
  private final FrameLimits limits;
  private final Stores stores;
  private final Listeners listeners;
  private final List<SharedHttpClient> httpClients;
  private final @Nullable KillSwitchStore killSwitchStore; // null without a shared kill switch
  private final Object killSwitchLock = new Object();
  private final Notifier notifier;
  private final Object driftLock = new Object();
  private volatile @Nullable String drift; // guarded by driftLock for writes
  private KillSwitch.State operatorKillSwitch = KillSwitch.State.EMPTY; // guarded by lock
  // guarded by killSwitchLock; null before the first read
  private KillSwitch.@Nullable State lastStored;
  private @Nullable ScheduledExecutorService maintenance; // null when there is nothing to do
  private KillSwitchStore.@Nullable Watch killSwitchWatch; // null without a store

  private GatewayRuntime(GatewayConfig config, Clock clock, RateLimiter limiter,
      Sentinel sentinel, McpGateway gateway, FrameLimits limits, Stores stores,
      Listeners listeners, List<SharedHttpClient> httpClients, Notifier notifier) {
    this.notifier = notifier;
    this.httpClients = List.copyOf(httpClients);
    this.config = config;
    this.clock = clock;
    this.limiter = limiter;
    this.sentinel = sentinel;
    this.gateway = gateway;
    this.limits = limits;
    this.stores = stores;
    this.listeners = listeners;
    this.killSwitchStore = stores.killSwitchStore().orElse(null);
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
      GatewayConfig config, Clock clock, Stores stores, @Nullable Authenticator clients) {
    return start(config, clock, stores, clients, false);
  }

  /**
   * Like {@link #start(GatewayConfig, Clock, Stores)}, but returns without waiting for the
   * backends: they come up in the background, each announced to the clients by its {@code
   * list_changed} notifications, and a call for one that has not come up yet is answered at once
   * with the retryable {@code -32019} (see {@link McpGateway#startInBackground()}). For {@code
   * sentinel stdio}, whose client times its {@code initialize}.
   *
   * @throws dev.sentinel.api.SentinelException when the configuration cannot be served here
   */
  public static GatewayRuntime startInBackground(GatewayConfig config, Clock clock, Stores stores) {
    return start(config, clock, stores, null, true);
  }

  private static GatewayRuntime start(
      GatewayConfig config, Clock clock, Stores stores, @Nullable Authenticator clients,
      boolean background) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(stores, "stores");
    if (config.fromBundle().isPresent()) {
      // Before anything starts: a gateway that cannot keep its rollback floor does not serve.
      try {
        config.fromBundle().get().commit(clock.instant());
      } catch (RuntimeException e) {
        stores.close();
        throw e;
      }
    }
    Sentinel sentinel;
    Listeners listeners = new Listeners();
    RateLimiter limiter;
    Notifier notifier = notifier(config);
    try {
      limiter = stores.rateLimiter(config.sharedState().limits())
          .orElseGet(() -> LocalRateLimiter.create(clock));
      sentinel = sentinel(config, clock, stores, clients, limiter, listeners, notifier);
    } catch (RuntimeException e) {
      notifier.close();
      stores.close();
      throw e;
    }
    if (config.audit().digestKey() != null) {
      LOG.info("audit digests are keyed with audit.digest_key (key id {})",
          config.audit().digestKey().id());
    } else {
      LOG.info("audit digests are keyed with a random key of this process (key id {}); set"
          + " audit.digest_key to compare them across restarts and replicas",
          Redactor.defaults().digestKey().id());
    }
    Gateway settings = config.gateway();
    FrameLimits limits = FrameLimits.of(settings);
    McpGateway.Builder builder = McpGateway.builder()
        .sentinel(sentinel)
        .clock(clock)
        .namespacing(settings.namespacing().separator(), settings.namespacing().prefixSingleBackend())
        .requestTimeout(settings.requestTimeout())
        .startTimeout(settings.startTimeout())
        .maxPendingRequests(settings.maxPendingRequests())
        .maxInFlightPerPrincipal(settings.maxInFlightPerPrincipal())
        .maxTasksPerPrincipal(settings.maxTasksPerPrincipal())
        .maxTasks(settings.maxTasks())
        .serverInfo(settings.name(), version());
    // Pins shared by every gateway on the database; else in this process's memory.
    stores.pinStore().ifPresent(builder::pinStore);
    builder.notifier(notifier);
    // Replicas on one database redeem each state once between them, and without
    // audit.digest_key sign with the key they keep there.
    stores.requestStateLedger().ifPresent(builder::requestStateLedger);
    if (config.audit().digestKey() != null) {
      // Replicas share audit.digest_key: the key of their input_required states derives from it
      // (a keyed digest of a fixed label, never the key itself), so any of them takes an answer.
      String derived = config.audit().digestKey()
          .digest(tools.jackson.databind.node.JsonNodeFactory.instance.stringNode("sentinel request state key"))
          .digest();
      builder.requestStateKey(derived.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    // Gateways whose clients present their own credentials (HTTP) serve many clients.
    boolean manyClients = clients != null;
    List<SharedHttpClient> httpClients = new ArrayList<>();
    for (Backend backend : config.backends()) {
      builder.backend(backend.name(), connector(backend, limits, httpClients),
          backend.connections().options(backend, manyClients));
    }
    McpGateway gateway;
    try {
      gateway = builder.build();
    } catch (RuntimeException e) {
      sentinel.close();
      notifier.close();
      stores.close();
      throw e;
    }
    GatewayRuntime runtime = new GatewayRuntime(
        config, clock, limiter, sentinel, gateway, limits, stores, listeners, httpClients,
        notifier);
    try {
      runtime.startMaintenance();
      if (background) {
        gateway.startInBackground();
      } else {
        gateway.start();
      }
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
    config.fromBundle().ifPresent(bundle -> runtime.recordBundle(bundle,
        bundle.rollback() && bundle.rollbackAuthority() == null
            ? "operator (started allowing a rollback)" : "sentinel",
        bundle.previous().map(p -> p.digest() + " (sequence " + p.sequence() + ")").orElse(null)));
    return runtime;
  }

  /**
   * Loads the shared kill switch (so that the first request already obeys it) and schedules the
   * housekeeping there is to do.
   */
  private void startMaintenance() {
    if (killSwitchStore != null) {
      syncKillSwitch();
    }
    Duration retention = config.audit().retention();
    boolean sweep = stores.rateLimiter().isPresent();
    // Windows opened on other gateways, and windows that expired (closed and announced).
    boolean breakGlass = stores.breakGlassStore().isPresent()
        || config.policy().breakGlass().isPresent();
    if (retention == null && killSwitchStore == null && !sweep && !breakGlass) {
      return;
    }
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "sentinel-maintenance");
      thread.setDaemon(true);
      return thread;
    });
    synchronized (this) {
      maintenance = executor;
    }
    if (retention != null) {
      Duration every = retention.compareTo(MAX_PURGE_INTERVAL) < 0 ? retention : MAX_PURGE_INTERVAL;
      executor.scheduleWithFixedDelay(() -> quietly("purge the audit trail", this::purgeAudit),
          0, every.toMillis(), TimeUnit.MILLISECONDS);
    }
    if (sweep) {
      executor.scheduleWithFixedDelay(() -> quietly("sweep the database", stores::sweep),
          SWEEP_INTERVAL.toMillis(), SWEEP_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }
    if (breakGlass) {
      long period = config.database().syncInterval().toMillis();
      executor.scheduleWithFixedDelay(() -> quietly("read the break-glass windows",
          sentinel.breakGlass()::refresh), period, period, TimeUnit.MILLISECONDS);
    }
    if (killSwitchStore != null) {
      long period = config.database().syncInterval().toMillis();
      Runnable sync = () -> quietly("read the shared kill switch", this::syncKillSwitch);
      executor.scheduleWithFixedDelay(sync, period, period, TimeUnit.MILLISECONDS);
      KillSwitchStore.Watch watch = killSwitchStore.watch(() -> {
        try {
          executor.execute(sync);
        } catch (RejectedExecutionException e) {
          // Closing: nothing left to keep in step.
        }
      });
      synchronized (this) {
        killSwitchWatch = watch;
      }
    }
  }

  private static void quietly(String what, Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      // A scheduled task that throws is never run again: log, and try at the next run.
      LOG.warn("cannot {}; trying again later: {}", what, e.toString());
    }
  }

  /** Serves one MCP client over the transport, with the config's identity (stdio). */
  public ClientSession serve(Transport client, String clientLabel) {
    return serve(client, config.identity().credentials(), clientLabel);
  }

  /**
   * Serves one MCP client over the transport, with the config's identity (stdio), whose {@code
   * initialize} request was answered before this runtime was built; see {@link
   * McpGateway#serve(Transport, Credentials, Principal, String, JsonNode)}.
   *
   * @param answeredAhead the request {@link dev.sentinel.mcp.engine.InitializeAnswer#ahead}
   *     answered, or {@code null}
   */
  public ClientSession serve(Transport client, String clientLabel, @Nullable JsonNode answeredAhead) {
    return gateway.serve(client, config.identity().credentials(), null, clientLabel, answeredAhead);
  }

  /**
   * Serves one MCP client over the transport with the credentials it presented (HTTP: each
   * session's bearer token or API key). Every request of the session is authenticated with them.
   */
  public ClientSession serve(Transport client, Credentials credentials, String clientLabel) {
    return gateway.serve(client, credentials, clientLabel);
  }

  /**
   * Serves one MCP client over a transport that authenticated its credentials already, with the
   * runtime's authenticator; see {@link McpGateway#serve(Transport, Credentials, Principal,
   * String)}. A {@code null} principal: the engine authenticates the credentials itself.
   */
  public ClientSession serve(Transport client, Credentials credentials,
      @Nullable Principal authenticated, String clientLabel) {
    return gateway.serve(client, credentials, authenticated, clientLabel);
  }

  /**
   * Serves one stateless (MCP 2026-07-28) exchange with the credentials its request presented;
   * see {@link McpGateway#serveExchange}.
   */
  public ClientSession serveExchange(Transport client, Credentials credentials, String clientLabel) {
    return gateway.serveExchange(client, credentials, clientLabel);
  }

  /**
   * Serves one stateless exchange over HTTP, authenticated already, with its {@code Mcp-Param-*}
   * headers; see {@link McpGateway#serveExchange(Transport, Credentials, Principal, String, Map)}.
   * A {@code null} principal: the engine authenticates the credentials itself.
   */
  public ClientSession serveExchange(Transport client, Credentials credentials,
      @Nullable Principal authenticated,
      String clientLabel, Map<String, java.util.List<String>> paramHeaders) {
    return gateway.serveExchange(client, credentials, authenticated, clientLabel, paramHeaders);
  }

  /**
   * The tool-definition pins as operators change them through this gateway (the operator
   * service's {@code Operations.Builder#pinStore}): the database's when the stores have one,
   * else this process's; a change applies here at once.
   */
  public dev.sentinel.core.pinning.PinStore pinStore() {
    return gateway.pinStore();
  }

  /**
   * The break-glass windows this gateway's calls are decided with: for the operator service's
   * {@code Operations.Builder#breakGlassStore} (their {@code store()}) and {@code
   * onBreakGlassChange} (their {@code refresh}), so that a window opened here applies at once.
   */
  public BreakGlassWindows breakGlassWindows() {
    return sentinel.breakGlass();
  }

  /**
   * The {@code break_glass:} section of the policy in force (it follows reloads); empty when the
   * policy has none, and then no window can be opened.
   */
  public java.util.Optional<dev.sentinel.core.policy.BreakGlassSettings> breakGlassSettings() {
    return config.policy().breakGlass();
  }

  /** How many listed tool definitions carrying hidden instructions this gateway has seen. */
  public long hiddenInstructionsSeen() {
    return gateway.hiddenInstructionsSeen();
  }

  /** The message limits for client-facing transports. */
  public FrameLimits frameLimits() {
    return limits;
  }

  /** The backends' states. */
  public Map<String, BackendStatus> backends() {
    return gateway.backends();
  }

  /** Log messages of shared backend connections written to the gateway's log, by backend. */
  public Map<String, Long> backendLogMessages() {
    return gateway.backendLogMessages();
  }

  /**
   * Adds an observer of every governed call's final audit event (metrics, alerts), from now on;
   * listeners belong to the runtime, not to one pipeline. Thread-safe; a listener must be fast
   * and thread-safe (it runs on the calling thread), and whatever it throws is caught.
   */
  public void addListener(SentinelListener listener) {
    listeners.all.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Sets the tracer that sees each governed call's stages from now on, in place of the one set
   * before ({@link CallTracer#none()}, the default, to trace nothing): sentinel-otel's {@code
   * OtlpTracing} sets one when the config has {@code telemetry.otlp}. Thread-safe.
   */
  public void tracer(CallTracer tracer) {
    listeners.tracer = Objects.requireNonNull(tracer, "tracer");
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

  /**
   * The rate limiter the policy's limits use (local, or shared through the database): the LLM
   * route's token budgets take from it too, so that they are shared when the limits are.
   */
  public RateLimiter rateLimiter() {
    return limiter;
  }

  /**
   * The pipeline, for its kill switch and audit statistics. Change the kill switch through
   * {@link #updateKillSwitch} rather than directly: a direct change is replaced at the next
   * change of the shared state.
   */
  public Sentinel sentinel() {
    return sentinel;
  }

  /**
   * Replaces what operators have switched off, at once on this gateway and, when the gateway
   * runs on a database with a kill-switch store, in the store, so that every gateway on the
   * database follows within its {@code sync_interval} (at once on PostgreSQL). The config's
   * {@code kill_switch:} entries stay switched off whatever the state says.
   *
   * @param operatorState everything operators want switched off (not a change to add: the
   *     whole state, as from {@link #operatorKillSwitch()} with an entry added or removed)
   * @throws RuntimeException if the store cannot be written (such as a {@code
   *     DatabaseException}); the change is then in effect on this gateway only, until the
   *     shared state next changes
   */
  public void updateKillSwitch(KillSwitch.State operatorState) {
    Objects.requireNonNull(operatorState, "operatorState");
    synchronized (killSwitchLock) {
      apply(operatorState);
      if (killSwitchStore != null) {
        killSwitchStore.save(operatorState);
        lastStored = operatorState;
      }
    }
  }

  /**
   * Changes what operators have switched off, atomically against every other change on the
   * database: {@code change} gets the current state (the stored one, read under the store's
   * lock, when there is a store) and answers the next, which is applied here at once and stored
   * for the others. A gateway that had not yet seen another's change does not undo it.
   *
   * @return the operators' state now
   * @throws RuntimeException if the store cannot be written; nothing changed then
   */
  public KillSwitch.State updateKillSwitch(UnaryOperator<KillSwitch.State> change) {
    Objects.requireNonNull(change, "change");
    synchronized (killSwitchLock) {
      KillSwitch.State next;
      if (killSwitchStore != null) {
        next = killSwitchStore.update(change);
        lastStored = next;
      } else {
        next = Objects.requireNonNull(change.apply(operatorKillSwitch), "next state");
      }
      apply(next);
      return next;
    }
  }

  /**
   * This gateway's kill switch as the operator service changes it: {@link #updateKillSwitch},
   * with the backends this gateway has.
   */
  public KillSwitchControl killSwitchControl() {
    return new KillSwitchControl() {
      @Override
      public KillSwitch.State operatorState() {
        return operatorKillSwitch();
      }

      @Override
      public KillSwitch.State effectiveState() {
        return sentinel.killSwitch().state();
      }

      @Override
      public KillSwitch.State update(UnaryOperator<KillSwitch.State> change) {
        return updateKillSwitch(change);
      }

      @Override
      public Set<String> backends() {
        return gateway.backends().keySet();
      }
    };
  }

  /** What operators have switched off: the shared state, without the config's entries. */
  public KillSwitch.State operatorKillSwitch() {
    synchronized (killSwitchLock) {
      return operatorKillSwitch;
    }
  }

  /**
   * Reads the shared kill switch now and applies it if it changed since the last read: what the
   * gateway does every {@code sync_interval}.
   *
   * @return whether the state changed; {@code false} without a kill-switch store
   * @throws RuntimeException if the store cannot be read; the current state is kept
   */
  public boolean syncKillSwitch() {
    if (killSwitchStore == null) {
      return false;
    }
    synchronized (killSwitchLock) {
      // Read under the lock, so that a read cannot overtake an update and undo it.
      KillSwitch.State stored = killSwitchStore.load();
      if (stored.equals(lastStored)) {
        return false;
      }
      lastStored = stored;
      apply(stored);
      return true;
    }
  }

  private void apply(KillSwitch.State operatorState) {
    operatorKillSwitch = operatorState;
    sentinel.killSwitch().replace(KillSwitch.State.merge(config.killSwitch(), operatorState));
  }

  /**
   * Purges the database audit records older than {@code audit.retention} now, as the schedule
   * does at start and every hour; what remains still verifies.
   *
   * @return how many records were deleted; 0 without a retention
   * @throws RuntimeException if the database cannot be written; nothing was deleted then
   */
  public long purgeAudit() {
    Duration retention = config.audit().retention();
    if (retention == null) {
      return 0;
    }
    Instant before = clock.instant().minus(retention);
    long deleted = stores.purgeAudit(before);
    if (deleted > 0) {
      LOG.info("audit retention ({}) purged {} records before {}",
          Units.formatDuration(retention), deleted, before);
    }
    return deleted;
  }

  /** The clock the runtime stamps with. */
  Clock clock() {
    return clock;
  }

  /** The config in force: the one started with, or the last one {@link #reload}ed. */
  public GatewayConfig config() {
    return config;
  }

  /**
   * Swaps in a new config while serving: its policy, limits and revision replace the old ones
   * together ({@link Sentinel#reconfigure}: calls in flight finish under the old config, later
   * calls see the new one, none sees a mix), and its {@code kill_switch:} entries replace the old
   * config's (the operators' entries, {@link #updateKillSwitch}, stay). Rate-limit buckets carry
   * over.
   *
   * <p>Sections that cannot change while serving refuse the reload, which then changes nothing:
   * backends ("backends changed: restart to apply"), {@code gateway:}, {@code identity:},
   * {@code audit:}, {@code database:}, {@code shared_state:} and {@code server:}.
   *
   * @param next a loaded config ({@link GatewayConfig#load}, which checked it whole)
   * @return the new revision
   * @throws ConfigException naming each section that needs a restart; the old config keeps
   *     serving
   */
  public synchronized String reload(GatewayConfig next) {
    return reload(next, "sentinel");
  }

  /**
   * As {@link #reload(GatewayConfig)}, saying who asked: the audit trail names them beside a
   * signed bundle applied, and above all beside a rollback they forced.
   *
   * <p>A config from a signed bundle is refused if the gateway runs a newer bundle (a bundle
   * not above the running one's sequence, unless it was loaded {@linkplain
   * GatewayConfig#loadAllowingRollback allowing a rollback}), and changing between a bundle and
   * a config file, or the {@code bundle:} settings (trust roots, threshold, files), needs a
   * restart. Once applied, the bundle is recorded in the state file.
   *
   * @param actor who asked: an operator's name, or {@code sentinel} for the gateway's own watcher
   */
  public synchronized String reload(GatewayConfig next, String actor) {
    Objects.requireNonNull(next, "next");
    Objects.requireNonNull(actor, "actor");
    GatewayConfig old = config;
    List<ConfigException.Problem> restart = new ArrayList<>();
    // The trust roots are what everything else is checked against: never swapped while serving,
    // not even by rewriting a key file in place.
    needsRestart(restart, next, "/bundle", "bundle:",
        old.fromBundle().map(b -> List.of(b.settings(), b.trusted())),
        next.fromBundle().map(b -> List.of(b.settings(), b.trusted())));
    RunningBundle running = old.fromBundle().orElse(null);
    RunningBundle incoming = next.fromBundle().orElse(null);
    if (running != null && incoming != null && !incoming.rollback()
        && !incoming.digest().equals(running.digest())
        && incoming.sequence() <= running.sequence()) {
      throw new ConfigException(List.of(new ConfigException.Problem(next.source(), 0, 0,
          "/bundle", null, "bundle " + incoming.digest() + " (sequence " + incoming.sequence()
              + ") is not above the running sequence " + running.sequence()
              + ": applying it would roll back; an operator can force it")));
    }
    needsRestart(restart, next, "/backends", "backends", old.backends(), next.backends());
    needsRestart(restart, next, "/gateway", "gateway:", old.gateway(), next.gateway());
    needsRestart(restart, next, "/identity", "identity:", old.identity(), next.identity());
    needsRestart(restart, next, "/audit", "audit:", old.audit(), next.audit());
    needsRestart(restart, next, "/database", "database:", old.database(), next.database());
    needsRestart(restart, next, "/shared_state", "shared_state:", old.sharedState(),
        next.sharedState());
    needsRestart(restart, next, "/server", "server:", old.server(), next.server());
    needsRestart(restart, next, "/notify", "notify:", old.notifications(), next.notifications());
    needsRestart(restart, next, "/telemetry", "telemetry:", old.telemetry(), next.telemetry());
    if (!restart.isEmpty()) {
      throw new ConfigException(restart);
    }
    Limits limits = Limits.of(next.policy().limits(), limiter);
    String revision = revision(next);
    sentinel.reconfigure(next.policy(), limits, revision);
    synchronized (killSwitchLock) {
      // The new config's entries replace the old config's; the operators' stay.
      config = next;
      apply(operatorKillSwitch);
    }
    if (incoming != null
        && (running == null || !incoming.digest().equals(running.digest()) || incoming.rollback()
            || !Objects.equals(incoming.canary(), running.canary()))) {
      try {
        incoming.commit(clock.instant());
      } catch (RuntimeException e) {
        // It serves; only the floor for the next restart is lost, which the log must say.
        LOG.error("bundle {} applied, but the state file {} could not record it: a restart could"
            + " apply an older signed bundle ({})", incoming.digest(), incoming.settings().state(),
            e.getMessage());
      }
      recordBundle(incoming, actor, running == null ? null
          : running.digest() + " (sequence " + running.sequence() + ")");
    }
    return revision;
  }

  /** Logs a signed bundle now served, and records it in the audit trail. */
  private void recordBundle(RunningBundle bundle, String actor, @Nullable String replaced) {
    String what = bundle.describe()
        + (replaced == null || replaced.startsWith(bundle.digest()) ? "" : " replaces " + replaced);
    if (bundle.rollback()) {
      String reason = bundle.rollbackAuthority() != null
          ? "rollback authorised by " + bundle.rollbackAuthority() + ": " + what
          : "rollback forced by " + actor + ": " + what;
      LOG.warn("{}", reason);
      sentinel.recordEvent(actor, "sentinel/bundle.rollback", bundle.digest(), Outcome.ALLOWED,
          reason);
    } else {
      LOG.info("applied {}", what);
      sentinel.recordEvent(actor, "sentinel/bundle.apply", bundle.digest(), Outcome.ALLOWED,
          "applied " + what);
    }
  }

  /**
   * The revision a config is served (and audited) as: the config file's own, or, when the policy
   * is a separate file, a digest of both, so that an edit of either changes it.
   */
  public static String revision(GatewayConfig config) {
    if (config.policy().revision().equals(config.revision())) {
      return config.revision();
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(
          (config.revision() + " " + config.policy().revision()).getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(digest).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  private static void needsRestart(List<ConfigException.Problem> problems, GatewayConfig next,
      String path, String what, Object old, Object now) {
    if (!old.equals(now)) {
      problems.add(new ConfigException.Problem(next.source(), 0, 0, path, null,
          what + " changed: restart to apply (the running config keeps serving)"));
    }
  }

  /**
   * Ends sessions, stops backends and housekeeping, flushes the audit trail and closes the
   * stores.
   */
  @Override
  public void close() {
    try {
      gateway.close();
      for (SharedHttpClient client : httpClients) {
        client.close();
      }
    } finally {
      try {
        sentinel.close();
      } finally {
        try {
          stopMaintenance();
        } finally {
          try {
            notifier.close();
          } finally {
            stores.close();
          }
        }
      }
    }
  }

  private void stopMaintenance() {
    KillSwitchStore.Watch watch;
    ScheduledExecutorService executor;
    synchronized (this) {
      watch = killSwitchWatch;
      executor = maintenance;
      killSwitchWatch = null;
      maintenance = null;
    }
    try {
      if (watch != null) {
        watch.close();
      }
    } finally {
      if (executor != null) {
        executor.shutdownNow();
        try {
          // Let a purge in progress finish its transaction before the stores close.
          executor.awaitTermination(MAINTENANCE_STOP.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * Starts the config's backends (nothing else: no database, no audit trail, no client), lists
   * their tools, checks each tool's input schema and the config's policy against it, and stops
   * them; for {@code sentinel config check --start} and {@code sentinel policy explain --config}.
   * Waits up to the config's start timeout for the backends to initialize.
   */
  public static ToolReport checkTools(GatewayConfig config, Clock clock) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(clock, "clock");
    Gateway settings = config.gateway();
    FrameLimits limits = FrameLimits.of(settings);
    List<SharedHttpClient> httpClients = new ArrayList<>();
    Map<String, dev.sentinel.core.config.Validation> validation = new java.util.HashMap<>();
    try (Sentinel sentinel = Sentinel.builder().clock(clock)
        .authenticator(checkingAuthenticator(config.identity().principal()))
        .policy(config.policy())
        .build()) {
      McpGateway.Builder builder = McpGateway.builder()
          .sentinel(sentinel)
          .clock(clock)
          .namespacing(settings.namespacing().separator(), settings.namespacing().prefixSingleBackend())
          .requestTimeout(settings.requestTimeout())
          .startTimeout(settings.startTimeout())
          .serverInfo(settings.name(), version());
      for (Backend backend : config.backends()) {
        // One connection each, whatever the isolation: only the servers' lists are wanted.
        dev.sentinel.core.config.BackendOptions options = backend.connections().options(backend, false)
            .withIsolation(dev.sentinel.core.config.Isolation.SHARED);
        validation.put(backend.name(), options.validation());
        builder.backend(backend.name(), connector(backend, limits, httpClients), options);
      }
      McpGateway.ToolListings listings;
      try (McpGateway gateway = builder.build()) {
        gateway.start();
        listings = gateway.listTools();
      }
      List<ToolReport.Tool> tools = new ArrayList<>();
      for (McpGateway.ListedTool listed : listings.tools()) {
        // every backend listed is one of the config's, each put in validation above
        dev.sentinel.core.config.Validation backendValidation =
            Objects.requireNonNull(validation.get(listed.backend()), "validation");
        tools.add(new ToolReport.Tool(listed.backend(), listed.name(), backendValidation,
            dev.sentinel.mcp.engine.ToolSchema.compile(listed.inputSchema()),
            config.policy().schemaConflicts(listed.backend(), listed.name(), listed.inputSchema()),
            listed.annotations()));
      }
      return new ToolReport(tools, listings.problems());
    } finally {
      for (SharedHttpClient client : httpClients) {
        client.close();
      }
    }
  }

  /**
   * The authenticator of a tool check, which makes no call: the config's fixed principal, or,
   * for an identity by API key (no principal, and no key store to verify it), one that accepts
   * no one.
   */
  private static Authenticator checkingAuthenticator(@Nullable Principal fixed) {
    return fixed != null ? Authenticator.fixed(fixed)
        : credentials -> AuthenticationResult.failure("a tool check serves no calls");
  }

  /** The config's webhook, or none. */
  private static Notifier notifier(GatewayConfig config) {
    NotifySettings notify = config.notifications();
    java.net.URI webhook = notify.webhook();
    String secret = notify.secret();
    // enabled() is webhook != null, and NotifySettings gives a webhook its secret
    return webhook != null && secret != null ? WebhookNotifier.start(webhook, secret)
        : Notifier.none();
  }

  /**
   * Where this gateway's operator events go (the config's {@code notify:} webhook, or nowhere):
   * for the operator service's decisions made through this gateway.
   */
  public Notifier notifier() {
    return notifier;
  }

  /** The stores the gateway was started with (its database, when it has one). */
  Stores stores() {
    return stores;
  }

  /**
   * Why this gateway runs something other than what it should, or empty when it runs it: a
   * gateway on a bundle runs another bundle than its desired one (its channel's head, or a
   * rollout's bundle for a canary; the bundle in its file), for example because it refused it.
   * What the {@code sentinel_config_drift} gauge shows. Set by the gateway's bundle watcher.
   */
  public Optional<String> configDrift() {
    return Optional.ofNullable(drift);
  }

  /**
   * Records whether the gateway drifts ({@code reason}) or runs what it should ({@code null});
   * entering drift is announced on the notifier ({@code config.drift}), once until it clears.
   */
  void configDrift(@Nullable String reason, String desired) {
    String before;
    synchronized (driftLock) {
      before = drift;
      drift = reason;
    }
    if (reason != null && before == null) {
      ObjectNode data = JsonNodeFactory.instance.objectNode()
          .put("instance", sentinel.instance())
          .put("desired", desired)
          .put("running", config.fromBundle().map(RunningBundle::digest).orElse(null))
          .put("reason", reason);
      notifier.send(new Notification("config.drift", clock.instant(), "gateway "
          + sentinel.instance() + " drifts from its desired config: " + reason, data));
      LOG.warn("config drift: {}", reason);
    } else if (reason == null && before != null) {
      LOG.info("config drift resolved: runs its desired bundle again");
    }
  }

  /** The governance pipeline the config describes, on the given stores. */
  static Sentinel sentinel(GatewayConfig config, Clock clock, Stores stores,
      @Nullable Authenticator clients,
      RateLimiter limiter, Listeners listener, Notifier notifier) {
    Authenticator authenticator;
    if (clients != null) {
      authenticator = clients;
    } else if (config.identity().apiKey() != null) {
      KeyStore keys = stores.keyStore().orElseThrow(() -> new GatewayConfigUnsupported(
          config.source() + ": identity.api_key is verified against the database's key store,"
              + " but the gateway was started without a database"));
      authenticator = ApiKeys.create(keys, clock).authenticator();
    } else {
      // Identity holds exactly one of an API key and a principal
      authenticator = Authenticator.fixed(
          Objects.requireNonNull(config.identity().principal(), "identity.principal"));
    }
    KillSwitch killSwitch = KillSwitch.create();
    killSwitch.replace(config.killSwitch());
    Redactor redactor = config.audit().digestKey() == null ? Redactor.defaults()
        : Redactor.builder().digestKey(config.audit().digestKey()).build();
    // The confirmer reads the policy and revision in force at each call: reloads swap both.
    AtomicReference<Sentinel> built = new AtomicReference<>();
    // Set just below, before the pipeline serves its first call.
    Supplier<Sentinel> pipeline = () -> Objects.requireNonNull(built.get(), "pipeline not built");
    Confirmer operators = stores.approvalStore()
        .<Confirmer>map(store -> ApprovalConfirmer.create(store, clock,
            () -> pipeline.get().policy(), () -> pipeline.get().revision(), redactor)
            .notifying(notifier))
        .orElse(Confirmer.rejectAll());
    // Who confirms when a rule does not say: where one person runs the gateway for themselves,
    // that person (asked through their client), else the operators; where a team shares it, the
    // operators (four eyes).
    ConfirmSettings.By confirmedBy = clients != null ? ConfirmSettings.By.OPERATOR : ConfirmSettings.By.EITHER;
    Confirmer confirmer = RoutingConfirmer.create(operators, () -> pipeline.get().policy(),
        () -> pipeline.get().revision(), confirmedBy, redactor);
    // Windows shared by every gateway on the database; else in this process's memory.
    BreakGlassWindows breakGlass = BreakGlassWindows.of(
        stores.breakGlassStore().orElseGet(InMemoryBreakGlassStore::new), clock, notifier);
    Sentinel sentinel = Sentinel.builder()
        .clock(clock)
        .breakGlass(breakGlass)
        .instance(config.gateway().name() + "-" + ProcessHandle.current().pid())
        .revision(revision(config))
        .authenticator(authenticator)
        .policy(config.policy())
        .limits(Limits.of(config.policy().limits(), limiter))
        .killSwitch(killSwitch)
        .confirmer(confirmer)
        .audit(dispatcher(config, clock, stores))
        .auditMode(config.audit().mode())
        .redactor(redactor)
        .listener(listener)
        .tracer(listener)
        .build();
    built.set(sentinel);
    return sentinel;
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
          sinks.add(stores.auditSink(audit.checkpoint()).orElseThrow(() -> new GatewayConfigUnsupported(
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
        .linger(audit.usesDatabase() ? DATABASE_LINGER : Duration.ZERO)
        .pollWhileBusy(AUDIT_POLL)
        .capacity(audit.queueCapacity())
        .whenFull(audit.whenFull())
        .onSinkFailure(audit.onSinkFailure());
    sinks.forEach(builder::sink);
    return builder.build();
  }

  private static Supplier<Transport> connector(Backend backend, FrameLimits limits,
      List<SharedHttpClient> httpClients) {
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
    // One HTTP client per backend, whatever the number of its connections (backend sessions).
    SharedHttpClient shared = new SharedHttpClient(spec);
    httpClients.add(shared);
    return () -> StreamableHttpTransport.connect(spec, shared.get());
  }

  /** A backend's HTTP client, started on first use and stopped with the runtime. */
  private static final class SharedHttpClient implements AutoCloseable {
    private final HttpSpec spec;
    private StreamableHttpTransport.@Nullable Client client;
    private boolean closed;

    SharedHttpClient(HttpSpec spec) {
      this.spec = spec;
    }

    synchronized StreamableHttpTransport.Client get() {
      if (closed) {
        throw new IllegalStateException("the gateway is closing");
      }
      if (client == null) {
        client = StreamableHttpTransport.Client.start(spec);
      }
      return client;
    }

    @Override
    public synchronized void close() {
      closed = true;
      if (client != null) {
        client.close();
      }
    }
  }

  static String version() {
    return InitializeAnswer.version();
  }

  /** The runtime's listeners, behind the one listener its pipeline has. */
  /**
   * The runtime's observers, which outlive its pipelines: the listeners, and the tracer (none
   * until a runner sets one, so that a call without tracing pays a volatile read and a no-op).
   */
  private static final class Listeners implements SentinelListener, CallTracer {
    final List<SentinelListener> all = new CopyOnWriteArrayList<>();
    volatile CallTracer tracer = CallTracer.none();

    @Override
    public CallTrace start(Call call) {
      return tracer.start(call);
    }

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
