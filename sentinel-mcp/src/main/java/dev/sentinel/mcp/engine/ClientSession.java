package dev.sentinel.mcp.engine;

import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.api.Transport;
import dev.sentinel.core.Call;
import dev.sentinel.core.config.Isolation;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
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
 * so a slow backend never delays a {@code ping} or a cancellation. A call forwarded to one
 * backend as it is ({@code tools/call}, {@code prompts/get}, {@code resources/read}) holds no worker while the backend
 * works: it is decided and sent on a worker, then answered, and recorded, on the thread that
 * reads the backend's answer (or that ends it: a timeout, a cancellation, the backend's exit). At most the gateway's
 * {@code maxPendingRequests} requests are in flight; more are refused at once with
 * {@code -32000}. Across all of a principal's sessions, at most the gateway's
 * {@code maxInFlightPerPrincipal}; more are refused with {@code -32014} and recorded.
 *
 * <p>A session belongs to one principal: the one its credentials authenticate as when it is
 * served (or, if they do not, its first request's that do). Its calls are bound to that
 * principal ({@link Call#principalId()}), and the backend connections it is given follow from
 * it ({@link Isolation}).
 *
 * <p>Thread-safe.
 */
public final class ClientSession {
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final McpGateway gateway;
  private final Transport transport;
  private volatile Credentials credentials;
  private final @Nullable String label;
  /**
   * The session's id in the audit trail and in the ownership of its backend connections: unique,
   * not secret (no client presents it), so a random version-4 UUID from a fast generator rather
   * than {@link UUID#randomUUID}, which costs a system call for each stateless request.
   */
  private final String id = fastUuid();
  private final Map<String, InFlight> inFlight = new ConcurrentHashMap<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final Map<Long, Relay> relays = new ConcurrentHashMap<>();
  private final Set<String> subscriptions = ConcurrentHashMap.newKeySet();
  private volatile @Nullable Principal owner;
  private volatile @Nullable JsonNode logLevel;
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile @Nullable McpRevision revision;
  private volatile JsonNode capabilities = NODES.objectNode();
  private volatile @Nullable String clientInfo;
  /** Whether the session serves one HTTP exchange only: its backend connections are its principal's. */
  private final boolean perExchange;
  /** An exchange's {@code Mcp-Param-*} headers by lower-case name, or {@code null} off HTTP. */
  private final @Nullable Map<String, java.util.List<String>> paramHeaders;
  /** The stateless client's open {@code subscriptions/listen} requests, by request id key. */
  private final Map<String, Subscription> listening = new ConcurrentHashMap<>();
  /** The most {@code subscriptions/listen} streams one session holds open. */
  static final int MAX_SUBSCRIPTIONS = 16;

  /** An open {@code subscriptions/listen}: its request id, the list changes and the resource URIs it gets. */
  record Subscription(JsonNode id, Set<Router.Listing> listings, Set<String> uris) {}

  /** Whether the client sent a stateless (MCP 2026-07-28) request; it may then not initialize. */
  private volatile boolean statelessSeen;

  /**
   * A request to this client (a backend's, relayed, or the gateway's own), awaiting the client's
   * answer until its deadline.
   */
  static final class Relay {
    final long deadline;
    /** The request of this client the relayed request is about, or {@code null}. */
    final @Nullable InFlight about;
    final CompletableFuture<JsonRpcMessage> answer = new CompletableFuture<>();

    Relay(long deadline, @Nullable InFlight about) {
      this.deadline = deadline;
      this.about = about;
    }

    /**
     * Waits for the client's answer: its success response; an error answer throws {@link
     * PeerError}, and a relay that failed (timed out, session closed) throws its cause.
     */
    JsonRpcMessage response() throws Exception {
      JsonRpcMessage response;
      try {
        response = answer.get();
      } catch (java.util.concurrent.ExecutionException e) {
        Throwable cause = Upstream.unwrap(e);
        throw cause instanceof Exception ? (Exception) cause : e;
      }
      if (response.kind() == JsonRpcMessage.Kind.ERROR) {
        throw new PeerError(response.error());
      }
      return response;
    }
  }

  ClientSession(McpGateway gateway, Transport transport, Credentials credentials, @Nullable String label) {
    this(gateway, transport, credentials, label, false, null);
  }

  ClientSession(McpGateway gateway, Transport transport, Credentials credentials, @Nullable String label,
      boolean perExchange, @Nullable Map<String, java.util.List<String>> paramHeaders) {
    this.gateway = gateway;
    this.transport = transport;
    this.credentials = credentials;
    this.label = label;
    this.perExchange = perExchange;
    this.paramHeaders = paramHeaders;
  }

  /**
   * Binds the session to the principal the transport authenticated ({@code asserted}), else to
   * the one the credentials authenticate as, if it has none yet.
   */
  private void bindOwner(Credentials presented, @Nullable Principal asserted) {
    if (owner != null) {
      return;
    }
    Principal who = asserted;
    if (who == null) {
      AuthenticationResult result = gateway.sentinel().authenticate(presented);
      who = result.authenticated() ? result.principal() : null;
    }
    if (who != null) {
      synchronized (this) {
        if (owner == null) {
          owner = who;
        }
      }
    }
  }

  /** Binds the session as it is served: to the principal its transport authenticated, else by its credentials. */
  void bindOwner(@Nullable Principal authenticated) {
    bindOwner(credentials, authenticated);
  }

  private static String fastUuid() {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L; // version 4
    long low = (random.nextLong() & ~(0x3L << 62)) | (0x2L << 62); // the IETF variant
    return new UUID(high, low).toString();
  }

  void start() {
    transport.start(new Transport.Receiver() {
      @Override
      public void message(JsonNode message) {
        try {
          receive(JsonRpc.classify(message), null);
        } catch (RuntimeException e) {
          log.warn("handling a client message failed", e);
        }
      }

      @Override
      public void exchange(Transport.Exchange exchange) {
        JsonRpcMessage classified = null;
        try {
          credentials = Objects.requireNonNull(exchange.credentials(), "credentials");
          classified = exchange instanceof McpExchange ? ((McpExchange) exchange).classified()
              : JsonRpc.classify(exchange.message());
          receive(classified, exchange);
        } catch (RuntimeException e) {
          log.warn("handling a client message failed", e);
          if (classified != null && classified.kind() == JsonRpcMessage.Kind.REQUEST) {
            // The exchange waits for an answer: it gets one (a second, should one have gone out, is dropped).
            reply(exchange, JsonRpc.error(classified.id(), ErrorCode.INTERNAL_ERROR, "internal error"));
          }
        }
      }

      @Override
      public void closed(@Nullable Throwable cause) {
        ended();
      }
    });
  }

  /** Completes when the session has ended, whichever side closed it. */
  public CompletableFuture<Void> closed() {
    return closed;
  }

  /** The negotiated MCP revision, or {@code null} before {@code initialize}. */
  public @Nullable String protocolVersion() {
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

  /**
   * Records in the audit trail that the gateway refused this session something outside any of
   * its requests, such as a transport dropping a stream whose client does not read what it is
   * sent. The event names the session's principal, the session, and {@code method} (such as
   * {@code sentinel/stream_dropped}). May block while the audit queue is full: call it off any
   * lock.
   */
  public void recordRefusal(String method, Refusal refusal) {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(refusal, "refusal");
    gateway.sentinel().refuse(new Call(credentials, Request.of(method), id, clientLabel(), null, ownerId()), refusal);
  }

  /** Ends the session: closes the transport and cancels what is in flight. */
  public void close() {
    transport.close();
    ended();
  }

  // ---- receiving --------------------------------------------------------------------------

  /**
   * One message from the client, with the exchange it came in ({@code null} when the transport
   * delivered it alone): what answers a request goes back through it.
   */
  private void receive(JsonRpcMessage classified, Transport.@Nullable Exchange exchange) {
    switch (classified.kind()) {
      case REQUEST:
        request(classified, exchange);
        break;
      case NOTIFICATION:
        notification(classified);
        break;
      case RESULT:
      case ERROR:
        answer(classified);
        break;
      default:
        JsonNode message = classified.raw();
        if (!message.has("result") && !message.has("error")) {
          reply(exchange, JsonRpc.invalidRequest(classified));
        } else {
          log.debug("dropped an invalid response from the client: {}", classified.problem());
        }
    }
  }

  private void request(JsonRpcMessage request, Transport.@Nullable Exchange exchange) {
    String method = request.method();
    if (revision == null && (perExchange || StatelessMeta.declared(request.params()))) {
      stateless(request, exchange);
      return;
    }
    if ("ping".equals(method)) {
      reply(exchange, JsonRpc.result(request.requiredId(), NODES.objectNode()));
      return;
    }
    if ("initialize".equals(method)) {
      if (statelessSeen) {
        // A session-opening initialize on a connection that already speaks 2026-07-28: the
        // method exists (for older clients), the request does not fit the connection.
        refuseStateless(request, new StatelessMeta.Problem(ErrorCode.INVALID_REQUEST, "invalid request: this"
            + " connection speaks MCP 2026-07-28 (its requests carry " + StatelessMeta.PROTOCOL_VERSION
            + " in _meta), which has no initialize", null), exchange);
        return;
      }
      initialize(request, exchange);
      return;
    }
    if (revision == null) {
      reply(exchange, JsonRpc.error(request.id(), ErrorCode.INVALID_REQUEST,
          "the session is not initialized: send initialize first"));
      return;
    }
    if (!request.params().isMissingNode() && !request.params().isObject()) {
      reply(exchange, JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "params must be an object"));
      return;
    }
    admit(request, null, exchange);
  }

  /**
   * A stateless (MCP 2026-07-28) request: its {@code _meta} is checked, and a request that is
   * malformed, names a version Sentinel does not speak, or calls a method not served statelessly
   * is refused with the specification's code and recorded; nothing is forwarded.
   */
  private void stateless(JsonRpcMessage request, Transport.@Nullable Exchange exchange) {
    StatelessMeta.Problem problem = StatelessMeta.check(request);
    if (problem == null) {
      problem = StatelessMeta.refusal(request.requiredMethod());
    }
    if (problem != null) {
      refuseStateless(request, problem, exchange);
      return;
    }
    statelessSeen = true;
    StatelessMeta meta = StatelessMeta.of(request);
    if (meta.clientInfo() != null) {
      clientInfo = meta.clientInfo();
    }
    admit(request, meta, exchange);
  }

  /** Refuses a stateless request before anything is forwarded, and records the refusal. */
  private void refuseStateless(JsonRpcMessage request, StatelessMeta.Problem problem,
      Transport.@Nullable Exchange exchange) {
    Principal who = exchange == null ? null : exchange.principal();
    bindOwner(credentials, who);
    gateway.sentinel().refuse(new Call(credentials, Request.of(request.requiredMethod()), id, clientLabel(),
        request.idText(), ownerId(), java.util.List.of(), who),
        Refusal.of(Outcome.DENIED, java.util.List.of(StatelessMeta.RULE), problem.message()));
    reply(exchange, JsonRpc.error(request.id(), problem.code().code(), problem.message(), problem.data()));
  }

  /** Takes a request in flight within the session's and the principal's bounds, and hands it to a worker. */
  private void admit(JsonRpcMessage request, @Nullable StatelessMeta stateless, Transport.@Nullable Exchange exchange) {
    String key = JsonRpc.idKey(request.id());
    Principal who = exchange == null ? null : exchange.principal();
    bindOwner(credentials, who);
    if (pending.incrementAndGet() > gateway.maxPendingRequests()) {
      pending.decrementAndGet();
      reply(exchange, JsonRpc.error(request.id(), ErrorCode.TOO_MANY_PENDING,
          "too many pending requests (at most " + gateway.maxPendingRequests() + ")"));
      return;
    }
    InFlight work = new InFlight(request.requiredId(), key, gateway.nextSequence(), credentials, who, exchange,
        stateless, request.method());
    if (inFlight.putIfAbsent(key, work) != null) {
      pending.decrementAndGet();
      reply(exchange, JsonRpc.error(request.id(), ErrorCode.INVALID_REQUEST,
          "request id " + request.idText() + " is already in flight"));
      return;
    }
    String quota = quotaKey();
    if (!gateway.acquireInFlight(quota)) {
      inFlight.remove(key, work);
      pending.decrementAndGet();
      refuseOverQuota(request, work);
      return;
    }
    work.quotaKey = quota;
    try {
      gateway.executor().execute(() -> process(request, work));
    } catch (RejectedExecutionException e) {
      finish(work);
      reply(exchange, JsonRpc.error(request.id(), ErrorCode.TOO_MANY_PENDING,
          "too many pending requests: the gateway is busy"));
    }
  }

  private void process(JsonRpcMessage request, InFlight work) {
    CompletionStage<@Nullable ObjectNode> answer;
    try {
      answer = gateway.router().handle(this, request, work);
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    } catch (Error e) {
      finish(work);
      throw e;
    }
    // Most requests are answered by now; a forwarded call, by the thread that reads its backend.
    answer.whenComplete((response, failure) -> answered(request, work, response, failure));
  }

  /** Ends a request: its response is sent (a stateless one's finished first), unless it was cancelled. */
  private void answered(JsonRpcMessage request, InFlight work, @Nullable ObjectNode handled,
      @Nullable Throwable failure) {
    ObjectNode response = handled;
    try {
      if (failure != null) {
        log.warn("handling {} failed", request.method(), failure);
        response = JsonRpc.error(request.id(), ErrorCode.INTERNAL_ERROR, "internal error");
      } else if (response != null && work.stateless != null) {
        if (work.missingCapability != null) {
          response = missingCapability(request, work.missingCapability);
        } else {
          // A question for the client (a confirmation) answers the request instead of its refusal.
          ObjectNode question = work.inputRequired;
          response = Router.finishStateless(question != null ? JsonRpc.result(request.requiredId(), question)
              : response, request.requiredMethod(), gateway);
        }
      }
    } catch (RuntimeException e) {
      log.warn("handling {} failed", request.method(), e);
      response = JsonRpc.error(request.id(), ErrorCode.INTERNAL_ERROR, "internal error");
    } finally {
      finish(work);
    }
    if (work.cancelled()) {
      if (work.exchange != null) {
        work.exchange.cancelled();
      }
    } else if (response != null) {
      reply(work.exchange, response);
    }
  }

  private void finish(InFlight work) {
    if (inFlight.remove(work.key, work)) {
      pending.decrementAndGet();
      if (work.quotaKey != null) {
        gateway.releaseInFlight(work.quotaKey);
      }
    }
  }

  /** Whose in-flight quota the session's requests count against. */
  private String quotaKey() {
    Principal who = owner;
    return who != null ? "p:" + who.id() : "s:" + id;
  }

  /** Refuses a request over the principal's in-flight bound, and records the refusal. */
  private void refuseOverQuota(JsonRpcMessage request, InFlight work) {
    int max = gateway.maxInFlightPerPrincipal();
    String reason = "too many requests in flight for this principal (max_in_flight_per_principal: " + max + ")";
    Refusal refusal = new Refusal(Outcome.LIMITED, java.util.List.of("max_in_flight_per_principal"), reason,
        java.time.Duration.ofSeconds(1));
    JsonNode name = request.params().path("name");
    Request governed = new Request(request.requiredMethod(), null, name.isString() ? name.stringValue() : null,
        Router.NO_ARGUMENTS);
    gateway.sentinel().refuse(call(work, governed, request.idText()), refusal);
    ObjectNode data = NODES.objectNode().put("outcome", Outcome.LIMITED.name());
    data.putArray("rules").add("max_in_flight_per_principal");
    data.put("retryAfterMs", refusal.retryAfter().toMillis());
    reply(work.exchange, JsonRpc.error(request.id(), ErrorCode.forRefusal(Outcome.LIMITED).code(), reason, data));
  }

  private void initialize(JsonRpcMessage request, Transport.@Nullable Exchange exchange) {
    if (revision != null) {
      reply(exchange, JsonRpc.error(request.id(), ErrorCode.INVALID_REQUEST, "the session is already initialized"));
      return;
    }
    McpRevision negotiated = open(request.params());
    reply(exchange, JsonRpc.result(request.requiredId(), gateway.initializeResult(negotiated)));
  }

  /**
   * Takes the client's {@code initialize} request that was answered before this session existed
   * ({@link InitializeAnswer#ahead}): the session is initialized as if it had answered it. Called
   * before {@link #start}.
   */
  void answeredAhead(JsonRpcMessage initialize) {
    if (!InitializeAnswer.opening(initialize)) {
      throw new IllegalArgumentException("not a session-opening initialize request");
    }
    open(initialize.params());
  }

  /** Opens the session with an {@code initialize} request's params; answers the negotiated revision. */
  private McpRevision open(JsonNode params) {
    McpRevision negotiated = McpRevision.negotiate(params.path("protocolVersion").asString(""));
    capabilities = params.path("capabilities").isObject() ? params.get("capabilities") : NODES.objectNode();
    JsonNode info = params.path("clientInfo");
    if (info.isObject()) {
      String name = info.path("name").asString("");
      String version = info.path("version").asString("");
      clientInfo = version.isEmpty() ? name : name + "/" + version;
    }
    revision = negotiated;
    return negotiated;
  }

  private void notification(JsonRpcMessage notification) {
    switch (notification.requiredMethod()) {
      case "notifications/initialized":
        break;
      case "notifications/cancelled":
        JsonNode requestId = notification.params().path("requestId");
        if (JsonRpc.validId(requestId)) {
          InFlight work = inFlight.get(JsonRpc.idKey(requestId));
          if (work != null) {
            work.cancel(notification.params().path("reason").asString("cancelled by the client"));
          }
          // A cancelled subscription ends without an answer, as any cancelled request.
          listening.remove(JsonRpc.idKey(requestId));
        }
        break;
      case "notifications/roots/list_changed":
        // Only from a client that declared roots: a backend that asks for the roots of a client
        // without them gets an error, and some servers then stop answering everyone.
        if (revision != null && supports("roots")) {
          gateway.toBackends(this, notification.raw());
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

  /**
   * Relays a backend's request to the client under a gateway id, answered within the gateway's
   * request timeout; the answer completes the relay.
   */
  Relay relay(long relayId, String method, JsonNode params, @Nullable InFlight about) {
    return request(relayId, method, params, gateway.clock().nanoTime() + gateway.requestTimeout().toNanos(), about);
  }

  /**
   * Sends a request to the client under a gateway id; its answer, or the deadline (on the
   * gateway clock's {@code nanoTime}, checked by {@link #tick}), completes the relay.
   */
  Relay request(long relayId, String method, JsonNode params, long deadline, @Nullable InFlight about) {
    Relay relay = new Relay(deadline, about);
    relays.put(relayId, relay);
    if (closing.get()) {
      relays.remove(relayId);
      relay.answer.completeExceptionally(new BackendFailure("the client session closed"));
      return relay;
    }
    send(JsonRpc.request(NODES.numberNode(relayId), method, params), about);
    return relay;
  }

  /** Cancels a relayed request: tells the client, fails the relay with a cancellation. */
  void cancelRelay(long relayId, String reason) {
    Relay relay = relays.remove(relayId);
    if (relay != null) {
      send(JsonRpc.notification("notifications/cancelled",
          NODES.objectNode().put("requestId", relayId).put("reason", reason)), relay.about);
      relay.answer.completeExceptionally(new CancellationException(reason));
    }
  }

  /** Times out relayed requests the client has not answered. */
  void tick(long now) {
    for (Map.Entry<Long, Relay> entry : relays.entrySet()) {
      Relay relay = entry.getValue();
      if (now - relay.deadline >= 0 && relays.remove(entry.getKey(), relay)) {
        send(JsonRpc.notification("notifications/cancelled",
            NODES.objectNode().put("requestId", entry.getKey()).put("reason", "timed out in the gateway")),
            relay.about);
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

  /**
   * Sends a message about one of the client's requests: through the exchange it came in, when
   * its transport delivered it with one, else as {@link #send}.
   */
  void send(JsonNode message, @Nullable InFlight about) {
    reply(about == null ? null : about.exchange, message);
  }

  /** Sends a message through an exchange, or through the transport when there is none. */
  private void reply(Transport.@Nullable Exchange exchange, JsonNode message) {
    if (exchange == null) {
      send(message);
      return;
    }
    try {
      exchange.reply(message);
    } catch (IOException | RuntimeException e) {
      log.debug("cannot answer on client session {}: {}", id, e.toString());
      ended();
    }
  }

  /**
   * The call of one of the client's requests, or of a question about it, as the pipeline takes
   * it: its caller is the principal the transport authenticated with the request, else whom its
   * credentials authenticate as.
   */
  Call call(InFlight work, Request governed, @Nullable String requestId) {
    return new Call(work.credentials, governed, id, clientLabel(), requestId, ownerId(), java.util.List.of(),
        work.principal);
  }

  /** The capabilities the client declared in {@code initialize} (an empty object before it). */
  JsonNode capabilities() {
    return capabilities;
  }

  /** Whether the client declared a capability in {@code initialize}. */
  boolean supports(String capability) {
    return capabilities.has(capability);
  }

  /**
   * Whether the gateway itself may ask this client a form question: an initialized session of a
   * revision with elicitation, whose client declared it for forms (MCP 2025-11-25 {@code
   * elicitation.form}; a declaration naming no mode means forms, as before modes existed).
   */
  boolean asksForms() {
    JsonNode elicitation = capabilities.get("elicitation");
    if (!initialized() || revision == null || !revision.supportsElicitation()
        || elicitation == null || !elicitation.isObject()) {
      return false;
    }
    return elicitation.has("form") || !elicitation.has("url");
  }

  @Nullable McpRevision revision() {
    return revision;
  }

  /**
   * The answer to a stateless request that needed a capability its client did not declare:
   * {@code -32021} with {@code data.requiredCapabilities}, as 2026-07-28 says.
   */
  private static ObjectNode missingCapability(JsonRpcMessage request, String capability) {
    ObjectNode data = NODES.objectNode();
    data.putObject("requiredCapabilities").putObject(capability);
    return JsonRpc.error(request.id(), ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY.code(),
        "Missing required client capability: " + capability + " (declare it in _meta."
            + StatelessMeta.CLIENT_CAPABILITIES + ")", data);
  }

  /** Opens a subscription, false when the session holds {@value #MAX_SUBSCRIPTIONS} already or the id is taken. */
  boolean listen(JsonNode id, Set<Router.Listing> listings, Set<String> uris) {
    synchronized (listening) {
      if (listening.size() >= MAX_SUBSCRIPTIONS || closing.get()) {
        return false;
      }
      return listening.putIfAbsent(JsonRpc.idKey(id), new Subscription(id, Set.copyOf(listings), Set.copyOf(uris)))
          == null;
    }
  }

  /** Whether the session may open another subscription. */
  boolean mayListen() {
    return listening.size() < MAX_SUBSCRIPTIONS;
  }

  /** Sends a resource update to every subscription that asked for that URI, tagged with its id. */
  void notifyResourceUpdate(String uri, JsonNode message) {
    for (Subscription subscription : listening.values()) {
      if (subscription.uris().contains(uri)) {
        send(subscribed(message, subscription.id()));
      }
    }
  }

  /** Whether one of the session's subscriptions asked for changes of this list. */
  boolean listens(Router.Listing listing) {
    for (Subscription subscription : listening.values()) {
      if (subscription.listings().contains(listing)) {
        return true;
      }
    }
    return false;
  }

  /** Sends a list change to every subscription that asked for it, tagged with its subscription id. */
  void notifySubscriptions(Router.Listing listing, JsonNode message) {
    for (Subscription subscription : listening.values()) {
      if (subscription.listings().contains(listing)) {
        send(subscribed(message, subscription.id()));
      }
    }
  }

  /** A copy of a notification with {@code params._meta[subscriptionId]} set. */
  static ObjectNode subscribed(JsonNode message, JsonNode subscriptionId) {
    ObjectNode copy = (ObjectNode) message.deepCopy();
    JsonNode params = copy.get("params");
    ObjectNode tagged = params instanceof ObjectNode ? (ObjectNode) params : copy.putObject("params");
    JsonNode meta = tagged.get("_meta");
    (meta instanceof ObjectNode ? (ObjectNode) meta : tagged.putObject("_meta"))
        .set(StatelessMeta.SUBSCRIPTION_ID, subscriptionId);
    return copy;
  }

  /**
   * The one stateless request of this session in flight on a connection, or {@code null} when
   * there is none or several: a backend's request is attributed to a client request only surely.
   */
  @Nullable InFlight statelessRequestOn(Upstream upstream) {
    @Nullable InFlight found = null;
    for (InFlight work : inFlight.values()) {
      if (work.stateless != null && work.upstream() == upstream) {
        if (found != null) {
          return null;
        }
        found = work;
      }
    }
    return found;
  }

  /**
   * Whether a request of this session other than {@code trip}'s attempt is in flight on the
   * connection and could have caused its request to the client: any request of an initialized
   * session, and a stateless one that may need input ({@link McpGateway#NEEDS_INPUT}).
   */
  boolean mayHaveAsked(Upstream upstream, RoundTrip trip) {
    for (InFlight work : inFlight.values()) {
      if (work.upstream() == upstream && work.roundTrip != trip
          && (work.stateless == null || McpGateway.NEEDS_INPUT.contains(work.method))) {
        return true;
      }
    }
    return false;
  }

  /** Whether the client speaks stateless MCP (2026-07-28) on this session: it never initialized. */
  boolean stateless() {
    return revision == null && (statelessSeen || perExchange) && !closing.get();
  }

  /** The exchange's {@code Mcp-Param-*} headers by lower-case name, or {@code null} when it has no HTTP headers. */
  @Nullable Map<String, java.util.List<String>> paramHeaders() {
    return paramHeaders;
  }

  /** Whether the session serves one exchange only; its backend connections are then its principal's. */
  boolean perExchange() {
    return perExchange;
  }

  /**
   * Whether a log message at {@code level} from this connection goes to this stateless session:
   * only while one of its requests that asked for that level is in flight on the connection.
   */
  boolean wantsLog(Upstream upstream, String level) {
    for (InFlight work : inFlight.values()) {
      if (work.stateless != null && work.upstream() == upstream && work.stateless.wantsLog(level)) {
        return true;
      }
    }
    return false;
  }

  boolean initialized() {
    return revision != null && !closing.get();
  }

  Credentials credentials() {
    return credentials;
  }

  /** The principal the session belongs to, or {@code null} while its credentials authenticate as none. */
  @Nullable Principal owner() {
    return owner;
  }

  /** The id of the principal the session belongs to, or {@code null}. */
  @Nullable String ownerId() {
    Principal who = owner;
    return who == null ? null : who.id();
  }

  /** The params of the client's last {@code logging/setLevel}, for connections made later; or {@code null}. */
  @Nullable JsonNode logLevel() {
    return logLevel;
  }

  void logLevel(@Nullable JsonNode params) {
    this.logLevel = params;
  }

  String id() {
    return id;
  }

  /** The client as recorded in the audit trail: the label given to serve, else its clientInfo. */
  @Nullable String clientLabel() {
    return label != null ? label : clientInfo;
  }

  Set<String> subscriptions() {
    return subscriptions;
  }

  /** The sequence number of this client's most recent in-flight request on a connection, or -1. */
  long latestRequestTo(Upstream upstream) {
    InFlight latest = latestOn(upstream);
    return latest == null ? -1 : latest.sequence;
  }

  /**
   * This client's most recent request in flight on a connection, or {@code null}: the one a
   * request the connection's server sends is taken to be about.
   */
  @Nullable InFlight latestOn(Upstream upstream) {
    @Nullable InFlight latest = null;
    for (InFlight work : inFlight.values()) {
      if (work.upstream() == upstream && (latest == null || work.sequence > latest.sequence)) {
        latest = work;
      }
    }
    return latest;
  }

  private void ended() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    // The gateway ends its subscriptions gracefully: each gets its answer (the transport drops
    // it when it is the client that went away).
    for (Subscription subscription : listening.values()) {
      ObjectNode result = NODES.objectNode().put("resultType", "complete");
      result.putObject("_meta").set(StatelessMeta.SUBSCRIPTION_ID, subscription.id());
      send(JsonRpc.result(subscription.id(), result));
    }
    listening.clear();
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
