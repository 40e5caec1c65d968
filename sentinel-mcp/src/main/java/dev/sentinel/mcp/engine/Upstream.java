package dev.sentinel.mcp.engine;

import dev.sentinel.api.Transport;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One connection to a backend MCP server, the gateway being its MCP client: connects through
 * the backend's connector, initializes, correlates responses by the gateway's own ids, and
 * reconnects with exponential backoff after a failure.
 *
 * <p>An upstream belongs to whom its {@link Backend}'s isolation says: to no one (a shared
 * connection, or an isolated backend's spare not claimed yet), to one client session, or to one
 * principal. The owner is set once, when a session claims the upstream, and decides where the
 * server's own requests and notifications may go ({@link McpGateway}).
 *
 * <p>The backoff grows with every failure that comes soon after a start: a server that exits
 * right after each successful {@code initialize} is restarted ever more slowly, not every half
 * second forever. It starts over only once a connection has stayed up for the longest backoff.
 *
 * <p>Thread-safe. State changes happen under the instance lock; sends and deliveries do not
 * hold it.
 */
final class Upstream {
  private static final Logger log = LoggerFactory.getLogger(Upstream.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** How long the {@code server/discover} probe waits before {@code initialize} is sent anyway. */
  static final Duration PROBE_PATIENCE = Duration.ofSeconds(5);
  /** How long the stream of a modern backend's list changes is waited on: as long as the connection lives. */
  private static final Duration LISTEN_LIFE = Duration.ofDays(3650);
  /** The most resources one modern connection's stream of changes follows. */
  static final int MAX_SUBSCRIBED = 1_000;

  final Backend backend;
  /** Unique among the gateway's upstreams; keys the relays of its server's requests. */
  final long serial;
  /** The stateless clients' calls on this connection whose questions go back as input_required. */
  final Set<RoundTrip> roundTrips = ConcurrentHashMap.newKeySet();
  private final McpGateway gateway;
  /** The client's {@code logging/setLevel} params last sent on this connection (an isolated one's). */
  volatile @Nullable JsonNode appliedLogLevel;
  /** The tools this connection listed: what calls forwarded on it are validated against. */
  final ToolListing tools = new ToolListing();

  private BackendStatus.State state = BackendStatus.State.STARTING;
  private @Nullable Owner owner; // null: shared or unclaimed
  private @Nullable Connection connection;
  private @Nullable McpRevision revision;
  /** Whether the connection speaks MCP 2026-07-28: stateless requests, each carrying its {@code _meta}. */
  private volatile boolean modern;
  /** A modern connection's list changes to listen for ({@code toolsListChanged}, ...); {@code null} before. */
  private @Nullable ObjectNode listChanges;
  /** The resources clients subscribed to through this modern connection, in its stream of changes. */
  private final Set<String> subscribedUris = new java.util.LinkedHashSet<>();
  /** The gateway id of the modern connection's open {@code subscriptions/listen}, or -1. */
  private long listenId = -1;
  private int restarts;
  private int consecutiveFailures;
  private @Nullable String lastError;
  private long nextAttemptNanos;
  private long upSinceNanos;
  private long lastUsedNanos;
  private boolean everStarted;
  private boolean closed;
  private CompletableFuture<Void> started = new CompletableFuture<>();

  /**
   * Who an upstream belongs to: a session ({@code sessionId} set) or a principal (only {@code
   * principalId} set). {@code principalId} is {@code null} for a session without a known owner.
   */
  record Owner(@Nullable String sessionId, @Nullable String principalId) {}

  Upstream(Backend backend, long serial, @Nullable Owner owner, McpGateway gateway) {
    this.backend = backend;
    this.serial = serial;
    this.owner = owner;
    this.gateway = gateway;
    this.lastUsedNanos = gateway.clock().nanoTime();
  }

  /** A request sent to the backend: the gateway's id for it and the future of its response. */
  record Outgoing(long id, CompletableFuture<JsonRpcMessage> response) {}

  private static final class Pending {
    final CompletableFuture<JsonRpcMessage> future = new CompletableFuture<>();
    final long deadline;
    final boolean cancelOnTimeout;

    Pending(long deadline, boolean cancelOnTimeout) {
      this.deadline = deadline;
      this.cancelOnTimeout = cancelOnTimeout;
    }
  }

  /** One connection attempt; callbacks from an old connection are ignored. */
  private final class Connection implements Transport.Receiver {
    final Transport transport;
    final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    volatile boolean closing;

    Connection(Transport transport) {
      this.transport = transport;
    }

    @Override
    public void message(JsonNode message) {
      try {
        JsonRpcMessage classified = JsonRpc.classify(message);
        switch (classified.kind()) {
          case RESULT:
          case ERROR:
            Pending waiting = classified.id() != null && classified.id().isIntegralNumber()
                ? pending.remove(classified.id().asLong()) : null;
            if (waiting != null) {
              waiting.future.complete(classified);
            } else {
              log.debug("backend {} answered unknown id {}", label(), classified.idText());
            }
            break;
          case REQUEST:
            gateway.onBackendRequest(Upstream.this, classified);
            break;
          case NOTIFICATION:
            gateway.onBackendNotification(Upstream.this, modern ? withoutSubscriptionId(classified) : classified);
            break;
          default:
            log.warn("backend {} sent an invalid message: {}", label(), classified.problem());
            if (!message.has("result") && !message.has("error")) {
              sendQuietly(this, JsonRpc.invalidRequest(classified));
            }
        }
      } catch (RuntimeException e) {
        log.warn("handling a message from backend {} failed", label(), e);
      }
    }

    @Override
    public void closed(@Nullable Throwable cause) {
      lost(this, cause == null ? "the connection closed" : String.valueOf(cause.getMessage()));
    }
  }

  // ---- life cycle -------------------------------------------------------------------------

  /** Connects and initializes; runs on the gateway's executor. Never throws. */
  void connect() {
    Connection attempt;
    synchronized (this) {
      if (closed) {
        return;
      }
      state = BackendStatus.State.STARTING;
    }
    Transport transport;
    try {
      transport = backend.connector().get();
      if (transport == null) {
        throw new IllegalStateException("the connector returned no transport");
      }
    } catch (RuntimeException e) {
      failed(null, "cannot connect: " + e.getMessage());
      return;
    }
    attempt = new Connection(transport);
    synchronized (this) {
      if (closed) {
        transport.close();
        return;
      }
      connection = attempt;
    }
    Outgoing probe;
    try {
      transport.start(attempt);
      // MCP 2026-07-28 asks a dual-era client to probe with server/discover: a modern server
      // answers it; a legacy one answers an error (or nothing), and is then initialized.
      probe = send(attempt, "server/discover", stamped(NODES.objectNode(), NODES.objectNode(), null),
          gateway.startTimeout(), false);
    } catch (RuntimeException e) {
      failed(attempt, "cannot start: " + e.getMessage());
      return;
    }
    Probe state = new Probe();
    probe.response().whenComplete((response, failure) -> discovered(attempt, state, response, failure));
    // A legacy server may not answer a request before initialize at all: after a while it is
    // initialized anyway (see Probe for which answer then decides).
    CompletableFuture.runAsync(() -> {
      if (!probe.response().isDone()) {
        initialize(attempt, state);
      }
    }, CompletableFuture.delayedExecutor(gateway.probePatience().toMillis(), TimeUnit.MILLISECONDS,
        gateway.executor()));
  }

  /**
   * What the start of one connection has learned. Once {@code initialize} is sent, its answer
   * decides: a server that took it serves this connection under the legacy revision it
   * negotiated (the specification scopes that to the stdio process), even if it also answered
   * the probe; only when it refuses does the probe's modern answer stand. Guarded by its lock.
   */
  private static final class Probe {
    boolean settled;
    boolean initializeSent;
    /** The probe's result when it named 2026-07-28; {@code null} otherwise. */
    @Nullable JsonNode modern;
  }

  /** The probe's answer: a modern server is up at once; anything else falls back to {@code initialize}. */
  private void discovered(Connection attempt, Probe state, JsonRpcMessage response, @Nullable Throwable failure) {
    if (failure != null && !(unwrap(failure) instanceof TimeoutException)) {
      synchronized (state) {
        if (state.settled) {
          return;
        }
        state.settled = true;
      }
      failed(attempt, "server/discover failed: " + unwrap(failure).getMessage());
      return;
    }
    JsonNode result = failure == null && response.kind() != JsonRpcMessage.Kind.ERROR ? response.result() : null;
    boolean modern = false;
    if (result != null) {
      for (JsonNode version : result.path("supportedVersions")) {
        modern |= McpRevision.ofStateless(version.asString("")).isPresent();
      }
    }
    if (failure == null && response.kind() == JsonRpcMessage.Kind.ERROR) {
      JsonNode supported = response.error().path("data").path("supported");
      if (response.error().path("code").asInt() == ErrorCode.UNSUPPORTED_PROTOCOL_VERSION.code()
          && supported.isArray() && !speaksAny(supported)) {
        // A modern server that speaks none of Sentinel's versions: initialize would not help.
        synchronized (state) {
          if (state.settled) {
            return;
          }
          state.settled = true;
        }
        failed(attempt, "the server speaks MCP " + supported + ", none of " + McpRevision.supportedVersions());
        return;
      }
    }
    boolean initializeSent;
    synchronized (state) {
      state.modern = modern ? result : null;
      initializeSent = state.initializeSent;
      if (modern && !initializeSent) {
        state.settled = true;
      }
    }
    if (result != null && modern && !initializeSent) { // modern: the probe's result named 2026-07-28
      up(attempt, McpRevision.V2026_07_28, result);
    } else if (!modern) {
      if (failure != null && initializeSent) {
        return; // no answer to the probe: initialize, sent meanwhile, decides
      }
      initialize(attempt, state);
    }
  }

  private static boolean speaksAny(JsonNode versions) {
    for (JsonNode version : versions) {
      String text = version.asString("");
      if (McpRevision.of(text).isPresent() || McpRevision.ofStateless(text).isPresent()) {
        return true;
      }
    }
    return false;
  }

  /** Starts a legacy session with {@code initialize}, once per attempt. */
  private void initialize(Connection attempt, Probe state) {
    synchronized (state) {
      if (state.settled || state.initializeSent) {
        return;
      }
      state.initializeSent = true;
    }
    Outgoing init;
    try {
      ObjectNode params = NODES.objectNode().put("protocolVersion", McpRevision.latest().version());
      ObjectNode caps = params.putObject("capabilities");
      caps.putObject("roots").put("listChanged", true);
      caps.putObject("sampling");
      caps.putObject("elicitation");
      params.putObject("clientInfo").put("name", gateway.serverName()).put("version", gateway.serverVersion());
      init = send(attempt, "initialize", params, gateway.startTimeout(), false);
    } catch (RuntimeException e) {
      synchronized (state) {
        state.settled = true;
      }
      failed(attempt, "cannot start: " + e.getMessage());
      return;
    }
    init.response().whenComplete((response, failure) -> {
      JsonNode modern;
      synchronized (state) {
        if (state.settled) {
          return;
        }
        state.settled = true;
        modern = state.modern;
      }
      boolean refused = failure != null || response.kind() == JsonRpcMessage.Kind.ERROR;
      if (refused && modern != null) {
        up(attempt, McpRevision.V2026_07_28, modern);
      } else {
        initialized(attempt, response, failure);
      }
    });
  }

  private void initialized(Connection attempt, JsonRpcMessage response, @Nullable Throwable failure) {
    if (failure != null) {
      Throwable cause = unwrap(failure);
      failed(attempt, cause instanceof TimeoutException
          ? "no initialize answer within " + gateway.startTimeout().toMillis() + " ms"
          : "initialize failed: " + cause.getMessage());
      return;
    }
    if (response.kind() == JsonRpcMessage.Kind.ERROR) {
      failed(attempt, "initialize refused: " + response.error().path("message").asString(""));
      return;
    }
    JsonNode result = response.result();
    String version = result.path("protocolVersion").asString("");
    McpRevision negotiated = McpRevision.of(version).orElse(null);
    if (negotiated == null) {
      failed(attempt, "unsupported protocol version '" + version + "'");
      return;
    }
    up(attempt, negotiated, result);
  }

  /** The connection is up under {@code negotiated}; {@code result} declared the server's capabilities. */
  private void up(Connection attempt, McpRevision negotiated, JsonNode result) {
    boolean restarted;
    synchronized (this) {
      if (attempt != connection || closed) {
        return;
      }
      revision = negotiated;
      modern = !negotiated.requiresInitialize();
      restarted = everStarted;
      everStarted = true;
      upSinceNanos = gateway.clock().nanoTime();
      state = BackendStatus.State.UP;
      // Before anyone can use it: a new connection (a restarted server) may list other tools
      // than the one before it, and nothing listed before is trusted.
      tools.invalidate();
    }
    backend.learned(negotiated,
        result.path("capabilities").isObject() ? (ObjectNode) result.get("capabilities") : NODES.objectNode(),
        result.path("instructions").isString() ? result.get("instructions").stringValue() : null);
    if (negotiated.requiresInitialize()) {
      sendQuietly(attempt, JsonRpc.notification("notifications/initialized", null));
    } else {
      listen(attempt, result.path("capabilities"));
    }
    log.info("backend {} is up (MCP {})", label(), negotiated);
    startedFuture().complete(null);
    gateway.onBackendUp(this, restarted);
  }

  /**
   * Opens an MCP 2026-07-28 backend's stream of changes ({@code subscriptions/listen}): the lists
   * it says change, and the resources clients subscribed to through this connection. Their
   * notifications then come as an older backend's do. A stream is replaced (the old one
   * cancelled) when the resources change; it stays open while the connection lives.
   */
  private void listen(Connection attempt, JsonNode capabilities) {
    ObjectNode lists = NODES.objectNode();
    for (String list : List.of("tools", "prompts", "resources")) {
      if (capabilities.path(list).path("listChanged").asBoolean(false)) {
        lists.put(list + "ListChanged", true);
      }
    }
    synchronized (this) {
      // The resources subscribed through this connection stay wanted across a restart: the new
      // server hears them in its first stream.
      listChanges = lists;
    }
    relisten(attempt);
  }

  /** Opens the stream with what is wanted now, and cancels the one it replaces. */
  private void relisten(Connection attempt) {
    ObjectNode wanted;
    long previous;
    synchronized (this) {
      wanted = listChanges == null ? NODES.objectNode() : listChanges.deepCopy();
      if (!subscribedUris.isEmpty()) {
        subscribedUris.forEach(wanted.putArray("resourceSubscriptions")::add);
      }
      previous = listenId;
      listenId = -1;
    }
    if (previous >= 0) {
      cancel(previous, "replaced by a stream with other subscriptions");
    }
    if (wanted.isEmpty()) {
      return;
    }
    ObjectNode params = NODES.objectNode();
    params.set("notifications", wanted);
    Outgoing listen = send(attempt, "subscriptions/listen", stamped(params, NODES.objectNode(), null), LISTEN_LIFE,
        false);
    synchronized (this) {
      listenId = listen.id();
    }
  }

  /**
   * A client's {@code resources/subscribe} (or unsubscribe) on an MCP 2026-07-28 connection,
   * which has no such method: the resource joins (or leaves) the connection's stream of changes.
   * At most {@value #MAX_SUBSCRIBED} resources per connection. An unsubscribe while the
   * connection is down takes effect when it is up again.
   *
   * @throws BackendFailure when the connection is down (for a subscribe), or holds the most
   *     subscriptions it may
   */
  void subscription(String uri, boolean subscribe) {
    Connection current;
    synchronized (this) {
      current = state == BackendStatus.State.UP ? connection : null;
      if (current == null && subscribe) {
        throw new BackendFailure("backend " + backend.name + " is unavailable", lastError);
      }
      if (subscribe && !subscribedUris.contains(uri) && subscribedUris.size() >= MAX_SUBSCRIBED) {
        throw new BackendFailure("backend " + backend.name + " holds the most resource subscriptions a connection"
            + " may (" + MAX_SUBSCRIBED + ")");
      }
      boolean changed = subscribe ? subscribedUris.add(uri) : subscribedUris.remove(uri);
      if (!changed || current == null) {
        return;
      }
    }
    relisten(current);
  }

  private void failed(@Nullable Connection attempt, String error) {
    boolean wasUp;
    List<Pending> orphans = new ArrayList<>();
    synchronized (this) {
      if (attempt != null && attempt != connection) {
        return;
      }
      wasUp = state == BackendStatus.State.UP;
      if (attempt != null) {
        attempt.closing = true;
        orphans.addAll(attempt.pending.values());
        attempt.pending.clear();
        connection = null;
      }
      lastError = error;
      state = BackendStatus.State.DOWN;
      if (!closed) {
        long now = gateway.clock().nanoTime();
        // Only a connection that stayed up for the longest backoff counts as healthy: a server
        // that dies soon after each initialize keeps backing off instead of starting over.
        if (wasUp && now - upSinceNanos >= gateway.restartMax().toNanos()) {
          consecutiveFailures = 0;
        }
        consecutiveFailures++;
        nextAttemptNanos = now + backoff(consecutiveFailures).toNanos();
      }
    }
    backend.attemptFailed(error);
    BackendFailure failure = new BackendFailure("backend " + backend.name + " failed", error);
    for (Pending pending : orphans) {
      pending.future.completeExceptionally(failure);
    }
    if (attempt != null) {
      attempt.transport.close();
    }
    log.warn("backend {} is down: {}", label(), error);
    startedFuture().complete(null);
    if (wasUp) {
      gateway.onBackendDown(this);
    }
  }

  private void lost(Connection attempt, String cause) {
    if (attempt.closing) {
      return;
    }
    failed(attempt, cause);
  }

  private Duration backoff(int failures) {
    Duration min = gateway.restartMin();
    Duration max = gateway.restartMax();
    Duration wait = min;
    for (int i = 1; i < failures && wait.compareTo(max) < 0; i++) {
      wait = wait.multipliedBy(2);
    }
    return wait.compareTo(max) > 0 ? max : wait;
  }

  /** Completes when the current start attempt has ended, well or badly. */
  synchronized CompletableFuture<Void> startedFuture() {
    return started;
  }

  /**
   * Waits up to the timeout for the current start attempt to end; answers whether the upstream
   * is up. Returns at once when it is up, or down and waiting for its backoff.
   */
  boolean awaitUp(Duration timeout) throws InterruptedException {
    CompletableFuture<Void> attempt;
    synchronized (this) {
      if (state == BackendStatus.State.UP) {
        return true;
      }
      if (state == BackendStatus.State.DOWN || closed) {
        return false;
      }
      attempt = started;
    }
    try {
      attempt.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException | TimeoutException e) {
      return isUp();
    }
    return isUp();
  }

  /** Times out pending requests and starts a due reconnection; called by the gateway's ticker. */
  void tick(long now) {
    Connection current;
    boolean reconnect = false;
    synchronized (this) {
      current = connection;
      if (!closed && state == BackendStatus.State.DOWN && now - nextAttemptNanos >= 0) {
        state = BackendStatus.State.STARTING;
        restarts++;
        started = new CompletableFuture<>();
        reconnect = true;
      }
    }
    if (current != null) {
      for (Map.Entry<Long, Pending> entry : current.pending.entrySet()) {
        Pending pending = entry.getValue();
        if (now - pending.deadline >= 0 && current.pending.remove(entry.getKey(), pending)) {
          if (pending.cancelOnTimeout) {
            sendQuietly(current, cancelled(entry.getKey(), "timed out in the gateway"));
          }
          pending.future.completeExceptionally(new TimeoutException(
              "backend " + backend.name + " did not answer in time"));
        }
      }
    }
    if (reconnect) {
      try {
        gateway.executor().execute(this::connect);
      } catch (RejectedExecutionException e) {
        synchronized (this) {
          state = BackendStatus.State.DOWN;
        }
      }
    }
  }

  /** Closes the connection for good and fails what is pending. */
  void close() {
    Connection current;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      current = connection;
      connection = null;
      state = BackendStatus.State.DOWN;
      lastError = lastError == null ? "closed" : lastError;
    }
    if (current != null) {
      current.closing = true;
      BackendFailure failure = new BackendFailure("backend " + backend.name + " failed", "the connection was closed");
      for (Pending pending : current.pending.values()) {
        pending.future.completeExceptionally(failure);
      }
      current.pending.clear();
      current.transport.close();
    }
    startedFuture().complete(null);
  }

