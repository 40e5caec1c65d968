package dev.sentinel.runner.http;

import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.mcp.engine.BackendStatus;
import dev.sentinel.mcp.engine.ClientSession;
import dev.sentinel.mcp.engine.McpRevision;
import dev.sentinel.mcp.engine.StatelessMeta;
import dev.sentinel.mcp.streamable.Cap;
import dev.sentinel.mcp.streamable.StatelessExchange;
import dev.sentinel.mcp.streamable.StreamableHub;
import dev.sentinel.mcp.streamable.StreamableSession;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Refusal;
import dev.sentinel.core.Call;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The HTTP surface: the MCP endpoint (POST, GET, DELETE) and the health endpoints. Checks run
 * cheapest and least revealing first: Host, then Origin, then credentials, then the method's
 * own rules (content type, accepted types, body size, JSON, session).
 *
 * <p>Thread-safe; Jetty calls it concurrently.
 */
final class McpHandler extends Handler.Abstract {
  private static final Logger log = LoggerFactory.getLogger(McpHandler.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** The JSON-RPC code of "session not found", as the reference SDKs answer it. */
  static final int SESSION_NOT_FOUND = -32001;
  /** The W3C Trace Context header a client may send its trace context in. */
  static final String TRACEPARENT = "traceparent";
  private static final String UNAUTHENTICATED = "missing or invalid credentials";
  private static final String SEVERAL_CREDENTIALS =
      "invalid request: present one credential, in Authorization or in X-API-Key, not several";

  /**
   * The settings the handler reads; {@code metadata} is {@code null} when no protected resource
   * metadata is served (API keys only).
   */
  record Settings(String path, long maxBodyBytes, long idleNanos, Authenticator authenticator,
      @Nullable ResourceMetadata metadata) {
    Settings(String path, long maxBodyBytes, long idleNanos, Authenticator authenticator) {
      this(path, maxBodyBytes, idleNanos, authenticator, null);
    }
  }

  private final Settings settings;
  private final GatewayRuntime runtime;
  private final StreamableHub hub;
  private final Json json;
  private final Guard guard;
  private final BooleanSupplier draining;
  private final MetricsRoute metrics;
  /** Whether the handler authenticates with the runtime's own authenticator (as the launcher wires it). */
  private final boolean sameAuthenticator;

  McpHandler(Settings settings, GatewayRuntime runtime, StreamableHub hub, Json json, Guard guard,
      BooleanSupplier draining, MetricsRoute metrics) {
    this.settings = settings;
    this.runtime = runtime;
    this.hub = hub;
    this.json = json;
    this.guard = guard;
    this.draining = draining;
    this.metrics = metrics;
    this.sameAuthenticator = settings.authenticator() == runtime.sentinel().authenticator();
  }

  /**
   * The principal the engine may take as the caller without authenticating the request again:
   * the one found here when the handler's authenticator is the runtime's, else {@code null} (an
   * embedder that gave the HTTP gateway another authenticator keeps the runtime's deciding).
   */
  private @Nullable Principal forEngine(Principal principal) {
    return sameAuthenticator ? principal : null;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String path = Request.getPathInContext(request);
    try {
      if (path.equals(settings.path())) {
        mcp(request, response, callback);
      } else if (path.equals("/healthz") || path.equals("/livez")) {
        health(request, response, callback, true, "ok");
      } else if (path.equals("/readyz")) {
        ready(request, response, callback);
      } else if (path.equals("/metrics")) {
        metrics.serve(json, guard, request, response, callback);
      } else if (settings.metadata() != null && settings.metadata().serves(path)) {
        metadata(request, response, callback, settings.metadata());
      } else {
        Replies.error(json, response, callback, 404, ErrorCode.INVALID_REQUEST, "not found");
      }
    } catch (RuntimeException e) {
      if (!response.isCommitted()) {
        Replies.internalError(json, response, callback, log,
            "handling " + request.getMethod() + " " + path, e);
      } else {
        log.warn("handling {} {} failed after the answer began", request.getMethod(), path, e);
        callback.failed(e);
      }
    }
    return true;
  }

  // ---- operations -------------------------------------------------------------------------

  private void health(Request request, Response response, Callback callback, boolean up, String status) {
    if (!isGetOrHead(request)) {
      methodNotAllowed(response, callback, "GET, HEAD");
      return;
    }
    ObjectNode body = NODES.objectNode().put("status", status);
    Replies.json(json, response, callback, up ? 200 : 503, body);
  }

  private void ready(Request request, Response response, Callback callback) {
    if (!isGetOrHead(request)) {
      methodNotAllowed(response, callback, "GET, HEAD");
      return;
    }
    ObjectNode body = NODES.objectNode();
    ObjectNode backends = NODES.objectNode();
    boolean anyUp = false;
    for (Map.Entry<String, BackendStatus> entry : runtime.backends().entrySet()) {
      backends.put(entry.getKey(), entry.getValue().state().name());
      anyUp |= entry.getValue().state() == BackendStatus.State.UP;
    }
    boolean ready = anyUp && !draining.getAsBoolean();
    body.put("status", draining.getAsBoolean() ? "draining" : ready ? "ready" : "no backend is up");
    body.set("backends", backends);
    Replies.json(json, response, callback, ready ? 200 : 503, body);
  }

  /** The protected resource metadata: public, but Host-checked like the MCP endpoint. */
  private void metadata(Request request, Response response, Callback callback,
      ResourceMetadata metadata) {
    if (!isGetOrHead(request)) {
      methodNotAllowed(response, callback, "GET, HEAD");
      return;
    }
    if (hostRefused(request, response, callback)) {
      return;
    }
    Replies.json(json, response, callback, 200, metadata.document(request));
  }

  /** Whether the request's Host is refused, after answering 403. */
  private boolean hostRefused(Request request, Response response, Callback callback) {
    String host = request.getHeaders().get(HttpHeader.HOST);
    if (host == null) {
      host = request.getHttpURI().getAuthority();
    }
    if (!guard.hostAllowed(host)) {
      log.info("refused a request from {}: Host not allowed", remote(request));
      Replies.error(json, response, callback, 403, ErrorCode.INVALID_REQUEST, "forbidden: Host not allowed");
      return true;
    }
    return false;
  }

  private static boolean isGetOrHead(Request request) {
    return "GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod());
  }

  // ---- the MCP endpoint -------------------------------------------------------------------

  private void mcp(Request request, Response response, Callback callback) {
    HttpFields headers = request.getHeaders();
    if (hostRefused(request, response, callback)) {
      return;
    }
    String origin = headers.get(HttpHeader.ORIGIN);
    if (origin != null && !guard.originAllowed(origin)) {
      log.info("refused a request from {}: Origin not allowed", remote(request));
      Replies.error(json, response, callback, 403, ErrorCode.INVALID_REQUEST, "forbidden: Origin not allowed");
      return;
    }
    Credentials credentials;
    try {
      credentials = credentials(headers);
    } catch (IllegalArgumentException ambiguous) {
      Replies.error(json, response, callback, 400, ErrorCode.INVALID_REQUEST, SEVERAL_CREDENTIALS);
      return;
    }
    AuthenticationResult result = credentials == null
        ? AuthenticationResult.failure("malformed Authorization header") : authenticate(credentials);
    Principal principal = result.principal();
    // No credentials (a malformed header) is a failure, whose principal is null already.
    if (principal == null || credentials == null) {
      // The reason is fixed text from the authenticator: never the token or its claims.
      log.info("refused a request from {}: {} ({})", remote(request), UNAUTHENTICATED, result.reason());
      response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE,
          challenge(request, credentials == null || credentials.type() == Credentials.Type.NONE));
      unauthorized(request, response, callback);
      return;
    }
    if (draining.getAsBoolean() && "GET".equals(request.getMethod())) {
      shuttingDown(response, callback);
      return;
    }
    switch (request.getMethod()) {
      case "POST":
        post(request, response, callback, credentials, principal);
        break;
      case "GET":
        get(request, response, callback, principal);
        break;
      case "DELETE":
        delete(request, response, callback, principal);
        break;
      default:
        methodNotAllowed(response, callback, "GET, POST, DELETE");
    }
  }

