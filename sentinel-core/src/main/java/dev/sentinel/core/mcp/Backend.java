package dev.sentinel.core.mcp;

import dev.sentinel.api.Transport;
import dev.sentinel.core.jsonrpc.JsonRpc;
import dev.sentinel.core.jsonrpc.JsonRpcMessage;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One backend MCP server, seen from the gateway as its MCP client: connects through the
 * connector, initializes, correlates responses by the gateway's own ids, and reconnects with
 * exponential backoff after a failure.
 *
 * <p>Thread-safe. State changes happen under the instance lock; sends and deliveries do not
 * hold it.
 */
final class Backend {
  private static final Logger log = LoggerFactory.getLogger(Backend.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  final String name;
  final int index;
  private final Supplier<Transport> connector;
  private final McpGateway gateway;

  private BackendStatus.State state = BackendStatus.State.STARTING;
  private Connection connection;
  private McpRevision revision;
  private ObjectNode capabilities;
  private String instructions;
  private int restarts;
  private int consecutiveFailures;
  private String lastError;
  private long nextAttemptNanos;
  private boolean everStarted;
  private boolean closed;
  private CompletableFuture<Void> started = new CompletableFuture<>();

  Backend(String name, int index, Supplier<Transport> connector, McpGateway gateway) {
    this.name = name;
    this.index = index;
    this.connector = connector;
    this.gateway = gateway;
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
              log.debug("backend {} answered unknown id {}", name, classified.idText());
            }
            break;
          case REQUEST:
            gateway.onBackendRequest(Backend.this, classified);
            break;
          case NOTIFICATION:
            gateway.onBackendNotification(Backend.this, classified);
            break;
          default:
            log.warn("backend {} sent an invalid message: {}", name, classified.problem());
            if (!message.has("result") && !message.has("error")) {
              sendQuietly(this, JsonRpc.invalidRequest(classified));
            }
        }
      } catch (RuntimeException e) {
        log.warn("handling a message from backend {} failed", name, e);
      }
    }

    @Override
    public void closed(Throwable cause) {
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
      transport = connector.get();
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
    Outgoing init;
    try {
      transport.start(attempt);
      ObjectNode params = NODES.objectNode().put("protocolVersion", McpRevision.latest().version());
      ObjectNode caps = params.putObject("capabilities");
      caps.putObject("roots").put("listChanged", true);
      caps.putObject("sampling");
      caps.putObject("elicitation");
      params.putObject("clientInfo").put("name", gateway.serverName()).put("version", gateway.serverVersion());
      init = send(attempt, "initialize", params, gateway.startTimeout(), false);
    } catch (RuntimeException e) {
      failed(attempt, "cannot start: " + e.getMessage());
      return;
    }
    init.response().whenComplete((response, failure) -> initialized(attempt, response, failure));
  }

  private void initialized(Connection attempt, JsonRpcMessage response, Throwable failure) {
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
    boolean restarted;
    synchronized (this) {
      if (attempt != connection || closed) {
        return;
      }
      revision = negotiated;
      capabilities = result.path("capabilities").isObject()
          ? (ObjectNode) result.get("capabilities") : NODES.objectNode();
      instructions = result.path("instructions").isString() ? result.get("instructions").stringValue() : null;
      restarted = everStarted;
      everStarted = true;
      consecutiveFailures = 0;
      state = BackendStatus.State.UP;
    }
    sendQuietly(attempt, JsonRpc.notification("notifications/initialized", null));
    log.info("backend {} is up (MCP {})", name, negotiated);
    startedFuture().complete(null);
    gateway.onBackendUp(this, restarted);
  }

  private void failed(Connection attempt, String error) {
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
        consecutiveFailures++;
        nextAttemptNanos = gateway.clock().nanoTime() + backoff(consecutiveFailures).toNanos();
      }
    }
    BackendFailure failure = new BackendFailure("backend " + name + " failed: " + error);
    for (Pending pending : orphans) {
      pending.future.completeExceptionally(failure);
    }
    if (attempt != null) {
      attempt.transport.close();
    }
    log.warn("backend {} is down: {}", name, error);
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

  /** Times out pending requests and starts due reconnections; called by the gateway's ticker. */
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
              "backend " + name + " did not answer in time"));
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
      closed = true;
      current = connection;
      connection = null;
      state = BackendStatus.State.DOWN;
      lastError = lastError == null ? "closed" : lastError;
    }
    if (current != null) {
      current.closing = true;
      BackendFailure failure = new BackendFailure("backend " + name + " failed: the gateway is closing");
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
    }
    if (current == null) {
      throw new BackendFailure("backend " + name + " is unavailable"
          + (lastError() == null ? "" : ": " + lastError()));
    }
    return send(current, method, params, timeout, true);
  }

  private Outgoing send(Connection current, String method, JsonNode params, Duration timeout, boolean cancelOnTimeout) {
    long id = gateway.nextId();
    Pending pending = new Pending(gateway.clock().nanoTime() + timeout.toNanos(), cancelOnTimeout);
    current.pending.put(id, pending);
    try {
      current.transport.send(JsonRpc.request(NODES.numberNode(id), method, params));
    } catch (IOException | RuntimeException e) {
      current.pending.remove(id);
      pending.future.completeExceptionally(new BackendFailure(
          "backend " + name + " failed: " + e.getMessage()));
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
      log.debug("cannot send to backend {}: {}", name, e.toString());
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

  synchronized boolean isUp() {
    return state == BackendStatus.State.UP;
  }

  /** Whether the backend, when last initialized, declared the capability (such as {@code tools}). */
  synchronized boolean has(String capability) {
    return capabilities != null && capabilities.has(capability);
  }

  /** A sub-capability flag, such as {@code resources.subscribe}. */
  synchronized boolean has(String capability, String flag) {
    return capabilities != null && capabilities.path(capability).path(flag).asBoolean(false);
  }

  synchronized boolean everStarted() {
    return everStarted;
  }

  synchronized String instructions() {
    return instructions;
  }

  synchronized String lastError() {
    return lastError;
  }

  synchronized BackendStatus status() {
    return new BackendStatus(name, state, revision == null ? null : revision.version(), restarts, lastError);
  }
}