  // ---- messages ---------------------------------------------------------------------------

  /**
   * Sends a request under a fresh gateway id; the future fails with {@link TimeoutException}
   * after the timeout (and the backend is told it was cancelled), or with {@link BackendFailure}.
   */
  Outgoing request(String method, JsonNode params, Duration timeout) {
    Connection current;
    synchronized (this) {
      current = state == BackendStatus.State.UP ? connection : null;
      lastUsedNanos = gateway.clock().nanoTime();
    }
    if (current == null) {
      String error = lastError();
      throw new BackendFailure("backend " + backend.name + " is unavailable", error);
    }
    JsonNode sent = params;
    if (modern && !StatelessMeta.declared(params)) {
      // The gateway's own requests (lists, refreshes) declare no client capabilities.
      sent = stamped(params instanceof ObjectNode ? (ObjectNode) params : NODES.objectNode(), NODES.objectNode(), null);
    }
    return send(current, method, sent, timeout, true);
  }

  /**
   * A modern backend's notification without the id of the gateway's own stream it came on, which
   * names nothing a client sent.
   */
  private static JsonRpcMessage withoutSubscriptionId(JsonRpcMessage notification) {
    JsonNode meta = notification.params().path("_meta");
    if (!meta.has(StatelessMeta.SUBSCRIPTION_ID)) {
      return notification;
    }
    ObjectNode copy = notification.requiredObject().deepCopy();
    ObjectNode copiedMeta = (ObjectNode) copy.get("params").get("_meta");
    copiedMeta.remove(StatelessMeta.SUBSCRIPTION_ID);
    if (copiedMeta.isEmpty()) {
      ((ObjectNode) copy.get("params")).remove("_meta");
    }
    return JsonRpc.classify(copy);
  }