  /**
   * The credentials presented: {@code Authorization: Bearer} or {@code X-API-Key}, else none;
   * {@code null} for a malformed {@code Authorization} header.
   *
   * @throws IllegalArgumentException when more than one credential is presented
   */
  static @Nullable Credentials credentials(HttpFields headers) {
    List<String> authorization = headers.getValuesList(HttpHeader.AUTHORIZATION);
    List<String> apiKey = headers.getValuesList(HttpHeaders.API_KEY);
    if (authorization.size() + apiKey.size() > 1) {
      throw new IllegalArgumentException(SEVERAL_CREDENTIALS);
    }
    if (!apiKey.isEmpty()) {
      String key = apiKey.get(0).trim();
      return key.isEmpty() ? null : Credentials.apiKey(key);
    }
    if (authorization.isEmpty()) {
      return Credentials.none();
    }
    String value = authorization.get(0).trim();
    int space = value.indexOf(' ');
    if (space < 0 || !value.substring(0, space).equalsIgnoreCase("Bearer")) {
      return null;
    }
    String token = value.substring(space + 1).trim();
    return token.isEmpty() || token.indexOf(' ') >= 0 ? null : Credentials.bearer(token);
  }

  /**
   * Answers 401 after reading (and dropping) the request body, up to the body limit: a server
   * that closes a connection with unread input makes the kernel reset it, and the client can
   * lose the answer. A longer body gets the answer and the connection closes.
   */
  private void unauthorized(Request request, Response response, Callback callback) {
    if (request.getLength() == 0 || !"POST".equals(request.getMethod())) {
      Replies.error(json, response, callback, 401, ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED);
      return;
    }
    BodyReader.read(request, settings.maxBodyBytes(), new BodyReader.Result() {
      @Override
      public void body(byte[] bytes) {
        Replies.error(json, response, callback, 401, ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED);
      }

      @Override
      public void tooLarge() {
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        Replies.error(json, response, callback, 401, ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED);
      }

      @Override
      public void failed(Throwable cause) {
        callback.failed(cause);
      }
    });
  }

