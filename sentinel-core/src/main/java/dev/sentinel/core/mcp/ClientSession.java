package dev.sentinel.core.mcp;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Transport;
import dev.sentinel.core.jsonrpc.ErrorCode;
import dev.sentinel.core.jsonrpc.JsonRpc;
import dev.sentinel.core.jsonrpc.JsonRpcMessage;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One MCP client served by a {@link McpGateway}, over one transport, until either side closes
 * it. Obtained from {@link McpGateway#serve}.
 *
 * <p>Requests are handled on the gateway's executor, never on the transport's delivery thread,
 * so a slow backend never delays a {@code ping} or a cancellation. At most the gateway's
 * {@code maxPendingRequests} requests are in flight; more are refused at once with
 * {@code -32000}.
 *
 * <p>Thread-safe.
 */
public final class ClientSession {
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final McpGateway gateway;
  private final Transport transport;
  private volatile Credentials credentials;
  private final String label;
  private final String id = UUID.randomUUID().toString();
  private final Map<String, InFlight> inFlight = new ConcurrentHashMap<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final Map<Long, Relay> relays = new ConcurrentHashMap<>();
  private final Set<String> subscriptions = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile McpRevision revision;
  private volatile JsonNode capabilities = NODES.objectNode();
  private volatile String clientInfo;
  private volatile long initializedAt = -1;

  /** A request relayed from a backend to this client, awaiting the client's answer. */
  static final class Relay {
    final Backend backend;
    final JsonNode backendId;
    final long deadline;
    final CompletableFuture<JsonRpcMessage> answer = new CompletableFuture<>();

    Relay(Backend backend, JsonNode backendId, long deadline) {
      this.backend = backend;
      this.backendId = backendId;
      this.deadline = deadline;
    }
  }

  ClientSession(McpGateway gateway, Transport transport, Credentials credentials, String label) {
    this.gateway = gateway;
    this.transport = transport;
    this.credentials = credentials;
    this.label = label;
  }

  void start() {
    transport.start(new Transport.Receiver() {
      @Override
      public void message(JsonNode message) {
        try {
          receive(message);
        } catch (RuntimeException e) {
          log.warn("handling a client message failed", e);
        }
      }

      @Override
      public void closed(Throwable cause) {
        ended();
      }
    });
  }

  /** Completes when the session has ended, whichever side closed it. */
  public CompletableFuture<Void> closed() {
    return closed;
  }

  /** The negotiated MCP revision, or {@code null} before {@code initialize}. */
  public String protocolVersion() {
    McpRevision current = revision;
    return current == null ? null : current.version();
  }

  /**
   * The credentials that the client's next messages are authenticated with, in place of those
   * given to {@code serve}. For transports where every message carries its own credentials
   * (HTTP, whose tokens expire and get refreshed): call it on the transport's delivery thread,
   * just before delivering the message that carried them. Requests already taken keep theirs.
   */
  public void present(Credentials credentials) {
    this.credentials = Objects.requireNonNull(credentials, "credentials");
  }

  /** Ends the session: closes the transport and cancels what is in flight. */
  public void close() {
    transport.close();
    ended();
  }

  // ---- receiving --------------------------------------------------------------------------

  private void receive(JsonNode message) {
    JsonRpcMessage classified = JsonRpc.classify(message);
    switch (classified.kind()) {
      case REQUEST:
        request(classified);
        break;
      case NOTIFICATION:
        notification(classified);
        break;
      case RESULT:
      case ERROR:
        answer(classified);
        break;
      default:
        if (!message.has("result") && !message.has("error")) {
          send(JsonRpc.invalidRequest(classified));
        } else {
          log.debug("dropped an invalid response from the client: {}", classified.problem());
        }
    }
  }

  private void request(JsonRpcMessage request) {
    String method = request.method();
    if ("ping".equals(method)) {
      send(JsonRpc.result(request.id(), NODES.objectNode()));
      return;
    }
    if ("initialize".equals(method)) {
      initialize(request);
      return;
    }
    if (revision == null) {
      send(JsonRpc.error(request.id(), ErrorCode.INVALID_REQUEST,
          "the session is not initialized: send initialize first"));
      return;
    }
    if (!request.params().isMissingNode() && !request.params().isObject()) {
      send(JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "params must be an object"));
      return;
    }
    String key = JsonRpc.idKey(request.id());
    if (pending.incrementAndGet() > gateway.maxPendingRequests()) {
      pending.decrementAndGet();
      send(JsonRpc.error(request.id(), ErrorCode.TOO_MANY_PENDING,
          "too many pending requests (at most " + gateway.maxPendingRequests() + ")"));
      return;
    }
    InFlight work = new InFlight(request.id(), key, gateway.nextSequence(), credentials);
    if (inFlight.putIfAbsent(key, work) != null) {
      pending.decrementAndGet();
      send(JsonRpc.error(request.id(), ErrorCode.INVALID_REQUEST,
          "request id " + request.idText() + " is already in flight"));
      return;
    }
    try {
      gateway.executor().execute(() -> process(request, work));
    } catch (RejectedExecutionException e) {
      finish(work);
      send(JsonRpc.error(request.id(), ErrorCode.TOO_MANY_PENDING, "too many pending requests: the gateway is busy"));
    }
  }

  private void process(JsonRpcMessage request, InFlight work) {
    ObjectNode response;
    try {
      response = gateway.router().handle(this, request, work);
    } catch (RuntimeException e) {
      log.warn("handling {} failed", request.method(), e);
      response = JsonRpc.error(request.id(), ErrorCode.INTERNAL_ERROR, "internal error");
    } finally {
      finish(work);
    }
    if (response != null && !work.cancelled()) {
      send(response);
    }
  }

  private void finish(InFlight work) {
    if (inFlight.remove(work.key, work)) {
      pending.decrementAndGet();
    }
  }

  private void initialize(JsonRpcMessage request) {
    if (revision != null) {
      send(JsonRpc.error(request.id(), ErrorCode.INVALID_REQUEST, "the session is already initialized"));
      return;
    }
    JsonNode params = request.params();
    McpRevision negotiated = McpRevision.negotiate(params.path("protocolVersion").asString(""));
    capabilities = params.path("capabilities").isObject() ? params.get("capabilities") : NODES.objectNode();
    JsonNode info = params.path("clientInfo");
    if (info.isObject()) {
      String name = info.path("name").asString("");
      String version = info.path("version").asString("");
      clientInfo = version.isEmpty() ? name : name + "/" + version;
    }
    revision = negotiated;
    initializedAt = gateway.nextSequence();
    send(JsonRpc.result(request.id(), gateway.initializeResult(negotiated)));
  }

  private void notification(JsonRpcMessage notification) {
    switch (notification.method()) {
      case "notifications/initialized":
        break;
      case "notifications/cancelled":
        JsonNode requestId = notification.params().path("requestId");
        if (JsonRpc.validId(requestId)) {
          InFlight work = inFlight.get(JsonRpc.idKey(requestId));
          if (work != null) {
            work.cancel(notification.params().path("reason").asString("cancelled by the client"));
          }
        }
        break;
      case "notifications/roots/list_changed":
        // Only from a client that declared roots: a backend that asks for the roots of a client
        // without them gets an error, and some servers then stop answering everyone.
        if (revision != null && supports("roots")) {
          gateway.toBackends(notification.raw());
        } else {
          log.debug("dropped roots/list_changed from a client that did not declare roots");
        }
        break;
      default:
        log.debug("dropped client notification {}", notification.method());
    }
  }

  private void answer(JsonRpcMessage response) {
    JsonNode answerId = response.id();
    Relay relay = answerId != null && answerId.isIntegralNumber() ? relays.remove(answerId.asLong()) : null;
    if (relay != null) {
      relay.answer.complete(response);
    } else {
      log.debug("dropped a client answer to unknown id {}", response.idText());
    }
  }

  // ---- used by the gateway ----------------------------------------------------------------

  /** Relays a backend's request to the client under a gateway id; the answer completes the relay. */
  Relay relay(long relayId, Backend backend, JsonNode backendId, String method, JsonNode params) {
    Relay relay = new Relay(backend, backendId,
        gateway.clock().nanoTime() + gateway.requestTimeout().toNanos());
    relays.put(relayId, relay);
    if (closing.get()) {
      relays.remove(relayId);
      relay.answer.completeExceptionally(new BackendFailure("the client session closed"));
      return relay;
    }
    send(JsonRpc.request(NODES.numberNode(relayId), method, params));
    return relay;
  }

  /** Cancels a relayed request: tells the client, fails the relay with a cancellation. */
  void cancelRelay(long relayId, String reason) {
    Relay relay = relays.remove(relayId);
    if (relay != null) {
      send(JsonRpc.notification("notifications/cancelled",
          NODES.objectNode().put("requestId", relayId).put("reason", reason)));
      relay.answer.completeExceptionally(new CancellationException(reason));
    }
  }

  /** Times out relayed requests the client has not answered. */
  void tick(long now) {
    for (Map.Entry<Long, Relay> entry : relays.entrySet()) {
      Relay relay = entry.getValue();
      if (now - relay.deadline >= 0 && relays.remove(entry.getKey(), relay)) {
        send(JsonRpc.notification("notifications/cancelled",
            NODES.objectNode().put("requestId", entry.getKey()).put("reason", "timed out in the gateway")));
        relay.answer.completeExceptionally(new TimeoutException("the client did not answer in time"));
      }
    }
  }

  /** Sends a message to the client; a broken transport ends the session. */
  void send(JsonNode message) {
    try {
      transport.send(message);
    } catch (IOException | RuntimeException e) {
      log.debug("cannot send to client session {}: {}", id, e.toString());
      ended();
    }
  }

  /** Whether the client declared a capability in {@code initialize}. */
  boolean supports(String capability) {
    return capabilities.has(capability);
  }

  McpRevision revision() {
    return revision;
  }

  boolean initialized() {
    return revision != null && !closing.get();
  }

  long initializedAt() {
    return initializedAt;
  }

  Credentials credentials() {
    return credentials;
  }

  String id() {
    return id;
  }

  /** The client as recorded in the audit trail: the label given to serve, else its clientInfo. */
  String clientLabel() {
    return label != null ? label : clientInfo;
  }

  Set<String> subscriptions() {
    return subscriptions;
  }

  /** The sequence number of this client's most recent in-flight request to a backend, or -1. */
  long latestRequestTo(Backend backend) {
    long latest = -1;
    for (InFlight work : inFlight.values()) {
      if (work.backend() == backend && work.sequence > latest) {
        latest = work.sequence;
      }
    }
    return latest;
  }

  private void ended() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    for (InFlight work : inFlight.values()) {
      work.cancel("the client session closed");
    }
    for (Long relayId : relays.keySet()) {
      Relay relay = relays.remove(relayId);
      if (relay != null) {
        relay.answer.completeExceptionally(new BackendFailure("the client session closed"));
      }
    }
    gateway.sessionEnded(this);
    transport.close();
    closed.complete(null);
  }
}