  /** Whether the connection speaks MCP 2026-07-28: each request carries its version and capabilities. */
  boolean modern() {
    return modern;
  }

  /**
   * A copy of {@code params} with the {@code _meta} an MCP 2026-07-28 request carries: the
   * protocol version, the gateway as the client, the capabilities of the client the request is
   * for ({@code capabilities}: what its questions may ask of) and the log level it wants.
   */
  ObjectNode stamped(ObjectNode params, JsonNode capabilities, @Nullable String logLevel) {
    ObjectNode copy = params.deepCopy();
    ObjectNode meta = copy.get("_meta") instanceof ObjectNode ? (ObjectNode) copy.get("_meta") : copy.putObject("_meta");
    meta.put(StatelessMeta.PROTOCOL_VERSION, McpRevision.V2026_07_28.version());
    meta.putObject(StatelessMeta.CLIENT_INFO).put("name", gateway.serverName()).put("version", gateway.serverVersion());
    meta.set(StatelessMeta.CLIENT_CAPABILITIES, capabilities.deepCopy());
    if (logLevel != null) {
      meta.put(StatelessMeta.LOG_LEVEL, logLevel);
    } else {
      meta.remove(StatelessMeta.LOG_LEVEL);
    }
    return copy;
  }

  private Outgoing send(Connection current, String method, JsonNode params, Duration timeout, boolean cancelOnTimeout) {
    long id = gateway.nextId();
    Pending pending = new Pending(gateway.clock().nanoTime() + timeout.toNanos(), cancelOnTimeout);
    current.pending.put(id, pending);
    try {
      current.transport.send(JsonRpc.request(NODES.numberNode(id), method, params));
    } catch (IOException | RuntimeException e) {
      current.pending.remove(id);
      pending.future.completeExceptionally(new BackendFailure("backend " + backend.name + " failed", e.getMessage()));
    }
    return new Outgoing(id, pending.future);
  }