  /** The authenticator's answer; an authenticator that throws or answers nothing refuses. */
  private AuthenticationResult authenticate(Credentials credentials) {
    try {
      AuthenticationResult result = settings.authenticator().authenticate(credentials);
      return result != null ? result : AuthenticationResult.failure("the authenticator answered nothing");
    } catch (RuntimeException e) {
      log.warn("the authenticator threw {}; the request is refused", e.getClass().getName());
      return AuthenticationResult.failure("the authenticator failed");
    }
  }

  /**
   * The {@code WWW-Authenticate} of a 401: with protected resource metadata, where it is (MCP
   * authorization, RFC 9728 section 5.1) and the scopes if configured; {@code invalid_token}
   * when a credential was presented (RFC 6750 section 3.1).
   */
  private String challenge(Request request, boolean nonePresented) {
    ResourceMetadata metadata = settings.metadata();
    StringBuilder challenge = new StringBuilder("Bearer ");
    if (metadata == null) {
      challenge.append("realm=\"sentinel\"");
    } else {
      challenge.append("resource_metadata=\"").append(metadata.metadataUrl(request)).append('"');
      if (!metadata.scope().isEmpty()) {
        challenge.append(", scope=\"").append(metadata.scope()).append('"');
      }
    }
    if (!nonePresented) {
      challenge.append(", error=\"invalid_token\"");
    }
    return challenge.toString();
  }

