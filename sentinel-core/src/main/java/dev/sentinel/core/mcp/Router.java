package dev.sentinel.core.mcp;

import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.jsonrpc.ErrorCode;
import dev.sentinel.core.jsonrpc.JsonRpc;
import dev.sentinel.core.jsonrpc.JsonRpcMessage;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Handles client requests after {@code initialize}: aggregates lists, routes targeted requests to
 * their backend, and passes every one through {@link Sentinel#call}. Also owns the progress
 * token and resource owner maps. Thread-safe.
 */
final class Router {
  private static final Logger log = LoggerFactory.getLogger(Router.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final int MAX_PAGES = 64;

  private final McpGateway gateway;
  private final Sentinel sentinel;
  private final List<Backend> backends;
  private final Naming naming;
  private final Map<String, ProgressRoute> progress = new ConcurrentHashMap<>();
  private final Map<String, Backend> resourceOwners = new ConcurrentHashMap<>();
  private final Map<String, Backend> templateOwners = new ConcurrentHashMap<>();

  private record ProgressRoute(ClientSession session, JsonNode clientToken) {}

  /** The work a governed request does once allowed: returns the response message to relay. */
  @FunctionalInterface
  private interface Forward {
    ObjectNode run() throws Exception;
  }

  /** What an aggregated list method lists and how its items are checked. */
  private enum Listing {
    TOOLS("tools/list", "tools", "tools", Request.TOOLS_CALL, "name"),
    PROMPTS("prompts/list", "prompts", "prompts", Request.PROMPTS_GET, "name"),
    RESOURCES("resources/list", "resources", "resources", Request.RESOURCES_READ, "uri"),
    TEMPLATES("resources/templates/list", "resources", "resourceTemplates", Request.RESOURCES_READ, "uriTemplate");

    final String method;
    final String capability;
    final String field;
    final String useMethod;
    final String key;

    Listing(String method, String capability, String field, String useMethod, String key) {
      this.method = method;
      this.capability = capability;
      this.field = field;
      this.useMethod = useMethod;
      this.key = key;
    }
  }

  Router(McpGateway gateway, Sentinel sentinel, List<Backend> backends, Naming naming) {
    this.gateway = gateway;
    this.sentinel = sentinel;
    this.backends = backends;
    this.naming = naming;
  }

  /** Handles one request; returns the response, or {@code null} when none is due (cancelled). */
  ObjectNode handle(ClientSession session, JsonRpcMessage request, InFlight work) {
    ObjectNode params = request.params().isObject() ? (ObjectNode) request.params() : NODES.objectNode();
    switch (request.method()) {
      case "tools/list":
        return list(session, request, work, params, Listing.TOOLS);
      case "prompts/list":
        return list(session, request, work, params, Listing.PROMPTS);
      case "resources/list":
        return list(session, request, work, params, Listing.RESOURCES);
      case "resources/templates/list":
        return list(session, request, work, params, Listing.TEMPLATES);
      case "tools/call":
        return named(session, request, work, params, "tool", params.path("arguments"));
      case "prompts/get":
        return named(session, request, work, params, "prompt", params.path("arguments"));
      case "resources/read":
      case "resources/subscribe":
      case "resources/unsubscribe":
        return resource(session, request, work, params);
      case "completion/complete":
        return complete(session, request, work, params);
      case "logging/setLevel":
        return setLevel(session, request, work, params);
      default:
        return JsonRpc.methodNotFound(request.id(), request.method());
    }
  }

  // ---- targeted requests ------------------------------------------------------------------

  private ObjectNode named(ClientSession session, JsonRpcMessage request, InFlight work,
      ObjectNode params, String kind, JsonNode arguments) {
    JsonNode name = params.path("name");
    if (!name.isString()) {
      return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "params.name must be a string");
    }
    Naming.Target target = naming.resolve(name.stringValue());
    if (target == null) {
      return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "unknown " + kind + ": " + name.stringValue());
    }
    ObjectNode forwarded = params.deepCopy();
    forwarded.put("name", target.name());
    Request governed = new Request(request.method(), target.backend().name, name.stringValue(), arguments);
    return govern(session, work, request, governed,
        () -> forward(session, work, target.backend(), request.method(), forwarded));
  }

  private ObjectNode resource(ClientSession session, JsonRpcMessage request, InFlight work, ObjectNode params) {
    JsonNode uri = params.path("uri");
    if (!uri.isString()) {
      return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "params.uri must be a string");
    }
    String text = uri.stringValue();
    String method = request.method();
    ObjectNode response = byUri(session, request, work, params, text, params);
    if (response != null && response.has("result")) {
      if ("resources/subscribe".equals(method)) {
        session.subscriptions().add(text);
      } else if ("resources/unsubscribe".equals(method)) {
        session.subscriptions().remove(text);
      }
    }
    return response;
  }

  /** Routes a request addressed by resource URI: to its known owner, else to each backend in turn. */
  private ObjectNode byUri(ClientSession session, JsonRpcMessage request, InFlight work,
      ObjectNode params, String uri, JsonNode arguments) {
    Backend owner = ownerOf(uri);
    if (owner != null) {
      Request governed = new Request(request.method(), owner.name, uri, arguments);
      return govern(session, work, request, governed, () -> forward(session, work, owner, request.method(), params));
    }
    Request governed = new Request(request.method(), null, uri, arguments);
    return govern(session, work, request, governed, () -> {
      PeerError last = null;
      for (Backend backend : backends) {
        if (!backend.isUp() || !backend.has("resources")) {
          continue;
        }
        try {
          ObjectNode response = forward(session, work, backend, request.method(), params);
          resourceOwners.put(uri, backend);
          return response;
        } catch (PeerError e) {
          last = e;
        } catch (BackendFailure e) {
          log.debug("asking {} for {} failed: {}", backend.name, uri, e.getMessage());
        }
      }
      if (last != null) {
        throw last;
      }
      throw new PeerError(NODES.objectNode().put("code", ErrorCode.INVALID_PARAMS.code())
          .put("message", "unknown resource: " + uri)
          .set("data", NODES.objectNode().put("uri", uri)));
    });
  }

  private Backend ownerOf(String uri) {
    Backend owner = resourceOwners.get(uri);
    if (owner != null) {
      return owner;
    }
    String best = null;
    for (Map.Entry<String, Backend> entry : templateOwners.entrySet()) {
      if (uri.startsWith(entry.getKey()) && (best == null || entry.getKey().length() > best.length())) {
        best = entry.getKey();
        owner = entry.getValue();
      }
    }
    return owner;
  }

  private ObjectNode complete(ClientSession session, JsonRpcMessage request, InFlight work, ObjectNode params) {
    JsonNode ref = params.path("ref");
    String type = ref.path("type").asString("");
    if ("ref/prompt".equals(type)) {
      JsonNode name = ref.path("name");
      Naming.Target target = name.isString() ? naming.resolve(name.stringValue()) : null;
      if (target == null) {
        return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "unknown prompt: " + ref.path("name").asString(""));
      }
      ObjectNode forwarded = params.deepCopy();
      ((ObjectNode) forwarded.get("ref")).put("name", target.name());
      Request governed = new Request(request.method(), target.backend().name, name.stringValue(), params);
      return govern(session, work, request, governed,
          () -> forward(session, work, target.backend(), request.method(), forwarded));
    }
    if ("ref/resource".equals(type) && ref.path("uri").isString()) {
      return byUri(session, request, work, params, ref.get("uri").stringValue(), params);
    }
    return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS,
        "params.ref must be a ref/prompt with a name or a ref/resource with a uri");
  }

  private ObjectNode setLevel(ClientSession session, JsonRpcMessage request, InFlight work, ObjectNode params) {
    Request governed = new Request(request.method(), null, null, params);
    return govern(session, work, request, governed, () -> {
      for (Backend backend : backends) {
        if (backend.isUp() && backend.has("logging")) {
          try {
            forward(session, work, backend, request.method(), params);
          } catch (PeerError | BackendFailure | TimeoutException e) {
            log.debug("logging/setLevel at {} failed: {}", backend.name, e.getMessage());
          }
        }
      }
      return JsonRpc.result(request.id(), NODES.objectNode());
    });
  }

  // ---- lists ------------------------------------------------------------------------------

  private ObjectNode list(ClientSession session, JsonRpcMessage request, InFlight work,
      ObjectNode params, Listing listing) {
    Naming.Cursor start = new Naming.Cursor(0, null);
    JsonNode cursor = params.path("cursor");
    if (!cursor.isMissingNode() && !cursor.isNull()) {
      start = cursor.isString() ? Naming.decode(cursor.stringValue(), backends.size()) : null;
      if (start == null) {
        return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "invalid cursor");
      }
    }
    Naming.Cursor from = start;
    Request governed = new Request(listing.method, null, null, params);
    return govern(session, work, request, governed,
        () -> JsonRpc.result(request.id(), page(session, work, listing, from)));
  }

  private ObjectNode page(ClientSession session, InFlight work, Listing listing, Naming.Cursor from)
      throws Exception {
    AuthenticationResult who = sentinel.authenticate(work.credentials);
    Principal principal = who.authenticated() ? who.principal() : null;
    ArrayNode items = NODES.arrayNode();
    int index = from.backend();
    String backendCursor = from.backendCursor();
    int pages = 0;
    // One page holds every backend's first page, up to the first backend that paginates, so
    // clients that never follow nextCursor still see every backend that does not paginate.
    boolean paginated = false;
    while (index < backends.size() && !paginated && pages < MAX_PAGES) {
      Backend backend = backends.get(index);
      if (!backend.isUp() || !backend.has(listing.capability)) {
        index++;
        backendCursor = null;
        continue;
      }
      ObjectNode params = NODES.objectNode();
      if (backendCursor != null) {
        params.put("cursor", backendCursor);
      }
      JsonNode result;
      try {
        pages++;
        result = forward(session, work, backend, listing.method, params).path("result");
      } catch (PeerError | BackendFailure | TimeoutException e) {
        // One failing backend does not hide the others' lists.
        log.warn("{} of backend {} failed: {}", listing.method, backend.name, e.getMessage());
        index++;
        backendCursor = null;
        continue;
      }
      for (JsonNode item : result.path(listing.field)) {
        if (item.isObject() && principal != null) {
          include(items, (ObjectNode) item, backend, listing, principal);
        }
      }
      JsonNode next = result.path("nextCursor");
      if (next.isString() && !next.stringValue().isEmpty()) {
        backendCursor = next.stringValue();
        paginated = !items.isEmpty();
      } else {
        index++;
        backendCursor = null;
      }
    }
    ObjectNode page = NODES.objectNode();
    page.set(listing.field, items);
    if (backendCursor != null || hasMore(index, listing)) {
      page.put("nextCursor", Naming.encode(new Naming.Cursor(index, backendCursor)));
    }
    return page;
  }

  private boolean hasMore(int index, Listing listing) {
    for (int i = index; i < backends.size(); i++) {
      if (backends.get(i).isUp() && backends.get(i).has(listing.capability)) {
        return true;
      }
    }
    return false;
  }

  private void include(ArrayNode items, ObjectNode item, Backend backend, Listing listing, Principal principal) {
    JsonNode key = item.path(listing.key);
    if (!key.isString()) {
      return;
    }
    String target;
    if (listing == Listing.RESOURCES) {
      resourceOwners.put(key.stringValue(), backend);
      target = key.stringValue();
    } else if (listing == Listing.TEMPLATES) {
      String template = key.stringValue();
      int brace = template.indexOf('{');
      String prefix = brace < 0 ? template : template.substring(0, brace);
      if (!prefix.isEmpty()) {
        templateOwners.put(prefix, backend);
      }
      target = template;
    } else {
      target = naming.expose(backend, key.stringValue());
      if (listing == Listing.TOOLS) {
        gateway.listed(target);
      }
    }
    if (!sentinel.visible(principal, new Request(listing.useMethod, backend.name, target, null))) {
      return;
    }
    ObjectNode copy = item.deepCopy();
    if (item.path("name").isString()) {
      copy.put("name", naming.expose(backend, item.get("name").stringValue()));
    }
    items.add(copy);
  }

  // ---- forwarding and governance ----------------------------------------------------------

  /**
   * Sends a request to a backend for a client's in-flight request and waits for the answer,
   * remapping the progress token. Throws {@link PeerError} for an error answer.
   */
  private ObjectNode forward(ClientSession session, InFlight work, Backend backend, String method, ObjectNode params)
      throws Exception {
    if (work.cancelled()) {
      throw new CancellationException("cancelled by the client");
    }
    ObjectNode sent = params;
    String token = null;
    JsonNode clientToken = params.path("_meta").path("progressToken");
    if (JsonRpc.validId(clientToken)) {
      token = "sentinel-progress-" + gateway.nextId();
      progress.put(token, new ProgressRoute(session, clientToken));
      sent = params.deepCopy();
      ((ObjectNode) sent.get("_meta")).put("progressToken", token);
    }
    try {
      Backend.Outgoing outgoing = backend.request(method, sent, gateway.requestTimeout());
      if (!work.forwarded(backend, outgoing.id())) {
        backend.cancel(outgoing.id(), "cancelled by the client");
      }
      JsonRpcMessage response;
      try {
        response = outgoing.response().get();
      } catch (ExecutionException e) {
        Throwable cause = Backend.unwrap(e);
        throw cause instanceof Exception ? (Exception) cause : e;
      } finally {
        work.answered();
      }
      if (response.kind() == JsonRpcMessage.Kind.ERROR) {
        throw new PeerError(response.error());
      }
      return response.object();
    } finally {
      if (token != null) {
        progress.remove(token);
      }
    }
  }

  private ObjectNode govern(ClientSession session, InFlight work, JsonRpcMessage request, Request governed,
      Forward forward) {
    AtomicReference<ObjectNode> answer = new AtomicReference<>();
    CallResult<JsonNode> result = sentinel.call(
        new Call(work.credentials, governed, session.id(), session.clientLabel(), request.idText()),
        ignored -> {
          ObjectNode response = forward.run();
          answer.set(response);
          return response.path("result");
        });
    return reply(result, request.id(), answer.get(), governed.backend() == null ? "the backend" : "backend " + governed.backend());
  }

  /**
   * The response to send for a governed exchange: the peer's answer under the requester's id
   * (top-level fields kept), the peer's error unchanged, a refusal, a failure, or {@code null}
   * for a cancelled request (which gets no response).
   */
  static ObjectNode reply(CallResult<JsonNode> result, JsonNode id, ObjectNode answer, String peer) {
    Outcome outcome = result.outcome();
    if (outcome == Outcome.ALLOWED) {
      ObjectNode copy = NODES.objectNode();
      copy.setAll(answer);
      copy.set("id", id);
      return copy;
    }
    if (outcome.refusal()) {
      Refusal refusal = result.refusal();
      ObjectNode data = NODES.objectNode().put("outcome", outcome.name());
      ArrayNode rules = data.putArray("rules");
      refusal.rules().forEach(rules::add);
      data.put("retryAfterMs", refusal.retryAfter().toMillis());
      return JsonRpc.error(id, ErrorCode.forRefusal(outcome).code(), refusal.message(), data);
    }
    Throwable failure = result.failure();
    switch (outcome) {
      case CANCELLED:
        return null;
      case TIMED_OUT:
        return JsonRpc.error(id, ErrorCode.TIMED_OUT, peer + " did not answer in time; the request was cancelled");
      default:
        if (failure instanceof PeerError) {
          return JsonRpc.errorResponse(id, ((PeerError) failure).error());
        }
        if (failure instanceof BackendFailure) {
          return JsonRpc.error(id, ErrorCode.INTERNAL_ERROR, failure.getMessage());
        }
        log.warn("a forwarded request failed", failure);
        return JsonRpc.error(id, ErrorCode.INTERNAL_ERROR, "internal error");
    }
  }

  // ---- notifications and bookkeeping ------------------------------------------------------

  /** A progress notification from a backend: back to the client under its own token. */
  void progress(JsonRpcMessage notification) {
    JsonNode token = notification.params().path("progressToken");
    ProgressRoute route = token.isString() ? progress.get(token.stringValue()) : null;
    if (route == null) {
      return;
    }
    ObjectNode message = NODES.objectNode();
    message.setAll((ObjectNode) notification.raw());
    ObjectNode params = (ObjectNode) notification.params().deepCopy();
    params.set("progressToken", route.clientToken());
    message.set("params", params);
    route.session().send(message);
  }

  void forget(ClientSession session) {
    progress.values().removeIf(route -> route.session() == session);
  }

  void forget(Backend backend) {
    resourceOwners.values().removeIf(owner -> owner == backend);
    templateOwners.values().removeIf(owner -> owner == backend);
  }
}