  /**
   * Cancels a request sent earlier: tells the backend and fails the future with
   * {@link CancellationException}. Does nothing if it already ended.
   */
  void cancel(long id, String reason) {
    Connection current;
    synchronized (this) {
      current = connection;
    }
    if (current == null) {
      return;
    }
    Pending pending = current.pending.remove(id);
    if (pending != null) {
      sendQuietly(current, cancelled(id, reason));
      pending.future.completeExceptionally(new CancellationException(reason));
    }
  }

  /** Sends a message if connected; failures are logged (the connection's close handles them). */
  void send(JsonNode message) {
    Connection current;
    synchronized (this) {
      current = connection;
    }
    if (current != null) {
      sendQuietly(current, message);
    }
  }

  private void sendQuietly(Connection current, JsonNode message) {
    try {
      current.transport.send(message);
    } catch (IOException | RuntimeException e) {
      log.debug("cannot send to backend {}: {}", label(), e.toString());
    }
  }

  private static ObjectNode cancelled(long id, String reason) {
    ObjectNode params = NODES.objectNode().put("requestId", id).put("reason", reason);
    return JsonRpc.notification("notifications/cancelled", params);
  }

  static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof java.util.concurrent.CompletionException
        || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  // ---- state ------------------------------------------------------------------------------