  private void post(Request request, Response response, Callback callback, Credentials credentials, Principal principal) {
    HttpFields headers = request.getHeaders();
    if (!"application/json".equals(mediaType(headers.get(HttpHeader.CONTENT_TYPE)))) {
      Replies.error(json, response, callback, 415, ErrorCode.INVALID_REQUEST,
          "unsupported media type: the body must be application/json");
      return;
    }
    Accepts accepts = Accepts.parse(headers.getValuesList(HttpHeader.ACCEPT));
    if (!accepts.json() && !accepts.sse()) {
      Replies.error(json, response, callback, 406, ErrorCode.INVALID_REQUEST,
          "not acceptable: accept application/json and text/event-stream");
      return;
    }
    long length = request.getLength();
    if (length > settings.maxBodyBytes()) {
      tooLarge(response, callback);
      return;
    }
    BodyReader.read(request, settings.maxBodyBytes(), new BodyReader.Result() {
      @Override
      public void body(byte[] bytes) {
        try {
          message(request, response, callback, credentials, principal, accepts, bytes);
        } catch (RuntimeException e) {
          if (!response.isCommitted()) {
            Replies.internalError(json, response, callback, log, "handling a POST", e);
          } else {
            log.warn("handling a POST failed after the answer began", e);
            callback.failed(e);
          }
        }
      }

      @Override
      public void tooLarge() {
        McpHandler.this.tooLarge(response, callback);
      }

      @Override
      public void failed(Throwable cause) {
        if (cause instanceof TimeoutException && !response.isCommitted()) {
          // The body stopped arriving for the idle timeout: 408, and the connection closes.
          response.getHeaders().put(HttpHeader.CONNECTION, "close");
          Replies.error(json, response, callback, 408, ErrorCode.INVALID_REQUEST,
              "request timeout: the body stopped arriving");
        } else {
          callback.failed(cause);
        }
      }
    });
  }

  private void tooLarge(Response response, Callback callback) {
    // The rest of the body is not read: the connection closes after the answer.
    response.getHeaders().put(HttpHeader.CONNECTION, "close");
    Replies.error(json, response, callback, 413, ErrorCode.INVALID_REQUEST,
        "the body exceeds " + settings.maxBodyBytes() + " bytes");
  }

  private void message(Request request, Response response, Callback callback, Credentials credentials,
      Principal principal, Accepts accepts, byte[] body) {
    Json.Parsed parsed = json.parse(body);
    ObjectNode error = parsed.error();
    if (error != null) {
      Replies.error(json, response, callback, 400, error);
      return;
    }
    JsonNode node = Objects.requireNonNull(parsed.message(), "a body parsed without an error");
    if (node.isArray()) {
      Replies.error(json, response, callback, 400, ErrorCode.INVALID_REQUEST,
          "invalid request: batches are not supported (MCP 2025-06-18 removed JSON-RPC batching)");
      return;
    }
    traceHeader(node, request.getHeaders().get(TRACEPARENT));
    JsonRpcMessage message = JsonRpc.classify(node);
    if (message.kind() == JsonRpcMessage.Kind.INVALID) {
      Replies.error(json, response, callback, 400, JsonRpc.invalidRequest(message));
      return;
    }
    if (draining.getAsBoolean() && message.kind() == JsonRpcMessage.Kind.REQUEST) {
      // While draining, answers and notifications still reach the work in flight; new work does not start.
      shuttingDown(response, callback);
      return;
    }
    HttpFields headers = request.getHeaders();
    String sessionId = headers.get(HttpHeaders.SESSION_ID);
    String version = headers.get(HttpHeaders.PROTOCOL_VERSION);
    if (StatelessMeta.declared(message.params())
        || (version != null && McpRevision.ofStateless(version.trim()).isPresent())) {
      stateless(request, response, callback, credentials, principal, accepts, message, sessionId != null);
      return;
    }
    if (message.kind() == JsonRpcMessage.Kind.REQUEST && "initialize".equals(message.method())) {
      if (sessionId != null) {
        Replies.error(json, response, callback, 400, ErrorCode.INVALID_REQUEST,
            "invalid request: initialize starts a new session and must not carry " + HttpHeaders.SESSION_ID);
        return;
      }
      initialize(request, response, callback, credentials, principal, accepts, message);
      return;
    }
    StreamableSession session = session(sessionId, principal, request, response, callback);
    if (session == null) {
      return;
    }
    if (message.kind() != JsonRpcMessage.Kind.REQUEST) {
      if (session.accept(message, credentials, forEngine(principal))) {
        Replies.empty(response, callback, 202);
      } else {
        sessionNotFound(response, callback);
      }
      return;
    }
    StreamableSession.Admission admission = session.request(message, credentials,
        forEngine(principal), new JettyChannel(response, callback), accepts.json(),
        accepts.sse(), false);
    if (admission == StreamableSession.Admission.CLOSED) {
      sessionNotFound(response, callback);
    } else if (admission == StreamableSession.Admission.AT_STREAM_CAP) {
      refused(response, callback, Cap.MAX_STREAMS_PER_PRINCIPAL);
    }
  }

  /**
   * A stateless (MCP 2026-07-28) message: no session; the request's {@code _meta} and its
   * mirrored headers are checked, then it is served alone ({@link StatelessExchange}). A refusal
   * before that (on a session id, a version header that disagrees with {@code _meta}, malformed
   * {@code _meta}, a version Sentinel does not speak, other headers that disagree with the body,
   * {@code initialize} or another method 2026-07-28 removed) gets
   * the specification's status and code, is recorded, and reaches no backend.
   */
  private void stateless(Request request, Response response, Callback callback, Credentials credentials,
      Principal principal, Accepts accepts, JsonRpcMessage message, boolean onSession) {
    if (message.kind() == JsonRpcMessage.Kind.NOTIFICATION && !onSession) {
      // 2026-07-28 defines no client notification over HTTP (closing a stream cancels): accepted, unused.
      Replies.empty(response, callback, 202);
      return;
    }
    StatelessMeta.Problem problem;
    if (onSession) {
      problem = new StatelessMeta.Problem(ErrorCode.INVALID_REQUEST, "invalid request: an MCP 2026-07-28 request "
          + "has no session: send it without " + HttpHeaders.SESSION_ID, null);
    } else if (message.kind() != JsonRpcMessage.Kind.REQUEST) {
      problem = new StatelessMeta.Problem(ErrorCode.INVALID_REQUEST,
          "invalid request: an MCP 2026-07-28 client sends no responses", null);
    } else {
      problem = StatelessHeaders.versionDisagrees(request.getHeaders(), message);
      if (problem == null) {
        problem = StatelessMeta.check(message);
      }
      if (problem == null) {
        problem = StatelessHeaders.check(request.getHeaders(), message);
      }
      if (problem == null) {
        problem = StatelessMeta.refusal(message.requiredMethod());
      }
    }
    if (problem != null) {
      refuseStateless(request, credentials, principal, message, problem);
      Replies.json(response, callback, problem.httpStatus(), json.bytes(
          JsonRpc.error(message.id(), problem.code().code(), problem.message(), problem.data())));
      return;
    }
    boolean listen = "subscriptions/listen".equals(message.method());
    if (listen && !accepts.sse()) {
      Replies.error(json, response, callback, 406, ErrorCode.INVALID_REQUEST,
          "not acceptable: subscriptions/listen answers with text/event-stream");
      return;
    }
    if (listen && !hub.streamOpened(principal.id(), false)) {
      log.info("refused a subscription to {}: {}", principal.id(), Cap.MAX_STREAMS_PER_PRINCIPAL.key());
      refused(response, callback, Cap.MAX_STREAMS_PER_PRINCIPAL);
      return;
    }
    StatelessExchange exchange = new StatelessExchange(hub, principal.id(), new JettyChannel(response, callback),
        accepts.json(), accepts.sse(), listen);
    ClientSession served;
    try {
      served = runtime.serveExchange(exchange, credentials, forEngine(principal),
          "http:" + remote(request), paramHeaders(request.getHeaders()));
    } catch (RuntimeException e) {
      if (listen) {
        hub.streamClosed(principal.id());
      }
      String text = Replies.logged(log, "serving a stateless request", e);
      Replies.error(json, response, callback, 503, ErrorCode.INTERNAL_ERROR,
          "the gateway cannot take requests now: " + text);
      return;
    }
    exchange.deliver(served, message, credentials, forEngine(principal));
  }