  /** Sets the owner of an unclaimed upstream; answers false if it already has one. */
  synchronized boolean claim(Owner claimant) {
    if (owner != null || closed) {
      return false;
    }
    owner = claimant;
    return true;
  }

  synchronized @Nullable Owner owner() {
    return owner;
  }

  synchronized boolean isUp() {
    return state == BackendStatus.State.UP;
  }

  synchronized boolean isClosed() {
    return closed;
  }

  synchronized BackendStatus.State state() {
    return state;
  }

  synchronized boolean everStarted() {
    return everStarted;
  }

  synchronized @Nullable String lastError() {
    return lastError;
  }

  synchronized int restarts() {
    return restarts;
  }

  synchronized @Nullable McpRevision revision() {
    return revision;
  }

  /** When a request was last sent on this connection (or it was made), on the gateway's clock. */
  synchronized long lastUsed() {
    return lastUsedNanos;
  }

  /** Whether no request is waiting for this upstream's answer and none was sent since {@code sinceNanos}. */
  synchronized boolean idleSince(long sinceNanos) {
    Connection current = connection;
    return (current == null || current.pending.isEmpty()) && lastUsedNanos - sinceNanos <= 0;
  }

  /** The backend's name and, for an owned upstream, a short mark of whose it is, for logs. */
  String label() {
    Owner who = owner();
    if (who == null) {
      return backend.name;
    }
    return backend.name + (who.sessionId() != null
        ? "[session " + who.sessionId().substring(0, Math.min(8, who.sessionId().length())) + "]"
        : "[principal " + who.principalId() + "]");
  }
}