  /**
   * Carries a well-formed W3C {@code traceparent} header into a request whose body has no trace
   * context of its own, as {@code params._meta.traceparent}: where MCP clients put it, where the
   * engine reads it for the call's span, and what the backend receives. The body's own wins; a
   * malformed header, a notification or a response is left alone.
   */
  static void traceHeader(JsonNode node, String header) {
    if (header == null || !(node instanceof ObjectNode) || !node.has("id") || !node.has("method")) {
      return;
    }
    String value = header.strip();
    if (!dev.sentinel.core.Call.wellFormedTraceParent(value)) {
      return;
    }
    ObjectNode message = (ObjectNode) node;
    JsonNode params = message.get("params");
    if (params != null && !params.isObject()) {
      return; // invalid: the classifier says so
    }
    ObjectNode object = params == null ? message.putObject("params") : (ObjectNode) params;
    JsonNode meta = object.get("_meta");
    if (meta == null) {
      object.putObject("_meta").put("traceparent", value);
    } else if (meta.isObject() && !meta.has("traceparent")) {
      ((ObjectNode) meta).put("traceparent", value);
    }
  }

  /** The {@code Mcp-Param-*} headers, by lower-case name, each with all its values. */
  private static Map<String, List<String>> paramHeaders(HttpFields headers) {
    Map<String, List<String>> found = Map.of();
    for (org.eclipse.jetty.http.HttpField field : headers) {
      String name = field.getName();
      if (name.regionMatches(true, 0, "mcp-param-", 0, 10)) {
        if (found.isEmpty()) {
          found = new java.util.LinkedHashMap<>();
        }
        found.computeIfAbsent(name.toLowerCase(Locale.ROOT), key -> new java.util.ArrayList<>()).add(field.getValue());
      }
    }
    return found;
  }

  /** Records a stateless message refused before it reached the engine, as the engine records its own. */
  private void refuseStateless(Request request, Credentials credentials, Principal principal, JsonRpcMessage message,
      StatelessMeta.Problem problem) {
    log.info("refused a request from {}: {}", remote(request), problem.message());
    String method = message.method() != null ? message.method() : "sentinel/response";
    try {
      runtime.sentinel().refuse(new Call(credentials, dev.sentinel.api.Request.of(method), null,
          "http:" + remote(request), message.idText(), principal.id(), List.of(), forEngine(principal)),
          Refusal.of(Outcome.DENIED, List.of(StatelessMeta.RULE), problem.message()));
    } catch (RuntimeException e) {
      log.warn("could not record a refused request: {}", e.toString());
    }
  }

  private void initialize(Request request, Response response, Callback callback, Credentials credentials,
      Principal principal, Accepts accepts, JsonRpcMessage message) {
    StreamableHub.Opened opened = hub.open(principal.id());
    StreamableSession session = opened.session();
    if (session == null) {
      Cap cap = Objects.requireNonNull(opened.refusal(), "a refused session names its cap");
      log.info("refused a session to {}: {}", principal.id(), cap.key());
      refused(response, callback, cap);
      return;
    }
    ClientSession client;
    try {
      client = runtime.serve(session, credentials, forEngine(principal), "http:" + remote(request));
    } catch (RuntimeException e) {
      session.close();
      String text = Replies.logged(log, "serving a new session", e);
      Replies.error(json, response, callback, 503, ErrorCode.INTERNAL_ERROR,
          "the gateway cannot take sessions now: " + text);
      return;
    }
    session.served(client);
    response.getHeaders().put(HttpHeaders.SESSION_ID, session.id());
    log.debug("session {}... opened for {}", session.shortId(), principal.id());
    StreamableSession.Admission admission = session.request(message, credentials,
        forEngine(principal), new JettyChannel(response, callback), accepts.json(),
        accepts.sse(), true);
    if (admission == StreamableSession.Admission.CLOSED) {
      sessionNotFound(response, callback);
    } else if (admission == StreamableSession.Admission.AT_STREAM_CAP) {
      // No session is left behind a refused initialize.
      session.terminate();
      response.getHeaders().remove(HttpHeaders.SESSION_ID);
      refused(response, callback, Cap.MAX_STREAMS_PER_PRINCIPAL);
    }
  }

  private void get(Request request, Response response, Callback callback, Principal principal) {
    Accepts accepts = Accepts.parse(request.getHeaders().getValuesList(HttpHeader.ACCEPT));
    if (!accepts.sse()) {
      Replies.error(json, response, callback, 406, ErrorCode.INVALID_REQUEST,
          "not acceptable: a GET opens a text/event-stream");
      return;
    }
    StreamableSession session = session(request.getHeaders().get(HttpHeaders.SESSION_ID), principal, request, response, callback);
    if (session == null) {
      return;
    }
    StreamableSession.Admission admission = session.listen(new JettyChannel(response, callback),
        request.getHeaders().get(HttpHeaders.LAST_EVENT_ID));
    if (admission == StreamableSession.Admission.CLOSED) {
      sessionNotFound(response, callback);
    } else if (admission == StreamableSession.Admission.AT_STREAM_CAP) {
      log.info("refused a stream to {}: {}", principal.id(), Cap.MAX_STREAMS_PER_PRINCIPAL.key());
      refused(response, callback, Cap.MAX_STREAMS_PER_PRINCIPAL);
    }
  }

  private void delete(Request request, Response response, Callback callback, Principal principal) {
    StreamableSession session = session(request.getHeaders().get(HttpHeaders.SESSION_ID), principal, request, response, callback);
    if (session == null) {
      return;
    }
    session.terminate();
    log.debug("session {}... ended by the client", session.shortId());
    Replies.empty(response, callback, 200);
  }

  /**
   * The caller's session, or {@code null} after answering: 400 without a session id, 404 for an
   * unknown, expired or closed one, or one that belongs to another principal (indistinguishably),
   * 400 for an unsupported {@code MCP-Protocol-Version}.
   */
  private @Nullable StreamableSession session(@Nullable String sessionId, Principal principal, Request request, Response response, Callback callback) {
    if (sessionId == null) {
      Replies.error(json, response, callback, 400, ErrorCode.INVALID_REQUEST,
          "invalid request: missing " + HttpHeaders.SESSION_ID + " header; send initialize first");
      return null;
    }
    StreamableSession session = hub.find(sessionId);
    if (session == null || !session.principalId().equals(principal.id())) {
      sessionNotFound(response, callback);
      return null;
    }
    if (session.idleLongerThan(settings.idleNanos(), hub.clock().nanoTime())) {
      session.terminate();
      sessionNotFound(response, callback);
      return null;
    }
    String version = request.getHeaders().get(HttpHeaders.PROTOCOL_VERSION);
    if (version != null && McpRevision.of(version.trim()).isEmpty()) {
      Replies.error(json, response, callback, 400, ErrorCode.INVALID_REQUEST,
          "invalid request: unsupported " + HttpHeaders.PROTOCOL_VERSION + "; supported: " + supported());
      return null;
    }
    session.touch();
    return session;
  }

  /**
   * 503 for a request a cap refused, with {@code Retry-After} and a JSON-RPC error naming the
   * cap: {@code -32000} for the gateway's {@code max_sessions} (as before the per-principal
   * caps), {@code -32014} (limited) for a principal's own caps; {@code data} carries
   * {@code outcome}, {@code rules} (the cap's key), {@code retryAfterMs} and {@code limit}, as a
   * rate limit's refusal does.
   */
  private void refused(Response response, Callback callback, Cap cap) {
    int limit = hub.limit(cap);
    ObjectNode data = NODES.objectNode().put("outcome", "LIMITED");
    data.putArray("rules").add(cap.key());
    data.put("retryAfterMs", Cap.RETRY_AFTER_SECONDS * 1000L);
    data.put("limit", limit);
    int code = cap == Cap.MAX_SESSIONS ? ErrorCode.TOO_MANY_PENDING.code() : ErrorCode.LIMITED.code();
    response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(Cap.RETRY_AFTER_SECONDS));
    Replies.json(response, callback, 503, json.bytes(JsonRpc.error(null, code, cap.message(limit), data)));
  }

  private void shuttingDown(Response response, Callback callback) {
    response.getHeaders().put(HttpHeader.CONNECTION, "close");
    response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
    Replies.error(json, response, callback, 503, ErrorCode.INTERNAL_ERROR, "the gateway is shutting down");
  }

  private void sessionNotFound(Response response, Callback callback) {
    Replies.json(response, callback, 404, json.bytes(JsonRpc.error(null, SESSION_NOT_FOUND,
        "session not found: initialize a new session", null)));
  }

  private void methodNotAllowed(Response response, Callback callback, String allow) {
    response.getHeaders().put(HttpHeader.ALLOW, allow);
    Replies.error(json, response, callback, 405, ErrorCode.INVALID_REQUEST, "method not allowed");
  }

  private static String supported() {
    StringBuilder text = new StringBuilder();
    for (McpRevision revision : McpRevision.all()) {
      text.append(text.length() == 0 ? "" : ", ").append(revision.version());
    }
    return text.toString();
  }

  /** The media type of a Content-Type value, lower case, without parameters; {@code null} if absent. */
  static @Nullable String mediaType(@Nullable String contentType) {
    if (contentType == null) {
      return null;
    }
    int semicolon = contentType.indexOf(';');
    String type = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
    return type.trim().toLowerCase(Locale.ROOT);
  }

  private static String remote(Request request) {
    return Request.getRemoteAddr(request) + ":" + Request.getRemotePort(request);
  }

  /** Which answer types an {@code Accept} header allows; no header allows both. */
  record Accepts(boolean json, boolean sse) {
    static Accepts parse(List<String> values) {
      if (values.isEmpty()) {
        return new Accepts(true, true);
      }
      boolean json = false;
      boolean sse = false;
      for (String value : values) {
        for (String part : value.split(",")) {
          String[] pieces = part.split(";");
          String type = pieces[0].trim().toLowerCase(Locale.ROOT);
          if (refused(pieces)) {
            continue;
          }
          switch (type) {
            case "*/*":
              json = true;
              sse = true;
              break;
            case "application/*":
            case "application/json":
              json = true;
              break;
            case "text/*":
            case "text/event-stream":
              sse = true;
              break;
            default:
              break;
          }
        }
      }
      return new Accepts(json, sse);
    }

    /** Whether a media range has {@code q=0}. */
    private static boolean refused(String[] pieces) {
      for (int i = 1; i < pieces.length; i++) {
        String parameter = pieces[i].trim().toLowerCase(Locale.ROOT);
        if (parameter.startsWith("q=")) {
          try {
            return Double.parseDouble(parameter.substring(2)) <= 0;
          } catch (NumberFormatException e) {
            return false;
          }
        }
      }
      return false;
    }
  }
}
