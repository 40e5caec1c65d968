package dev.sentinel.mcp.engine;

import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.RefusedException;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.approval.ApprovalConfirmer;
import dev.sentinel.core.config.Pinning;
import dev.sentinel.core.config.Validation;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Handles client requests after {@code initialize}: routes each to the backend that will serve
 * it, then passes it through {@link Sentinel#call} with that backend named, and forwards it on
 * the connection that serves the session ({@link Backend#upstreamFor}); aggregates lists. Also
 * owns the progress tokens, the resource routes and the subscriptions of shared connections.
 *
 * <p>Route first, decide second: a tool or prompt is routed by its namespaced name, a resource by
 * {@link ResourceRoutes}; a request that maps to no backend or to several is refused (and
 * recorded) before anything is forwarded. {@code completion/complete} is decided as a use of the
 * prompt or resource it completes: a principal that may not use it gets no completions.
 *
 * <p>Thread-safe.
 */
final class Router {
  private static final Logger log = LoggerFactory.getLogger(Router.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final int MAX_PAGES = 64;
  private static final String ROUTING = "routing";
  /** The rule id of refusals for arguments that do not match the tool's input schema. */
  static final String SCHEMA = "schema";
  /** The rule id of refusals for tools whose listed definition is not the approved one. */
  static final String PINNING = "pinning";
  /** How many times a tool listing overtaken by a new generation is asked for, in all. */
  private static final int LEARN_ATTEMPTS = 3;
  private static final int MAX_COMPILED = 1024;
  private static final int MAX_REMEMBERED = 10_000;
  /** How often a miss in the resource routes may make the gateway list the backends' resources again. */
  private static final Duration RELEARN_INTERVAL = Duration.ofSeconds(5);

  private final McpGateway gateway;
  private final Sentinel sentinel;
  private final List<Backend> backends;
  private final Naming naming;
  private final ResourceRoutes routes;
  private final InputRequests inputs;
  private final Map<String, ProgressRoute> progress = new ConcurrentHashMap<>();
  /** Subscribers per backend and URI on shared connections: the backend hears the first and the last. */
  private final Map<String, Integer> sharedSubscribers = new ConcurrentHashMap<>();
  private volatile long lastRelearn = Long.MIN_VALUE;
  /** Compiled input schemas by digest, shared by every connection that lists the same schema. */
  private final Map<String, ToolSchema> compiledSchemas = new ConcurrentHashMap<>();
  /** What was already reported: tool definitions checked against a policy revision, findings logged. */
  private final Set<String> checkedRules = ConcurrentHashMap.newKeySet();
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  /**
   * The arguments of a governed request that has none ({@code Request} takes a missing node for
   * its own empty object).
   */
  static final JsonNode NO_ARGUMENTS = MissingNode.getInstance();

  private record ProgressRoute(ClientSession session, JsonNode clientToken, Upstream upstream, InFlight work) {}

  /** The work a governed request does once allowed: returns the response message to relay. */
  @FunctionalInterface
  private interface Forward {
    ObjectNode run() throws Exception;
  }

  /** What an aggregated list method lists and how its items are checked. */
  enum Listing {
    TOOLS("tools/list", "tools", "tools", Request.TOOLS_CALL, "name", "notifications/tools/list_changed"),
    PROMPTS("prompts/list", "prompts", "prompts", Request.PROMPTS_GET, "name", "notifications/prompts/list_changed"),
    RESOURCES("resources/list", "resources", "resources", Request.RESOURCES_READ, "uri",
        "notifications/resources/list_changed"),
    TEMPLATES("resources/templates/list", "resources", "resourceTemplates", Request.RESOURCES_READ, "uriTemplate",
        "notifications/resources/list_changed");

    final String method;
    final String capability;
    final String field;
    final String useMethod;
    final String key;
    final String changed;

    Listing(String method, String capability, String field, String useMethod, String key, String changed) {
      this.method = method;
      this.capability = capability;
      this.field = field;
      this.useMethod = useMethod;
      this.key = key;
      this.changed = changed;
    }

    /** The listing a {@code list_changed} notification is about. */
    static Listing changedBy(String notification) {
      for (Listing listing : values()) {
        if (listing.changed.equals(notification)) {
          return listing;
        }
      }
      throw new IllegalArgumentException("not a list_changed notification: " + notification);
    }
  }

  Router(McpGateway gateway, Sentinel sentinel, List<Backend> backends, Naming naming) {
    this.gateway = gateway;
    this.sentinel = sentinel;
    this.backends = backends;
    this.naming = naming;
    this.routes = new ResourceRoutes(backends);
    this.inputs = new InputRequests(gateway, sentinel);
  }

  /**
   * Handles one request; its response to come, or {@code null} when none is due (cancelled). A
   * call forwarded to one backend as it is ({@code tools/call}, {@code prompts/get}, {@code
   * resources/read}) completes on the thread that reads the backend's answer; every other
   * request before this returns.
   */
  CompletionStage<@Nullable ObjectNode> handle(ClientSession session, JsonRpcMessage request, InFlight work) {
    ObjectNode params = request.params().isObject() ? (ObjectNode) request.params() : NODES.objectNode();
    switch (request.requiredMethod()) {
      case "tools/call":
        return named(session, request, work, params, "tool", params.path("arguments"));
      case "prompts/get":
        return named(session, request, work, params, "prompt", params.path("arguments"));
      case "resources/read":
      case "resources/subscribe":
      case "resources/unsubscribe":
        return resource(session, request, work, params);
      default:
        return now(answer(session, request, work, params));
    }
  }

  /** Answers a request on the calling thread; {@code null} when no response is due (cancelled). */
  private @Nullable ObjectNode answer(ClientSession session, JsonRpcMessage request, InFlight work,
      ObjectNode params) {
    switch (request.requiredMethod()) {
      case "tools/list":
        return list(session, request, work, params, Listing.TOOLS);
      case "prompts/list":
        return list(session, request, work, params, Listing.PROMPTS);
      case "resources/list":
        return list(session, request, work, params, Listing.RESOURCES);
      case "resources/templates/list":
        return list(session, request, work, params, Listing.TEMPLATES);
      case "completion/complete":
        return complete(session, request, work, params);
      case "logging/setLevel":
        return setLevel(session, request, work, params);
      case "server/discover":
        // Sessions that began with initialize got all of this from it, and never had the method.
        return work.stateless == null ? JsonRpc.methodNotFound(request.requiredId(), request.requiredMethod())
            : discover(session, request, work);
      case "subscriptions/listen":
        return listen(session, request, work, params);
      case "tasks/get":
      case "tasks/update":
      case "tasks/cancel":
        // tasks/result and tasks/list are v1 methods the extension removed: -32601 below.
        return task(session, request, work, params);
      default:
        return JsonRpc.methodNotFound(request.requiredId(), request.requiredMethod());
    }
  }

  // ---- stateless clients (MCP 2026-07-28) --------------------------------------------------

  /** {@code server/discover}: governed as a listing is, answered with what this principal may use. */
  private @Nullable ObjectNode discover(ClientSession session, JsonRpcMessage request, InFlight work) {
    gateway.awaitFirstStarts();
    Request governed = new Request(request.requiredMethod(), null, null, NO_ARGUMENTS);
    return govern(session, work, request, governed,
        () -> JsonRpc.result(request.requiredId(), discovered(session, work)));
  }

  /**
   * What {@code server/discover} shows a principal: the versions Sentinel speaks; a capability
   * ({@code tools}, {@code prompts}, {@code resources}) only when the principal's first page of
   * that list has something in it, so a principal learns nothing of what it may not use; the
   * instructions of the backends whose tools or prompts it sees; {@code completions} and
   * {@code logging} when such a backend offers them, and the Tasks extension when such a backend
   * declares it and Sentinel relays its tasks ({@link Backend#relaysTasks}). Without {@code listChanged} and
   * {@code subscribe}: Sentinel does not serve {@code subscriptions/listen} yet. A gateway started
   * in the background shows {@code tools}, {@code prompts} and {@code resources} while a backend
   * has not come up.
   */
  private ObjectNode discovered(ClientSession session, InFlight work) throws Exception {
    ObjectNode result = NODES.objectNode();
    ArrayNode versions = result.putArray("supportedVersions");
    McpRevision.supportedVersions().forEach(versions::add);
    ObjectNode capabilities = result.putObject("capabilities");
    Set<Backend> seen = new java.util.TreeSet<>(java.util.Comparator.comparingInt(backend -> backend.index));
    for (Listing listing : Listing.values()) {
      if (capabilities.has(listing.capability)) {
        continue; // resource templates: the resources capability is already shown
      }
      JsonNode items = page(session, work, listing, new Naming.Cursor(0, null)).path(listing.field);
      if (items.isEmpty()) {
        continue;
      }
      capabilities.putObject(listing.capability);
      for (JsonNode item : items) {
        Naming.Target target = item.path("name").isString() && listing != Listing.RESOURCES
            && listing != Listing.TEMPLATES ? naming.resolve(item.get("name").stringValue()) : null;
        if (target != null) {
          seen.add(target.backend());
        } else if (backends.size() == 1) {
          seen.add(backends.get(0));
        }
      }
    }
    // Started in the background (sentinel stdio) with a backend not up yet: it may bring any list,
    // and a client told there is none would never ask for it (the TypeScript SDK 2.x does not).
    for (Backend backend : backends) {
      if (gateway.startsInBackground() && !backend.everStarted()) {
        for (String capability : List.of("tools", "prompts", "resources")) {
          if (!capabilities.has(capability)) {
            capabilities.putObject(capability);
          }
        }
        break;
      }
    }
    List<String> instructions = new java.util.ArrayList<>();
    boolean completions = false;
    boolean logging = false;
    boolean tasks = false;
    for (Backend backend : seen) {
      completions |= backend.has("completions") && (capabilities.has("prompts") || capabilities.has("resources"));
      logging |= backend.has("logging");
      // Only a 2026-07-28 backend's tasks are relayed, and only to a principal who sees its tools.
      tasks |= backend.relaysTasks() && capabilities.has("tools");
      String text = backend.instructions();
      if (text != null && !text.isBlank()) {
        instructions.add(backends.size() == 1 ? text : backend.name + ": " + text);
      }
    }
    if (completions) {
      capabilities.putObject("completions");
    }
    if (logging) {
      capabilities.putObject("logging");
    }
    if (tasks) {
      capabilities.putObject("extensions").putObject(Tasks.EXTENSION);
    }
    if (!instructions.isEmpty()) {
      result.put("instructions", String.join("\n\n", instructions));
    }
    return result;
  }

  /** The most resource URIs one {@code subscriptions/listen} may ask for. */
  static final int MAX_LISTEN_URIS = 64;

  /**
   * {@code subscriptions/listen}: governed as a listing is; each URI of {@code
   * resourceSubscriptions} is then routed and governed as a {@code resources/subscribe} (and
   * subscribed at its backend as sessions' are); then acknowledged with what Sentinel will send
   * (the list changes asked for, and the URIs whose subscription succeeded), and kept open
   * without an answer until the client cancels it or the session ends ({@link
   * ClientSession#notifySubscriptions}, {@link ClientSession#notifyResourceUpdate}).
   */
  private @Nullable ObjectNode listen(ClientSession session, JsonRpcMessage request, InFlight work,
      ObjectNode params) {
    if (work.stateless == null) {
      return JsonRpc.methodNotFound(request.requiredId(), request.requiredMethod());
    }
    JsonNode filter = params.path("notifications");
    if (!filter.isMissingNode() && !filter.isObject()) {
      return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "params.notifications must be an object");
    }
    java.util.EnumSet<Listing> listings = java.util.EnumSet.noneOf(Listing.class);
    ObjectNode agreed = NODES.objectNode();
    for (Listing listing : List.of(Listing.TOOLS, Listing.PROMPTS, Listing.RESOURCES)) {
      String flag = listing.capability + "ListChanged";
      if (filter.path(flag).asBoolean(false)) {
        listings.add(listing);
        agreed.put(flag, true);
      }
    }
    JsonNode asked = filter.path("resourceSubscriptions");
    if (!asked.isMissingNode() && !(asked.isArray() && asked.size() <= MAX_LISTEN_URIS)) {
      return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS,
          "params.notifications.resourceSubscriptions must be an array of at most " + MAX_LISTEN_URIS + " URIs");
    }
    if (!session.mayListen()) {
      return JsonRpc.error(request.id(), ErrorCode.TOO_MANY_PENDING,
          "too many subscriptions on this session (at most " + ClientSession.MAX_SUBSCRIPTIONS + ")");
    }
    Request governed = new Request(request.requiredMethod(), null, null, NO_ARGUMENTS);
    CallResult<JsonNode> result = sentinel.call(call(session, work, request, governed), ignored -> agreed);
    if (result.outcome() != Outcome.ALLOWED) {
      return reply(result, request.requiredId(), null, "the gateway");
    }
    java.util.Set<String> uris = new java.util.LinkedHashSet<>();
    for (JsonNode uri : asked) {
      if (!uri.isString() || uris.contains(uri.stringValue())) {
        continue;
      }
      ObjectNode subscribe = NODES.objectNode().put("uri", uri.stringValue());
      // A subscription is answered on this thread (only reads complete later): the stage is done.
      ObjectNode answer = resource(session,
          JsonRpc.classify(JsonRpc.request(request.requiredId(), "resources/subscribe", subscribe)), work, subscribe)
          .toCompletableFuture().join();
      if (answer != null && answer.has("result")) {
        uris.add(uri.stringValue());
      }
    }
    if (!uris.isEmpty()) {
      ArrayNode subscribed = agreed.putArray("resourceSubscriptions");
      uris.forEach(subscribed::add);
    }
    if (!session.listen(request.requiredId(), listings, uris)) {
      return JsonRpc.error(request.id(), ErrorCode.INVALID_REQUEST,
          "request id " + request.idText() + " already names an open subscription, or too many are open");
    }
    ObjectNode ack = NODES.objectNode();
    ack.putObject("_meta").set(StatelessMeta.SUBSCRIPTION_ID, request.id());
    ack.set("notifications", agreed);
    session.send(JsonRpc.notification("notifications/subscriptions/acknowledged", ack), work);
    return null;
  }

  /**
   * What every answer to a stateless client carries: {@code resultType} ({@code complete} unless
   * the result says otherwise), the gateway's {@code serverInfo} in the result's {@code _meta},
   * and on cacheable results {@code ttlMs} (the backends' smallest, 0 when a backend gave none)
   * and {@code cacheScope: private}, since every list and read is decided for this principal.
   * A backend's resource-not-found ({@code -32002}) becomes {@code -32602}, as 2026-07-28 says.
   */
  static ObjectNode finishStateless(ObjectNode response, String method, McpGateway gateway) {
    JsonNode error = response.get("error");
    if (error != null) {
      if (Request.RESOURCES_READ.equals(method) && error.path("code").asInt(0) == RESOURCE_NOT_FOUND) {
        ObjectNode copy = response.deepCopy();
        ((ObjectNode) copy.get("error")).put("code", ErrorCode.INVALID_PARAMS.code());
        return copy;
      }
      return response;
    }
    JsonNode result = response.get("result");
    if (!(result instanceof ObjectNode)) {
      return response;
    }
    ObjectNode finished = NODES.objectNode();
    finished.setAll((ObjectNode) result);
    if (!finished.path("resultType").isString()) {
      finished.put("resultType", "complete");
    }
    ObjectNode meta = NODES.objectNode();
    if (finished.get("_meta") instanceof ObjectNode) {
      meta.setAll((ObjectNode) finished.get("_meta"));
    }
    meta.putObject(StatelessMeta.SERVER_INFO).put("name", gateway.serverName()).put("version", gateway.serverVersion());
    finished.set("_meta", meta);
    if (StatelessMeta.CACHEABLE.contains(method) && "complete".equals(finished.path("resultType").asString(""))) {
      JsonNode ttl = finished.path("ttlMs");
      if (!ttl.isIntegralNumber() || ttl.asLong() < 0) {
        finished.put("ttlMs", 0);
      }
      finished.put("cacheScope", "private");
    }
    ObjectNode copy = NODES.objectNode();
    copy.setAll(response);
    copy.set("result", finished);
    return copy;
  }

  /** The resource-not-found code of MCP up to 2025-11-25. */
  private static final int RESOURCE_NOT_FOUND = -32002;

  // ---- targeted requests ------------------------------------------------------------------

  private CompletionStage<@Nullable ObjectNode> named(ClientSession session, JsonRpcMessage request, InFlight work,
      ObjectNode params, String kind, JsonNode arguments) {
    JsonNode name = params.path("name");
    if (!name.isString()) {
      return now(JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "params.name must be a string"));
    }
    Naming.Target target = naming.resolve(name.stringValue());
    if (target == null) {
      return now(JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "unknown " + kind + ": " + name.stringValue()));
    }
    ObjectNode forwarded = params.deepCopy();
    forwarded.put("name", target.name());
    Request governed = new Request(request.requiredMethod(), target.backend().name, name.stringValue(), arguments);
    Validation validation = target.backend().options.validation();
    Pinning pinning = target.backend().options.pinning();
    boolean pinned = pinning.mode() != Pinning.Mode.OFF;
    boolean validate = validation != Validation.OFF;
    SchemaCheck check = null;
    if (Request.TOOLS_CALL.equals(request.method()) && work.stateless != null && session.paramHeaders() != null
        && session.owner() != null && sentinel.visible(session.owner(),
            new Request(request.requiredMethod(), target.backend().name, name.stringValue(), NO_ARGUMENTS))) {
      // The Mcp-Param-* headers are checked against the body before anything is decided; the
      // body alone is then decided and forwarded. A tool the connection does not list has no
      // annotations the client could have known; one the principal may not use is refused by
      // the pipeline, without a word about its schema.
      check = checkArguments(session, work, target, arguments, validate);
      StatelessMeta.Problem problem = check.tool == null ? null
          : ParamHeaders.check(check.tool.inputSchema, arguments, session.paramHeaders());
      if (problem != null) {
        sentinel.refuse(call(session, work, request, governed),
            Refusal.of(Outcome.DENIED, List.of(StatelessMeta.RULE), problem.message()));
        return now(JsonRpc.error(request.id(), problem.code().code(), problem.message(), problem.data()));
      }
    }
    if (!Request.TOOLS_CALL.equals(request.method()) || (!validate && !pinned)) {
      return relay(call(session, work, request, governed), request, session, work, target.backend(), forwarded);
    }
    if (check == null) {
      check = checkArguments(session, work, target, arguments, validate);
    }
    SchemaCheck schema = check; // effectively final, for the lambdas
    if (schema.failure != null) {
      // The tools could not be listed (busy, down, cancelled): decided first, and if allowed the
      // call meets the same failure, reported as any forwarding failure is.
      return now(govern(session, work, request, governed, () -> {
        throw schema.failure;
      }));
    }
    Call call = call(session, work, request, governed);
    if (pinned && (schema.tool != null || !validate)) {
      String held = pinFinding(target, name.stringValue(), pinning, schema.tool);
      if (held != null && (pinning.mode() == Pinning.Mode.ENFORCE || held.startsWith(HIDDEN))) {
        return now(refuse(session, work, request, governed, call, target, name.stringValue(), PINNING, held));
      }
      if (held != null) {
        call = call.withDiagnostic("pinning: " + held);
      }
    }
    if (!validate || Objects.requireNonNull(schema.verdict, "a validated call's check has its verdict").valid()) {
      return relay(call, request, session, work, target.backend(), forwarded);
    }
    String finding = (schema.verdict.kind() == ToolSchema.Verdict.Kind.INVALID
        ? "arguments of '" + name.stringValue() + "' do not match its input schema: "
        : "arguments of '" + name.stringValue() + "' cannot be checked: ") + schema.verdict.reason();
    if (validation == Validation.WARN) {
      warnOnce(target, schema, finding);
      return relay(call.withDiagnostic("schema: " + finding), request, session, work, target.backend(), forwarded);
    }
    if (schema.verdict.kind() == ToolSchema.Verdict.Kind.UNUSABLE) {
      unusableOnce(target, schema);
    }
    return now(refuse(session, work, request, governed, call, target, name.stringValue(), SCHEMA, finding));
  }

  /**
   * Refuses a call by the gateway's own rule ({@link #SCHEMA}, {@link #PINNING}), recorded. Someone
   * who may not use the tool learns nothing of its schema or pin: the pipeline refuses them as it
   * would anyway, and the arguments are never forwarded, whatever it decides.
   */
  private @Nullable ObjectNode refuse(ClientSession session, InFlight work, JsonRpcMessage request, Request governed,
      Call call, Naming.Target target, String exposed, String rule, String finding) {
    Principal principal = session.owner();
    if (principal == null || !sentinel.visible(principal, new Request(request.requiredMethod(), target.backend().name,
        exposed, NO_ARGUMENTS))) {
      return govern(call, request, governed, () -> {
        throw new SchemaRefused(finding);
      });
    }
    Refusal refusal = Refusal.of(Outcome.DENIED, List.of(rule), finding);
    CallResult<?> result = sentinel.refuse(call, refusal);
    ObjectNode reply = reply(result, request.requiredId(), null, null);
    if (PINNING.equals(rule) && result.outcome() == Outcome.DENIED && reply != null) {
      // Its own stable code, so that a client can tell "wait for an operator" from a policy denial.
      ((ObjectNode) reply.get("error")).put("code", ErrorCode.TOOL_CHANGED.code());
    }
    return reply;
  }

  // ---- tool-definition pinning ------------------------------------------------------------

  private static final String HIDDEN = "tool definition held, awaiting approval";

  /**
   * Why a listed tool's definition is not the approved one, or {@code null} when it is: the
   * message a refused caller gets, starting with {@link #HIDDEN} when the definition is held for
   * the hidden instructions it carries.
   */
  private @Nullable String pinFinding(Naming.Target target, String exposed, Pinning pinning,
      ToolListing.@Nullable Tool tool) {
    if (tool == null) {
      return "tool definition changed, awaiting approval: '" + exposed + "' is not listed by backend "
          + target.backend().name + ", so its definition cannot be checked against its pin";
    }
    switch (gateway.pins().check(target.backend().name, pinning, tool)) {
      case APPROVED:
        return null;
      case HIDDEN_INSTRUCTIONS:
        return HIDDEN + ": the definition of '" + exposed + "' carries hidden instructions";
      case UNAVAILABLE:
        return "tool definition cannot be checked against its pin: the pin store is unavailable";
      default:
        return "tool definition changed, awaiting approval: backend " + target.backend().name
            + " lists a definition of '" + exposed + "' other than the approved one";
    }
  }

  /**
   * The names of the tools in a page of a backend's {@code tools/list} that are held and so not
   * listed: under {@code pinning: enforce}, those whose definition is not the approved one;
   * under {@code warn}, those held for hidden instructions the config blocks.
   */
  private Set<String> heldTools(Backend backend, Upstream upstream, JsonNode result) {
    Pinning pinning = backend.options.pinning();
    if (pinning.mode() == Pinning.Mode.OFF) {
      return Set.of();
    }
    ToolListing.Snapshot listed = upstream == null ? null : upstream.tools.current();
    Set<String> held = null;
    for (JsonNode item : result.path(Listing.TOOLS.field)) {
      JsonNode name = item.path("name");
      if (!name.isString()) {
        continue;
      }
      ToolListing.Tool tool = listed == null ? null : listed.tools().get(name.stringValue());
      if (tool == null || !tool.definition.equals(item)) {
        tool = new ToolListing.Tool(name.stringValue(), item);
      }
      ToolPins.Verdict verdict = gateway.pins().check(backend.name, pinning, tool);
      boolean hide = verdict == ToolPins.Verdict.HIDDEN_INSTRUCTIONS
          || verdict != ToolPins.Verdict.APPROVED && pinning.mode() == Pinning.Mode.ENFORCE;
      if (hide) {
        if (held == null) {
          held = new HashSet<>();
        }
        held.add(name.stringValue());
      }
    }
    return held == null ? Set.of() : held;
  }

  // ---- argument validation ----------------------------------------------------------------

  /** Arguments refused by the schema on a path where the pipeline did not refuse first (never expected). */
  static final class SchemaRefused extends dev.sentinel.api.SentinelException {
    private static final long serialVersionUID = 1L;

    SchemaRefused(String message) {
      super(message, null, false);
    }
  }

  /** The outcome of checking a call's arguments: a verdict, or why the tools could not be listed. */
  private static final class SchemaCheck {
    final ToolSchema.@Nullable Verdict verdict;
    final ToolListing.@Nullable Tool tool;
    final @Nullable Exception failure;

    SchemaCheck(ToolSchema.@Nullable Verdict verdict, ToolListing.@Nullable Tool tool, @Nullable Exception failure) {
      this.verdict = verdict;
      this.tool = tool;
      this.failure = failure;
    }
  }

  /**
   * Checks a call's arguments against the schema the session's connection to the backend listed
   * for the tool, listing the connection's tools first when it has not listed them since they
   * last changed, or (at most every few seconds) when the tool is not among them. Without {@code
   * validate}, only finds the listed tool (for its pin).
   */
  private SchemaCheck checkArguments(ClientSession session, InFlight work, Naming.Target target, JsonNode arguments,
      boolean validate) {
    Backend backend = target.backend();
    String name = target.name();
    try {
      Upstream upstream = backend.existingFor(session);
      ToolListing.Snapshot listed = upstream == null ? null : upstream.tools.current();
      ToolListing.Tool tool = listed == null ? null : listed.tools().get(name);
      // Nothing listed in this generation: listed again, always (a changed list is never trusted
      // unseen). A name the current listing lacks: listed again at most every few seconds.
      boolean mayLearn = tool == null && upstream != null
          && upstream.tools.mayLearn(gateway.clock().nanoTime(), RELEARN_INTERVAL.toNanos());
      if (tool == null && (listed == null || mayLearn)) {
        listed = learnTools(session, work, backend);
        tool = listed == null ? null : listed.tools().get(name);
      }
      if (tool == null) {
        return new SchemaCheck(new ToolSchema.Verdict(ToolSchema.Verdict.Kind.UNUSABLE,
            "tool '" + name + "' is not listed by backend " + backend.name), null, null);
      }
      return new SchemaCheck(validate ? compiled(tool).validate(arguments) : null, tool, null);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new SchemaCheck(null, null, e);
    }
  }

  /**
   * Lists every page of a backend's tools on the session's connection, for validation only. A
   * listing that the connection's generation overtook (the connection came up while it was
   * asked for, or the server said {@code list_changed} meanwhile, as server-everything does
   * while it starts) is asked for again, at most {@value #LEARN_ATTEMPTS} times in all.
   */
  private ToolListing.@Nullable Snapshot learnTools(ClientSession session, InFlight work, Backend backend)
      throws Exception {
    if (backend.everStarted() && !backend.has("tools")) {
      return null; // a server without tools lists none; one that never started fails as a call would
    }
    Upstream used = null;
    for (int attempt = 0; attempt < LEARN_ATTEMPTS; attempt++) {
      used = learnToolsOnce(session, work, backend);
      if (used == null || used.tools.current() != null) {
        break;
      }
    }
    return used == null ? null : used.tools.current();
  }

  /** One listing of every page; the connection it went out on, or {@code null} if none. */
  private @Nullable Upstream learnToolsOnce(ClientSession session, InFlight work, Backend backend) throws Exception {
    Upstream[] used = new Upstream[1];
    long[] asOf = new long[1];
    String cursor = null;
    for (int page = 0; page < MAX_PAGES; page++) {
      ObjectNode params = NODES.objectNode();
      if (cursor != null) {
        params.put("cursor", cursor);
      }
      JsonNode result;
      try {
        result = forward(session, work, backend, Listing.TOOLS.method, params, upstream -> {
          if (used[0] == null) {
            used[0] = upstream;
            asOf[0] = upstream.tools.generation();
            upstream.tools.learning(gateway.clock().nanoTime());
          }
        }).path("result");
      } catch (PeerError e) {
        log.debug("tools/list of backend {} for validation failed: {}", backend.name, e.getMessage());
        return used[0];
      }
      listedTools(backend, used[0], asOf[0], result);
      JsonNode next = result.path("nextCursor");
      if (!next.isString() || next.stringValue().isEmpty()) {
        break;
      }
      cursor = next.stringValue();
    }
    return used[0];
  }

  /** Records a page of tools a connection listed and checks what is new against the policy. */
  private void listedTools(Backend backend, @Nullable Upstream upstream, long asOf, JsonNode result) {
    if (upstream == null) {
      return;
    }
    Map<String, ToolListing.Tool> changed = upstream.tools.page(asOf, result.path(Listing.TOOLS.field));
    for (ToolListing.Tool tool : changed.values()) {
      checkRules(backend, tool);
    }
  }

  /**
   * Logs, once per policy revision and tool definition, the policy conditions that cannot apply
   * to the types the tool's schema declares.
   */
  private void checkRules(Backend backend, ToolListing.Tool tool) {
    dev.sentinel.api.Policy policy = sentinel.policy();
    if (!(policy instanceof dev.sentinel.core.policy.PolicyEngine)) {
      return;
    }
    String exposed = naming.expose(backend, tool.name);
    String key = sentinel.revision() + '\u0000' + backend.name + '\u0000' + tool.name + '\u0000' + tool.digest;
    if (!remember(checkedRules, key)) {
      return;
    }
    for (String conflict : ((dev.sentinel.core.policy.PolicyEngine) policy)
        .schemaConflicts(backend.name, exposed, tool.inputSchema)) {
      log.warn("policy {}: {}", sentinel.revision(), conflict);
    }
  }

  /** The compiled schema of a listed tool, shared between connections that list the same schema. */
  private ToolSchema compiled(ToolListing.Tool tool) {
    ToolSchema schema = tool.compiled;
    if (schema == null) {
      schema = compiledSchemas.get(tool.digest);
      if (schema == null) {
        schema = ToolSchema.compile(tool.inputSchema);
        if (compiledSchemas.size() >= MAX_COMPILED) {
          compiledSchemas.clear();
        }
        compiledSchemas.put(tool.digest, schema);
      }
      tool.compiled = schema;
    }
    return schema;
  }

  private void warnOnce(Naming.Target target, SchemaCheck check, String finding) {
    String key = target.backend().name + '\u0000' + target.name() + '\u0000'
        + (check.tool == null ? "" : check.tool.digest);
    if (remember(warned, key)) {
      log.warn("backend {} (validate: warn): {}; forwarded. Later findings for this tool are logged at debug",
          target.backend().name, finding);
    } else {
      log.debug("backend {} (validate: warn): {}; forwarded", target.backend().name, finding);
    }
  }

  private void unusableOnce(Naming.Target target, SchemaCheck check) {
    if (check.tool != null && remember(warned, "unusable\u0000" + check.tool.digest)) {
      log.warn("backend {} tool {}: {}; its calls are refused while the backend has validate: enforce",
          target.backend().name, target.name(),
          Objects.requireNonNull(check.verdict, "an unusable schema's check has its verdict").reason());
    }
  }

  /** Adds a key to a bounded set of things already reported; false if it was there. */
  private static boolean remember(Set<String> seen, String key) {
    if (seen.contains(key)) {
      return false;
    }
    if (seen.size() >= MAX_REMEMBERED) {
      seen.clear();
    }
    return seen.add(key);
  }

  private CompletionStage<@Nullable ObjectNode> resource(ClientSession session, JsonRpcMessage request,
      InFlight work, ObjectNode params) {
    JsonNode uri = params.path("uri");
    if (!uri.isString()) {
      return now(JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "params.uri must be a string"));
    }
    String text = uri.stringValue();
    ResourceRoutes.Route route = route(session, work, text, false);
    if (route.backend() == null) {
      return now(unroutable(session, work, request, new Request(request.requiredMethod(), null, text, params),
          problem(route)));
    }
    Backend backend = route.backend();
    Request governed = new Request(request.requiredMethod(), backend.name, text, params);
    String method = request.requiredMethod();
    String key = subscriptionKey(backend, text);
    if ("resources/read".equals(method)) {
      return relay(call(session, work, request, governed), request, session, work, backend, params);
    }
    boolean subscribe = "resources/subscribe".equals(method);
    return now(govern(session, work, request, governed, () -> {
      if (backend.isolated()) {
        ObjectNode response = forward(session, work, backend, method, params);
        if (subscribe) {
          session.subscriptions().add(key);
        } else {
          session.subscriptions().remove(key);
        }
        return response;
      }
      return subscribe ? subscribeShared(session, work, backend, key, params, request)
          : unsubscribeShared(session, work, backend, key, params, request);
    }));
  }

  /**
   * A subscription on a shared connection: the backend hears only the first subscriber's, so that
   * one client's unsubscribe never ends another's updates.
   */
  private ObjectNode subscribeShared(ClientSession session, InFlight work, Backend backend, String key,
      ObjectNode params, JsonRpcMessage request) throws Exception {
    if (!session.subscriptions().add(key)) {
      return JsonRpc.result(request.requiredId(), NODES.objectNode());
    }
    if (sharedSubscribers.merge(key, 1, Integer::sum) > 1) {
      return JsonRpc.result(request.requiredId(), NODES.objectNode());
    }
    try {
      return forward(session, work, backend, request.requiredMethod(), params);
    } catch (Exception e) {
      session.subscriptions().remove(key);
      sharedSubscribers.compute(key, (k, count) -> count == null || count <= 1 ? null : count - 1);
      throw e;
    }
  }

  private ObjectNode unsubscribeShared(ClientSession session, InFlight work, Backend backend, String key,
      ObjectNode params, JsonRpcMessage request) throws Exception {
    if (!session.subscriptions().remove(key)) {
      return JsonRpc.result(request.requiredId(), NODES.objectNode());
    }
    Integer left = sharedSubscribers.compute(key, (k, count) -> count == null || count <= 1 ? null : count - 1);
    if (left != null) {
      return JsonRpc.result(request.requiredId(), NODES.objectNode());
    }
    return forward(session, work, backend, request.requiredMethod(), params);
  }

  /** Why a route has no backend: a route without one says why. */
  private static String problem(ResourceRoutes.Route route) {
    return Objects.requireNonNull(route.problem(), "a route without a backend says why");
  }

  private static String subscriptionKey(Backend backend, String uri) {
    return backend.name + '\u0000' + uri;
  }

  /**
   * Routes a resource URI (or, for completions, a URI template); on a miss, lists the backends'
   * resources and templates again (at most every few seconds) and tries once more.
   */
  private ResourceRoutes.Route route(ClientSession session, InFlight work, String uri, boolean template) {
    ResourceRoutes.Route route = template ? routes.routeTemplate(uri) : routes.route(uri);
    if (!route.unknown()) {
      return route;
    }
    long now = gateway.clock().nanoTime();
    long last = lastRelearn;
    if (last != Long.MIN_VALUE && now - last < RELEARN_INTERVAL.toNanos()) {
      return route;
    }
    lastRelearn = now;
    for (Backend backend : backends) {
      if (backend.usable() && backend.has("resources")) {
        learn(session, work, backend, Listing.TEMPLATES);
        learn(session, work, backend, Listing.RESOURCES);
      }
    }
    return template ? routes.routeTemplate(uri) : routes.route(uri);
  }

  /** Lists a backend's resources or templates for the routes only; nothing goes to the client. */
  private void learn(ClientSession session, InFlight work, Backend backend, Listing listing) {
    String cursor = null;
    for (int page = 0; page < MAX_PAGES; page++) {
      ObjectNode params = NODES.objectNode();
      if (cursor != null) {
        params.put("cursor", cursor);
      }
      JsonNode result;
      try {
        result = forward(session, work, backend, listing.method, params).path("result");
      } catch (Exception e) {
        log.debug("{} of backend {} for routing failed: {}", listing.method, backend.name, e.getMessage());
        return;
      }
      for (JsonNode item : result.path(listing.field)) {
        JsonNode key = item.path(listing.key);
        if (key.isString()) {
          remember(backend, listing, key.stringValue());
        }
      }
      JsonNode next = result.path("nextCursor");
      if (!next.isString() || next.stringValue().isEmpty()) {
        return;
      }
      cursor = next.stringValue();
    }
  }

  private void remember(Backend backend, Listing listing, String key) {
    if (!routes.serves(backend, key)) {
      return;
    }
    if (listing == Listing.RESOURCES) {
      routes.listedResource(backend, key);
    } else if (listing == Listing.TEMPLATES) {
      routes.listedTemplate(backend, key);
    }
  }

  private @Nullable ObjectNode complete(ClientSession session, JsonRpcMessage request, InFlight work,
      ObjectNode params) {
    JsonNode ref = params.path("ref");
    String type = ref.path("type").asString("");
    Backend backend;
    String name;
    String useMethod;
    ObjectNode forwarded = params.deepCopy();
    if ("ref/prompt".equals(type) && ref.path("name").isString()) {
      name = ref.get("name").stringValue();
      Naming.Target target = naming.resolve(name);
      if (target == null) {
        return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "unknown prompt: " + name);
      }
      backend = target.backend();
      useMethod = Request.PROMPTS_GET;
      ((ObjectNode) forwarded.get("ref")).put("name", target.name());
    } else if ("ref/resource".equals(type) && ref.path("uri").isString()) {
      name = ref.get("uri").stringValue();
      ResourceRoutes.Route route = route(session, work, name, true);
      if (route.backend() == null) {
        return unroutable(session, work, request, new Request(request.requiredMethod(), null, name, params),
            problem(route));
      }
      backend = route.backend();
      useMethod = Request.RESOURCES_READ;
    } else {
      return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS,
          "params.ref must be a ref/prompt with a name or a ref/resource with a uri");
    }
    Request governed = new Request(request.requiredMethod(), backend.name, name, params);
    // Completing a prompt's or resource's arguments is a use of it: refused to whoever may not use it.
    Principal principal = session.owner();
    if (principal == null || !sentinel.visible(principal, new Request(useMethod, backend.name, name, NO_ARGUMENTS))) {
      Refusal refusal = Refusal.of(Outcome.DENIED, List.of(),
          "no rule allows using '" + name + "', so it gets no completions");
      return reply(sentinel.refuse(call(session, work, request, governed), refusal), request.requiredId(), null, null);
    }
    return govern(session, work, request, governed,
        () -> forward(session, work, backend, request.requiredMethod(), forwarded));
  }

  private @Nullable ObjectNode setLevel(ClientSession session, JsonRpcMessage request, InFlight work,
      ObjectNode params) {
    Request governed = new Request(request.requiredMethod(), null, null, params);
    return govern(session, work, request, governed, () -> {
      session.logLevel(params);
      // Only the connections that serve this session alone: a shared one's logs go to the
      // gateway's log, and its level is not one client's to set.
      for (Backend backend : backends) {
        Upstream upstream = backend.isolated() && backend.has("logging") ? backend.existingFor(session) : null;
        if (upstream != null && upstream.isUp()) {
          applyLevel(upstream, params);
        }
      }
      return JsonRpc.result(request.requiredId(), NODES.objectNode());
    });
  }

  private void applyLevel(Upstream upstream, JsonNode params) {
    upstream.appliedLogLevel = params;
    if (upstream.modern()) {
      return; // MCP 2026-07-28 has no logging/setLevel: each request carries its level
    }
    try {
      upstream.request("logging/setLevel", params, gateway.requestTimeout());
    } catch (BackendFailure e) {
      log.debug("logging/setLevel at {} failed: {}", upstream.label(), e.getMessage());
    }
  }

  /** Refuses a request that maps to no backend or to several, and records the refusal. */
  private @Nullable ObjectNode unroutable(ClientSession session, InFlight work, JsonRpcMessage request,
      Request governed, String problem) {
    Refusal refusal = Refusal.of(Outcome.DENIED, List.of(ROUTING), problem);
    return reply(sentinel.refuse(call(session, work, request, governed), refusal), request.requiredId(), null, null);
  }

  // ---- lists ------------------------------------------------------------------------------

  private @Nullable ObjectNode list(ClientSession session, JsonRpcMessage request, InFlight work,
      ObjectNode params, Listing listing) {
    gateway.awaitFirstStarts();
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
        () -> JsonRpc.result(request.requiredId(), page(session, work, listing, from)));
  }

  /** The smallest of two ttls; a backend result without a valid {@code ttlMs} counts as 0. */
  private static long minTtl(long ttl, JsonNode result) {
    JsonNode given = result.path("ttlMs");
    return Math.min(ttl, given.isIntegralNumber() && given.asLong() >= 0 ? given.asLong() : 0);
  }

  private ObjectNode page(ClientSession session, InFlight work, Listing listing, Naming.Cursor from)
      throws Exception {
    Principal principal = session.owner();
    ArrayNode items = NODES.arrayNode();
    int index = from.backend();
    String backendCursor = from.backendCursor();
    int pages = 0;
    // One page holds every backend's first page, up to the first backend that paginates, so
    // clients that never follow nextCursor still see every backend that does not paginate.
    boolean paginated = false;
    boolean stateless = work.stateless != null;
    long ttl = Long.MAX_VALUE;
    while (index < backends.size() && !paginated && pages < MAX_PAGES) {
      Backend backend = backends.get(index);
      if (!backend.usable() || !backend.has(listing.capability)) {
        index++;
        backendCursor = null;
        continue;
      }
      ObjectNode params = NODES.objectNode();
      if (backendCursor != null) {
        params.put("cursor", backendCursor);
      }
      JsonNode result;
      Upstream[] used = new Upstream[1];
      long[] asOf = new long[1];
      Set<String> held = Set.of();
      try {
        pages++;
        result = forward(session, work, backend, listing.method, params, listing != Listing.TOOLS ? null
            : upstream -> {
              used[0] = upstream;
              asOf[0] = upstream.tools.generation();
            }).path("result");
        if (listing == Listing.TOOLS) {
          listedTools(backend, used[0], asOf[0], result);
          held = heldTools(backend, used[0], result);
        }
      } catch (PeerError | BackendFailure | Backend.Busy | TimeoutException e) {
        // One failing backend does not hide the others' lists.
        log.warn("{} of backend {} failed: {}", listing.method, backend.name, e.getMessage());
        index++;
        backendCursor = null;
        continue;
      }
      ttl = minTtl(ttl, result);
      ArrayNode included = stateless ? NODES.arrayNode() : items;
      for (JsonNode item : result.path(listing.field)) {
        if (item.isObject() && principal != null && !held.contains(item.path("name").asString(""))) {
          include(included, (ObjectNode) item, backend, listing, principal);
        }
      }
      if (stateless) {
        // 2026-07-28 asks for a deterministic order (client caches, prompt caches): each
        // backend's page sorted by what identifies its items, backends in configuration order.
        List<JsonNode> sorted = new java.util.ArrayList<>();
        included.forEach(sorted::add);
        sorted.sort(java.util.Comparator.comparing(item -> item.path(listing.key).asString("")));
        sorted.forEach(items::add);
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
    if (stateless) {
      page.put("ttlMs", ttl == Long.MAX_VALUE ? 0 : ttl);
    }
    if (backendCursor != null || hasMore(index, listing)) {
      page.put("nextCursor", Naming.encode(new Naming.Cursor(index, backendCursor)));
    }
    return page;
  }

  private boolean hasMore(int index, Listing listing) {
    for (int i = index; i < backends.size(); i++) {
      if (backends.get(i).usable() && backends.get(i).has(listing.capability)) {
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
    if (listing == Listing.RESOURCES || listing == Listing.TEMPLATES) {
      target = key.stringValue();
      if (!routes.serves(backend, target)) {
        return; // under prefixes the config gives another backend, or outside this one's: never routed here
      }
      remember(backend, listing, target);
    } else {
      target = naming.expose(backend, key.stringValue());
      if (listing == Listing.TOOLS) {
        gateway.listed(target);
      }
    }
    if (!sentinel.visible(principal, new Request(listing.useMethod, backend.name, target, NO_ARGUMENTS))) {
      return;
    }
    ObjectNode copy = item.deepCopy();
    if (item.path("name").isString()) {
      copy.put("name", naming.expose(backend, item.get("name").stringValue()));
    }
    items.add(copy);
  }

  // ---- forwarding and governance ----------------------------------------------------------

  /** The binding prefix of the relayed states of MCP 2026-07-28 backends' questions. */
  static final String RELAY_BINDING_PREFIX = InputRequests.BINDING_PREFIX;
  /** How many times one request of an older client is sent again with answers to an MCP 2026-07-28 backend. */
  static final int MAX_INPUT_ROUNDS = 8;

  /**
   * Sends a request to a backend on the connection that serves the session, for a client's
   * in-flight request, and waits for the answer, remapping the progress token. Throws {@link
   * PeerError} for an error answer.
   */
  private ObjectNode forward(ClientSession session, InFlight work, Backend backend, String method, ObjectNode params)
      throws Exception {
    return forward(session, work, backend, method, params, null);
  }

  /**
   * Like {@link #forward(ClientSession, InFlight, Backend, String, ObjectNode)}, telling {@code
   * sending} (when not null) the connection the request goes out on just before it is sent.
   */
  private ObjectNode forward(ClientSession session, InFlight work, Backend backend, String method, ObjectNode params,
      java.util.function.@Nullable Consumer<Upstream> sending) throws Exception {
    return answered(forwardAsync(session, work, backend, method, params, sending));
  }

  /** Waits for a forwarded request's answer: its response, or the failure it ended with, unwrapped. */
  private static ObjectNode answered(CompletableFuture<ObjectNode> answer) throws Exception {
    try {
      return answer.get();
    } catch (ExecutionException e) {
      Throwable cause = Upstream.unwrap(e);
      throw cause instanceof Exception ? (Exception) cause : e;
    }
  }

  /**
   * Sends a request to a backend like {@link #forward(ClientSession, InFlight, Backend, String,
   * ObjectNode, java.util.function.Consumer)} and returns its answer to come, without waiting for
   * it: the stage completes on the thread that reads the backend's answer (or fails with {@link
   * PeerError} for an error answer). A stateless client's call to an older backend, and its
   * retry with answers, complete the same way, or with {@code input_required} when the backend
   * asks a question first ({@link #awaitAsync}). A 2026-07-28 backend's calls, which may take
   * more than one exchange with it, are served on the calling thread and return a completed
   * stage.
   */
  private CompletableFuture<ObjectNode> forwardAsync(ClientSession session, InFlight work, Backend backend,
      String method, ObjectNode params, java.util.function.@Nullable Consumer<Upstream> sending) throws Exception {
    if (work.cancelled()) {
      throw new CancellationException("cancelled by the client");
    }
    // A stateless client's call, prompt or read may be asked questions by an older backend: they
    // reach the client as input_required, and its retry continues the same backend call.
    boolean multiRound = work.stateless != null && sending == null && McpGateway.NEEDS_INPUT.contains(method);
    boolean relayed = multiRound && !work.stateRedeemed && RequestStates.relayed(params.get("requestState"));
    if (multiRound && params.has("requestState") && !work.stateRedeemed && !relayed) {
      return resume(session, work, params);
    }
    Upstream upstream = backend.upstreamFor(session);
    if (sending != null) {
      sending.accept(upstream);
    }
    if (upstream.modern()) {
      return CompletableFuture.completedFuture(forwardModern(session, work, upstream, method, params, relayed));
    }
    if (relayed) {
      // A state for a 2026-07-28 connection that has since restarted as an older one.
      throw new RefusedException(Refusal.of(Outcome.DENIED, List.of(StatelessMeta.RULE), "the requestState sent"
          + " with this request continues a call of an MCP 2026-07-28 backend that is no longer one; send the"
          + " request without it"));
    }
    ObjectNode sent = params;
    if (work.stateless != null) {
      // The connection's level is its principal's requests' (a stateless session's connections
      // are its principal's): messages below a request's own level are filtered per request.
      String wanted = work.stateless.logLevel();
      if (wanted != null && backend.isolated() && backend.has("logging")) {
        ObjectNode level = NODES.objectNode().put("level", wanted);
        if (!level.equals(upstream.appliedLogLevel)) {
          applyLevel(upstream, level);
        }
      }
      sent = withoutHopMeta(params);
    } else {
      JsonNode level = session.logLevel();
      if (backend.isolated() && level != null && upstream.appliedLogLevel != level && backend.has("logging")) {
        applyLevel(upstream, level);
      }
    }
    String token = null;
    JsonNode clientToken = sent.path("_meta").path("progressToken");
    if (JsonRpc.validToken(clientToken)) {
      token = "sentinel-progress-" + gateway.nextId();
      progress.put(token, new ProgressRoute(session, clientToken, upstream, work));
      sent = sent == params ? params.deepCopy() : sent;
      ((ObjectNode) sent.get("_meta")).put("progressToken", token);
    }
    RoundTrip trip = null;
    if (multiRound && upstream.owner() != null && session.owner() != null && work.governed != null) {
      // Before the request goes out: the backend may ask as soon as it has it.
      trip = new RoundTrip(upstream, binding(session.owner(), work.governed), token,
          gateway.clock().nanoTime() + gateway.requestTimeout().toNanos(), session, work);
      work.roundTrip = trip;
      upstream.roundTrips.add(trip);
    }
    CompletableFuture<ObjectNode> answer = null;
    try {
      work.sending(upstream);
      Upstream.Outgoing outgoing;
      try {
        outgoing = upstream.request(method, sent, gateway.requestTimeout());
      } catch (RuntimeException e) {
        if (trip != null) {
          gateway.endRoundTrip(trip, null);
        }
        throw e;
      }
      if (!work.forwarded(upstream, outgoing.id())) {
        upstream.cancel(outgoing.id(), "cancelled by the client");
      }
      if (trip != null) {
        trip.sent(outgoing);
        answer = awaitAsync(trip, work);
      } else {
        answer = answerOf(outgoing, work);
      }
      if (token != null) {
        // Progress for the request reaches its client until the answer: the route goes first.
        String route = token;
        answer = answer.whenComplete((response, failure) -> progress.remove(route));
      }
      return answer;
    } finally {
      if (token != null && answer == null) {
        progress.remove(token);
      }
    }
  }

  /**
   * Forwards a request to an MCP 2026-07-28 backend: stateless, its {@code _meta} declaring the
   * client's capabilities and log level. The backend's questions ({@code input_required}) reach
   * a 2026-07-28 client as its own {@code input_required}, under a relayed state ({@code
   * relayed}: the request is such a client's retry); a client of an older revision is asked them
   * as requests of its session, and the backend is retried with the answers.
   */
  private ObjectNode forwardModern(ClientSession session, InFlight work, Upstream upstream, String method,
      ObjectNode params, boolean relayed) throws Exception {
    JsonNode declared = work.stateless != null ? work.stateless.capabilities() : session.capabilities();
    String owner = session.owner() == null ? null : session.ownerId();
    // A stateless client's call may create a task when both ends declare the extension and the
    // principal has room for one more; the slot is held while the call is out.
    boolean taskable = Request.TOOLS_CALL.equals(method) && work.stateless != null && owner != null
        && work.governed != null && declaresTasks(declared) && upstream.backend.relaysTasks();
    Tasks.Full full = taskable && owner != null ? gateway.tasks().reserve(owner) : null;
    boolean reserved = taskable && full == null;
    ObjectNode response;
    try {
      response = forwardModern(session, work, upstream, method, params, relayed, declared, reserved);
    } catch (PeerError e) {
      if (reserved) {
        releaseTask(owner);
      } else if (full != null && missesTasks(e.error())) {
        // Sent without the extension because a bound is reached: say which.
        throw new RefusedException(Refusal.of(Outcome.LIMITED, List.of(TASKS_BOUND_RULE), full == Tasks.Full.PRINCIPAL
            ? "too many live tasks: at most " + gateway.tasks().perPrincipal() + " per principal; wait for one to"
                + " end or cancel one (tasks/cancel)"
            : "the gateway holds as many tasks as it may (" + gateway.tasks().max() + "); try again when some"
                + " have ended"));
      }
      throw e;
    } catch (Exception | Error e) {
      if (reserved) {
        releaseTask(owner);
      }
      throw e;
    }
    JsonNode result = response.get("result");
    if (!(result instanceof ObjectNode) || !"task".equals(result.path("resultType").asString(""))) {
      if (reserved) {
        releaseTask(owner);
      }
      return response;
    }
    JsonNode backendId = result.get("taskId");
    if (!reserved || backendId == null || !backendId.isString() || backendId.stringValue().isEmpty()) {
      if (backendId != null && backendId.isString()) {
        cancelStray(upstream, backendId.stringValue());
      }
      if (reserved) {
        releaseTask(owner);
      }
      throw PeerError.of(ErrorCode.INTERNAL_ERROR, "backend " + upstream.backend.name
          + (reserved ? " answered a task without a taskId" : " created a task this call did not allow"));
    }
    JsonNode ttl = result.path("ttlMs");
    // A ttlMs beyond a long (or not a whole number) is no bound the gateway can use: the maximum life.
    // Reserved: a taskable call, so a principal's governed tools/call, which names its tool.
    Request governed = Objects.requireNonNull(work.governed, "a taskable call is governed");
    Tasks.Task task = gateway.tasks().bind(Objects.requireNonNull(owner, "a taskable call has a principal"),
        upstream.backend, backendId.stringValue(),
        Objects.requireNonNull(governed.name(), "a tools/call names its tool"),
        ttl.isIntegralNumber() && ttl.canConvertToLong() ? ttl.asLong() : null);
    ObjectNode copy = response.deepCopy();
    ((ObjectNode) copy.get("result")).put("taskId", task.id());
    return copy;
  }

  /** Gives back the task slot a call reserved for its principal ({@code owner}, known when it reserved). */
  private void releaseTask(@Nullable String owner) {
    if (owner != null) {
      gateway.tasks().release(owner);
    }
  }

  /** The rule a refusal names when a principal, or the gateway, holds as many tasks as it may. */
  static final String TASKS_BOUND_RULE = "max_tasks";
  /** The rule an operation on a task that is not the caller's is refused by, in the audit trail. */
  static final String TASKS_RULE = "tasks";
  /** What an operation on a task that does not exist, expired or is another's is answered. */
  static final String UNKNOWN_TASK = "unknown task: no task of yours has this taskId (it may have expired)";

  /** Whether a backend's error is {@code -32021} for the Tasks extension (or for no capability it names). */
  private static boolean missesTasks(JsonNode error) {
    JsonNode required = error.path("data").path("requiredCapabilities");
    return error.path("code").asInt(0) == ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY.code()
        && (required.isMissingNode() || required.path("extensions").has(Tasks.EXTENSION));
  }

  /** Whether declared client capabilities name the Tasks extension. */
  static boolean declaresTasks(JsonNode declared) {
    return Tasks.declaredIn(declared);
  }

  /** The capabilities relayed to a backend, with the client's declaration of the Tasks extension. */
  private static JsonNode withTasks(JsonNode relayed, JsonNode declared) {
    ObjectNode copy = (ObjectNode) relayed.deepCopy();
    ObjectNode extensions = copy.get("extensions") instanceof ObjectNode ? (ObjectNode) copy.get("extensions")
        : copy.putObject("extensions");
    extensions.set(Tasks.EXTENSION, declared.path("extensions").path(Tasks.EXTENSION).deepCopy());
    return copy;
  }

  /** Cancels, without waiting, a task a backend created where none was allowed: nobody would ever see it end. */
  private void cancelStray(Upstream upstream, String backendId) {
    try {
      ObjectNode capabilities = NODES.objectNode();
      capabilities.putObject("extensions").putObject(Tasks.EXTENSION);
      upstream.request("tasks/cancel", upstream.stamped(NODES.objectNode().put("taskId", backendId), capabilities, null),
          gateway.requestTimeout());
    } catch (BackendFailure e) {
      log.debug("cancelling a stray task at {} failed: {}", upstream.backend.name, e.getMessage());
    }
  }

  /**
   * {@code tasks/get}, {@code tasks/update} and {@code tasks/cancel} of a stateless client that
   * declared the Tasks extension: the task must be one the gateway bound to this principal (an
   * unknown, expired or another principal's id is answered alike, {@code -32602}, and the probe
   * recorded); the operation is then decided by the policy as a call of its own method on the
   * task's backend and tool, and sent to that backend under the backend's id. An older client
   * never had these methods ({@code -32601}).
   */
  private @Nullable ObjectNode task(ClientSession session, JsonRpcMessage request, InFlight work, ObjectNode params) {
    if (work.stateless == null) {
      return JsonRpc.methodNotFound(request.requiredId(), request.requiredMethod());
    }
    if (!declaresTasks(work.stateless.capabilities())) {
      ObjectNode data = NODES.objectNode();
      data.putObject("requiredCapabilities").putObject("extensions").putObject(Tasks.EXTENSION);
      return JsonRpc.error(request.id(), ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY.code(),
          "Missing required client capability: extensions." + Tasks.EXTENSION + " (declare it in _meta."
              + StatelessMeta.CLIENT_CAPABILITIES + ")", data);
    }
    JsonNode id = params.path("taskId");
    if (!id.isString()) {
      return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "params.taskId must be a string");
    }
    JsonNode answers = params.get("inputResponses");
    if ("tasks/update".equals(request.method()) && !(answers instanceof ObjectNode)) {
      return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "params.inputResponses must be an object");
    }
    Principal owner = session.owner();
    Tasks.Task task = owner == null ? null : gateway.tasks().find(id.stringValue(), owner.id());
    if (owner == null || task == null) {
      sentinel.refuse(call(session, work, request, new Request(request.requiredMethod(), null, null, NO_ARGUMENTS)),
          Refusal.of(Outcome.DENIED, List.of(TASKS_RULE), UNKNOWN_TASK));
      return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, UNKNOWN_TASK);
    }
    Request governed = new Request(request.requiredMethod(), task.backend().name, task.tool(), NO_ARGUMENTS);
    if ("tasks/update".equals(request.method())) {
      // Input reaches a task only while its tool may still be called: a kill switch or a reload
      // since the task began stops its input (tasks/cancel still stops the task itself).
      Request tool = new Request(Request.TOOLS_CALL, task.backend().name, task.tool(), NO_ARGUMENTS);
      if (!sentinel.visible(owner, tool)) {
        boolean killed = sentinel.killSwitch().check(owner, tool) != null;
        String why = "the task's tool " + task.tool() + " is " + (killed ? "disabled" : "no longer allowed")
            + ": its task takes no more input (tasks/cancel still stops it)";
        sentinel.refuse(call(session, work, request, governed),
            Refusal.of(killed ? Outcome.DISABLED : Outcome.DENIED, List.of(TASKS_RULE), why));
        return JsonRpc.error(request.id(), killed ? ErrorCode.DISABLED : ErrorCode.DENIED, why);
      }
    }
    return govern(session, work, request, governed,
        () -> forwardTask(session, work, task, request.requiredMethod(), answers));
  }

  /** Sends a task operation to the task's backend under its own id, and its answer back under the gateway's. */
  private ObjectNode forwardTask(ClientSession session, InFlight work, Tasks.Task task, String method,
      @Nullable JsonNode answers)
      throws Exception {
    Upstream upstream = task.backend().upstreamFor(session);
    if (!upstream.modern() || !task.backend().relaysTasks()) {
      // Restarted as an older server, or without the extension: the task is gone with the old one.
      gateway.tasks().forget(task.id());
      throw PeerError.of(ErrorCode.INVALID_PARAMS, UNKNOWN_TASK);
    }
    ObjectNode sent = NODES.objectNode().put("taskId", task.backendId());
    if ("tasks/update".equals(method)) {
      // Answers only to the questions the client was shown (and the policy allowed), as objects.
      ObjectNode passed = sent.putObject("inputResponses");
      JsonNode given = Objects.requireNonNull(answers, "a tasks/update carries inputResponses (checked by task())");
      for (java.util.Map.Entry<String, JsonNode> answer : given.properties()) {
        if (gateway.tasks().wasAsked(task.id(), answer.getKey())) {
          if (!answer.getValue().isObject()) {
            throw PeerError.of(ErrorCode.INVALID_PARAMS, "inputResponses." + answer.getKey() + " must be an object");
          }
          passed.set(answer.getKey(), answer.getValue());
        }
      }
    }
    StatelessMeta stateless = Objects.requireNonNull(work.stateless, "tasks are a stateless client's");
    JsonNode declared = stateless.capabilities();
    ObjectNode response;
    try {
      response = exchange(session, work, upstream, method,
          upstream.stamped(sent, withTasks(relayable(declared, true), declared), stateless.logLevel()));
    } catch (PeerError e) {
      if (e.error().path("code").asInt(0) == ErrorCode.INVALID_PARAMS.code()) {
        // The backend no longer knows it (expired there): nor does the gateway, and its id stays hidden.
        gateway.tasks().forget(task.id());
        throw PeerError.of(ErrorCode.INVALID_PARAMS, UNKNOWN_TASK);
      }
      throw new PeerError(hidden(e.error(), task, method));
    }
    JsonNode result = response.get("result");
    if (!(result instanceof ObjectNode)) {
      throw PeerError.of(ErrorCode.INTERNAL_ERROR, "backend " + task.backend().name + " answered " + method
          + " without a result object");
    }
    ObjectNode answer = ((ObjectNode) result).deepCopy();
    if (answer.has("taskId")) {
      answer.put("taskId", task.id());
    }
    if ("tasks/cancel".equals(method)) {
      // Cancelled (or already ended): the task no longer counts against its principal's bound.
      gateway.tasks().status(task.id(), "cancelled");
    }
    if ("tasks/get".equals(method)) {
      gateway.tasks().status(task.id(), answer.path("status").asString(""));
      if (answer.path("inputRequests").isObject() && !answer.path("inputRequests").isEmpty()) {
        // Each question is decided once, when the client is first shown it; a refused one refuses the poll.
        List<InputRequests.Question> questions = InputRequests.questions(task.backend().name, answer);
        List<InputRequests.Question> fresh = new java.util.ArrayList<>();
        for (InputRequests.Question question : questions) {
          if (!gateway.tasks().wasAsked(task.id(), question.key())) {
            fresh.add(question);
          }
        }
        for (InputRequests.Question question : fresh) {
          inputs.governTaskQuestion(session, work, upstream, question);
        }
        gateway.tasks().firstAsked(task.id(), fresh.stream().map(InputRequests.Question::key).toList());
      }
    }
    ObjectNode copy = response.deepCopy();
    copy.set("result", answer);
    return copy;
  }

  /** The backend's error, or one with its code alone when it names the task by the backend's own id. */
  private static JsonNode hidden(JsonNode error, Tasks.Task task, String method) {
    if (!error.toString().contains(task.backendId())) {
      return error;
    }
    ObjectNode plain = NODES.objectNode();
    plain.set("code", error.path("code").isIntegralNumber() ? error.get("code")
        : NODES.numberNode(ErrorCode.INTERNAL_ERROR.code()));
    plain.put("message", "backend " + task.backend().name + " refused " + method + " for task " + task.id());
    return plain;
  }

  private ObjectNode forwardModern(ClientSession session, InFlight work, Upstream upstream, String method,
      ObjectNode params, boolean relayed, JsonNode declared, boolean tasks) throws Exception {
    if ("resources/subscribe".equals(method) || "resources/unsubscribe".equals(method)) {
      // 2026-07-28 has no such methods: the resource joins the connection's subscriptions/listen.
      upstream.subscription(params.path("uri").asString(""), "resources/subscribe".equals(method));
      return JsonRpc.result(NODES.nullNode(), NODES.objectNode());
    }
    ObjectNode base = withoutHopMeta(params);
    ObjectNode sent = base;
    if (relayed) {
      sent = continued(base, inputs.open(params.get("requestState"), params.get("inputResponses"),
          session.owner() == null || work.governed == null ? null : binding(session.owner(), work.governed)));
    }
    JsonNode capabilities = relayable(declared, work.stateless != null
        || Objects.requireNonNull(session.revision(), "a session that is not stateless is initialized")
            .supportsElicitation());
    if (tasks) {
      capabilities = withTasks(capabilities, declared);
    }
    String level = work.stateless != null ? work.stateless.logLevel()
        : session.logLevel() == null ? null : session.logLevel().path("level").asString(null);
    for (int round = 1; ; round++) {
      ObjectNode response = exchange(session, work, upstream, method, upstream.stamped(sent, capabilities, level));
      JsonNode result = response.get("result");
      if (!InputRequests.asks(result)) {
        if (work.stateless == null && result instanceof ObjectNode && result.has("resultType")) {
          // What older revisions do not know: a complete result is just a result to them.
          ObjectNode copy = response.deepCopy();
          ((ObjectNode) copy.get("result")).remove("resultType");
          return copy;
        }
        return response;
      }
      if (!McpGateway.NEEDS_INPUT.contains(method)) {
        throw PeerError.of(ErrorCode.INTERNAL_ERROR, "backend "
            + upstream.backend.name + " answered input_required to " + method + ", which MCP 2026-07-28 allows only"
            + " for tools/call, prompts/get and resources/read");
      }
      List<InputRequests.Question> questions = InputRequests.questions(upstream.backend.name, result);
      if (work.stateless != null) {
        if (session.owner() == null || work.governed == null) {
          throw new RefusedException(Refusal.of(Outcome.DENIED, List.of(StatelessMeta.RULE), "backend "
              + upstream.backend.name + " asked a question for a call of no known principal: it is not passed on"));
        }
        return inputs.relay(session, work, upstream, (ObjectNode) result, questions,
            binding(session.owner(), work.governed));
      }
      if (round > MAX_INPUT_ROUNDS) {
        throw PeerError.of(ErrorCode.INTERNAL_ERROR, "backend "
            + upstream.backend.name + " still asked for input after " + MAX_INPUT_ROUNDS + " rounds");
      }
      sent = continued(base, new InputRequests.Continuation(result.get("requestState"),
          inputs.ask(session, work, upstream, questions)));
    }
  }

  /** The request again, with the backend's state and the client's answers. */
  private static ObjectNode continued(ObjectNode base, InputRequests.Continuation continuation) {
    ObjectNode copy = base.deepCopy();
    if (continuation.backendState() != null) {
      copy.set("requestState", continuation.backendState());
    }
    if (!continuation.answers().isEmpty()) {
      copy.set("inputResponses", continuation.answers());
    }
    return copy;
  }

  /**
   * What a 2026-07-28 backend may ask the client of a request: the client's elicitation (when its
   * revision has it), sampling and roots, and its extensions but Tasks, which is added back
   * ({@link #withTasks}) only where the gateway relays a task's later requests.
   */
  private static ObjectNode relayable(JsonNode declared, boolean elicitation) {
    ObjectNode capabilities = NODES.objectNode();
    for (String name : List.of("elicitation", "sampling", "roots")) {
      if (declared.has(name) && (elicitation || !"elicitation".equals(name))) {
        capabilities.set(name, declared.get(name).deepCopy());
      }
    }
    if (declared.path("extensions").isObject()) {
      ObjectNode extensions = (ObjectNode) declared.get("extensions").deepCopy();
      extensions.remove(Tasks.EXTENSION);
      if (!extensions.isEmpty()) {
        capabilities.set("extensions", extensions);
      }
    }
    return capabilities;
  }

  /** Sends one request to a backend and waits for its answer, routing its progress to the client. */
  private ObjectNode exchange(ClientSession session, InFlight work, Upstream upstream, String method, ObjectNode params)
      throws Exception {
    if (work.cancelled()) {
      throw new CancellationException("cancelled by the client");
    }
    ObjectNode sent = params;
    String token = null;
    JsonNode clientToken = params.path("_meta").path("progressToken");
    if (JsonRpc.validToken(clientToken)) {
      token = "sentinel-progress-" + gateway.nextId();
      progress.put(token, new ProgressRoute(session, clientToken, upstream, work));
      ((ObjectNode) sent.get("_meta")).put("progressToken", token);
    }
    try {
      work.sending(upstream);
      Upstream.Outgoing outgoing = upstream.request(method, sent, gateway.requestTimeout());
      if (!work.forwarded(upstream, outgoing.id())) {
        upstream.cancel(outgoing.id(), "cancelled by the client");
      }
      return answered(answerOf(outgoing, work));
    } finally {
      if (token != null) {
        progress.remove(token);
      }
    }
  }

  /**
   * The backend's answer to come to a request, as the response object; an error answer fails it
   * with {@link PeerError}. It tells {@code work} the backend request ended.
   */
  private static CompletableFuture<ObjectNode> answerOf(Upstream.Outgoing outgoing, InFlight work) {
    return outgoing.response().handle((response, failure) -> {
      work.answered();
      if (failure != null) {
        throw failure instanceof CompletionException ? (CompletionException) failure : new CompletionException(failure);
      }
      if (response.kind() == JsonRpcMessage.Kind.ERROR) {
        throw new CompletionException(new PeerError(response.error()));
      }
      // Upstream completes a request's future only with a RESULT or ERROR response: an object.
      return response.requiredObject();
    });
  }

  /**
   * A stateless client's backend call, awaited without holding a thread: its answer, or its
   * backend's questions, which park the call and answer this attempt with {@code
   * input_required}. The answer completes the stage on the thread that reads it; a question is
   * looked at on a worker (it is taken under the round trip's lock, on a worker that then waits
   * for the client's answer).
   */
  private CompletableFuture<ObjectNode> awaitAsync(RoundTrip trip, InFlight work) {
    CompletableFuture<ObjectNode> done = new CompletableFuture<>();
    look(trip, work, done);
    return done;
  }

  /** One look of {@link #awaitAsync} at its call, and the next when there is nothing to answer yet. */
  private void look(RoundTrip trip, InFlight work, CompletableFuture<ObjectNode> done) {
    Upstream.Outgoing call = Objects.requireNonNull(trip.outgoing(), "a round trip is awaited once sent");
    CompletableFuture<Void> news = trip.news();
    CompletableFuture<ObjectNode> settled;
    try {
      settled = settled(trip, work, call);
    } catch (Exception | Error e) {
      done.completeExceptionally(e);
      return;
    }
    if (settled != null) {
      settled.whenComplete((response, failure) -> {
        if (failure != null) {
          done.completeExceptionally(failure);
        } else {
          done.complete(response);
        }
      });
      return;
    }
    // Whichever comes first takes the next look; the other finds it taken.
    AtomicBoolean taken = new AtomicBoolean();
    call.response().whenComplete((response, failure) -> {
      if (taken.compareAndSet(false, true)) {
        look(trip, work, done);
      }
    });
    news.whenComplete((ignored, failure) -> {
      if (taken.compareAndSet(false, true)) {
        try {
          gateway.executor().execute(() -> look(trip, work, done));
        } catch (RejectedExecutionException stopping) {
          look(trip, work, done);
        }
      }
    });
  }

  /**
   * What a look at a stateless client's backend call finds: {@code input_required} for the
   * questions no result has carried yet (the call is then parked), else the backend's answer
   * once it came, else {@code null} (nothing yet).
   *
   * @throws CancellationException when the call ended unanswered (the gateway is closing)
   */
  private @Nullable CompletableFuture<ObjectNode> settled(RoundTrip trip, InFlight work, Upstream.Outgoing call) {
    List<RoundTrip.Question> unsent = work.missingCapability == null ? trip.unsent() : List.of();
    if (!unsent.isEmpty()) {
      ObjectNode parked = gateway.park(trip, work, unsent);
      if (parked != null) {
        return CompletableFuture.completedFuture(parked);
      }
    }
    if (call.response().isDone()) {
      gateway.endRoundTrip(trip, null);
      return answerOf(call, work);
    }
    if (trip.ended()) {
      throw new CancellationException("the call was ended while it waited: the gateway is closing");
    }
    return null;
  }

  /**
   * A stateless client's retry: its {@code requestState} names a backend call parked here, which
   * it continues with its {@code inputResponses}; nothing new is forwarded. A state that is not
   * this gateway's for this very call, expired, used or whose call is gone is refused.
   */
  private CompletableFuture<ObjectNode> resume(ClientSession session, InFlight work, ObjectNode params) {
    JsonNode state = params.get("requestState");
    Principal owner = session.owner();
    StringBuilder why = new StringBuilder();
    RoundTrip trip = null;
    String nonce = null;
    if (state.isString() && owner != null && work.governed != null) {
      nonce = gateway.requestStates().nonceOf(state.stringValue());
      trip = gateway.redeemRoundTrip(state.stringValue(), binding(owner, work.governed), why);
    } else {
      why.append("requestState must be the string this gateway sent in an input_required result; nothing was"
          + " forwarded");
    }
    // A trip was redeemed only under a state that names its nonce.
    String slot = trip == null || nonce == null ? null : trip.attach(session, work, nonce);
    if (trip == null || slot == null) {
      throw new RefusedException(Refusal.of(Outcome.DENIED, List.of(StatelessMeta.RULE),
          why.length() > 0 ? why.toString() : "the call this requestState continues is continued by another request"));
    }
    if (!slot.isEmpty()) {
      gateway.releaseInFlight(slot);
    }
    work.roundTrip = trip;
    Upstream.Outgoing call = Objects.requireNonNull(trip.outgoing(), "a parked call was sent");
    work.sending(trip.upstream);
    if (!work.forwarded(trip.upstream, call.id())) {
      trip.upstream.cancel(call.id(), "cancelled by the client");
    }
    JsonNode clientToken = params.path("_meta").path("progressToken");
    boolean routed = trip.progressToken != null && JsonRpc.validToken(clientToken);
    if (routed) {
      progress.put(trip.progressToken, new ProgressRoute(session, clientToken, trip.upstream, work));
    }
    JsonNode responses = params.get("inputResponses");
    CompletableFuture<ObjectNode> answer;
    try {
      trip.answer(responses instanceof ObjectNode ? responses : NODES.objectNode());
      answer = awaitAsync(trip, work);
    } catch (RuntimeException | Error e) {
      if (routed) {
        progress.remove(trip.progressToken, new ProgressRoute(session, clientToken, trip.upstream, work));
      }
      throw e;
    }
    if (!routed) {
      return answer;
    }
    // Progress for the call reaches this attempt's client until its answer.
    ProgressRoute route = new ProgressRoute(session, clientToken, trip.upstream, work);
    String token = Objects.requireNonNull(trip.progressToken, "a routed call has its progress token");
    return answer.whenComplete((response, failure) -> progress.remove(token, route));
  }

  /** What binds a stateless client's answers to one call (see {@link ApprovalConfirmer#binding}). */
  private String binding(Principal principal, Request governed) {
    return ApprovalConfirmer.binding(RequestContext.of(principal, governed, gateway.clock().instant()),
        sentinel.revision());
  }

  /**
   * The params without what belongs to the client-to-gateway hop: the {@code _meta} keys
   * (protocol version, client capabilities and info, log level), since the backend's session with
   * the gateway has its own, and the answers to the gateway's questions ({@code inputResponses},
   * {@code requestState}), which no backend asked.
   */
  private static ObjectNode withoutHopMeta(ObjectNode params) {
    JsonNode meta = params.get("_meta");
    boolean any = params.has("inputResponses") || params.has("requestState");
    if (meta instanceof ObjectNode) {
      for (String key : StatelessMeta.HOP_KEYS) {
        any |= meta.has(key);
      }
    }
    if (!any) {
      return params;
    }
    ObjectNode copy = params.deepCopy();
    // The retry channel of multi round-trip requests answers the gateway's own questions.
    copy.remove("inputResponses");
    copy.remove("requestState");
    if (copy.get("_meta") instanceof ObjectNode) {
      ObjectNode copiedMeta = (ObjectNode) copy.get("_meta");
      StatelessMeta.HOP_KEYS.forEach(copiedMeta::remove);
      if (copiedMeta.isEmpty()) {
        copy.remove("_meta");
      }
    }
    return copy;
  }

  /** The call of a client's request: its caller is the session, for a confirmer to ask. */
  private Call call(ClientSession session, InFlight work, JsonRpcMessage request, Request governed) {
    work.governed = governed;
    return new Call(work.credentials, governed, session.id(), session.clientLabel(), request.idText(),
        session.ownerId(), List.of(), work.principal, traceParent(request),
        new SessionCaller(gateway, session, work, request.params()));
  }

  /**
   * The W3C trace context the client sent with the request: {@code params._meta.traceparent}, as
   * MCP clients propagate it (the HTTP gateway puts a {@code traceparent} header there when the
   * body has none); {@code null} when absent. {@link Call} ignores a malformed one.
   */
  static @Nullable String traceParent(JsonRpcMessage request) {
    JsonNode value = request.params().path("_meta").path("traceparent");
    return value.isString() ? value.stringValue() : null;
  }

  /**
   * Governs a request forwarded to one backend as it is, with no thread waiting for the backend:
   * decided on the calling thread, then answered, and recorded, on the thread that reads the
   * backend's answer ({@link #forwardAsync}).
   */
  private CompletionStage<@Nullable ObjectNode> relay(Call call, JsonRpcMessage request, ClientSession session,
      InFlight work, Backend backend, ObjectNode forwarded) {
    AtomicReference<ObjectNode> answer = new AtomicReference<>();
    return sentinel.<JsonNode>callAsync(call,
            ignored -> forwardAsync(session, work, backend, request.requiredMethod(), forwarded, null)
                .thenApply(response -> {
                  answer.set(response);
                  return response.path("result");
                }))
        .thenApply(result -> reply(result, request.requiredId(), answer.get(), "backend " + backend.name));
  }

  /** A response there is already. */
  private static CompletionStage<@Nullable ObjectNode> now(@Nullable ObjectNode response) {
    return CompletableFuture.completedFuture(response);
  }

  private @Nullable ObjectNode govern(ClientSession session, InFlight work, JsonRpcMessage request, Request governed,
      Forward forward) {
    return govern(call(session, work, request, governed), request, governed, forward);
  }

  private @Nullable ObjectNode govern(Call call, JsonRpcMessage request, Request governed, Forward forward) {
    AtomicReference<ObjectNode> answer = new AtomicReference<>();
    CallResult<JsonNode> result = sentinel.call(call,
        ignored -> {
          ObjectNode response = forward.run();
          answer.set(response);
          return response.path("result");
        });
    return reply(result, request.requiredId(), answer.get(),
        governed.backend() == null ? "the backend" : "backend " + governed.backend());
  }

  /**
   * The response to send for a governed exchange: the peer's answer under the requester's id
   * (top-level fields kept), the peer's error unchanged, a refusal, a failure, or {@code null}
   * for a cancelled request (which gets no response). {@code answer} is the peer's response
   * (set when the call was allowed); {@code peer} names the peer in a timeout's message ({@code
   * null} where the call cannot time out: a refusal).
   */
  static @Nullable ObjectNode reply(CallResult<?> result, JsonNode id, @Nullable ObjectNode answer,
      @Nullable String peer) {
    Outcome outcome = result.outcome();
    if (outcome == Outcome.ALLOWED) {
      ObjectNode copy = NODES.objectNode();
      copy.setAll(Objects.requireNonNull(answer, "an allowed call's invoker returned the answer"));
      copy.set("id", id);
      return copy;
    }
    if (outcome.refusal()) {
      Refusal refusal = Objects.requireNonNull(result.refusal(), "a refused outcome carries its refusal");
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
        if (failure instanceof Backend.Busy) {
          ObjectNode data = NODES.objectNode().put("outcome", Outcome.LIMITED.name());
          data.putArray("rules").add("max_connections");
          data.put("retryAfterMs", 1000);
          return JsonRpc.error(id, ErrorCode.forRefusal(Outcome.LIMITED).code(),
              Objects.requireNonNull(failure.getMessage(), "a Busy is made with its message"), data);
        }
        if (failure instanceof Backend.Starting) {
          ObjectNode data = NODES.objectNode().put("retryAfterMs", Backend.Starting.RETRY_AFTER_MS);
          return JsonRpc.error(id, ErrorCode.BACKEND_STARTING.code(), ((BackendFailure) failure).clientMessage(), data);
        }
        if (failure instanceof BackendFailure) {
          return JsonRpc.error(id, ErrorCode.INTERNAL_ERROR, ((BackendFailure) failure).clientMessage());
        }
        log.warn("a forwarded request failed", failure);
        return JsonRpc.error(id, ErrorCode.INTERNAL_ERROR, "internal error");
    }
  }

  // ---- notifications and bookkeeping ------------------------------------------------------

  /**
   * A progress notification from a backend connection: back to the client under its own token,
   * only if that token's request went out on this very connection.
   */
  void progress(Upstream upstream, JsonRpcMessage notification) {
    JsonNode token = notification.params().path("progressToken");
    ProgressRoute route = token.isString() ? progress.get(token.stringValue()) : null;
    if (route == null || route.upstream() != upstream) {
      return;
    }
    ObjectNode message = NODES.objectNode();
    message.setAll((ObjectNode) notification.raw());
    ObjectNode params = (ObjectNode) notification.params().deepCopy();
    params.set("progressToken", route.clientToken());
    message.set("params", params);
    route.session().send(message, route.work());
  }

  /**
   * A resource update from a backend connection: to the sessions that subscribed to the URI on
   * that backend, that the connection serves, and whose principal may still read it under the
   * policy in force now (a reload since the subscription may have taken the resource away).
   */
  void resourceUpdated(Upstream upstream, String uri, JsonNode message) {
    String key = subscriptionKey(upstream.backend, uri);
    Upstream.Owner owner = upstream.owner();
    for (ClientSession session : gateway.sessions()) {
      boolean stateless = !session.initialized() && session.stateless();
      if (!(session.initialized() || stateless) || !session.subscriptions().contains(key)) {
        continue;
      }
      boolean entitled = (owner != null ? McpGateway.belongsTo(session, owner) : !upstream.backend.isolated())
          && mayRead(session, upstream, uri);
      if (entitled && stateless) {
        session.notifyResourceUpdate(uri, message);
      } else if (entitled) {
        session.send(message);
      }
    }
  }

  /** Whether the session's principal may read the resource under the policy in force now. */
  private boolean mayRead(ClientSession session, Upstream upstream, String uri) {
    return session.owner() != null
        && sentinel.visible(session.owner(),
            new Request(Request.RESOURCES_READ, upstream.backend.name, uri, NO_ARGUMENTS));
  }

  /**
   * A connection came up again after a restart: its new server knows none of the resources the
   * connection's clients had subscribed to through it, so each is subscribed again and their
   * updates keep coming: each resource that at least one of its subscribers may still read under
   * the policy in force now (one a reload took away is not asked for again; its updates would
   * reach no one). A subscription the server now refuses is logged; its subscribers get no more
   * updates.
   */
  void resubscribe(Upstream upstream) {
    Upstream.Owner owner = upstream.owner();
    String prefix = upstream.backend.name + '\u0000';
    java.util.Set<String> uris = new java.util.LinkedHashSet<>();
    for (ClientSession session : gateway.sessions()) {
      if (owner != null && !McpGateway.belongsTo(session, owner)) {
        continue;
      }
      for (String key : session.subscriptions()) {
        if (key.startsWith(prefix)) {
          String uri = key.substring(prefix.length());
          if (!uris.contains(uri) && mayRead(session, upstream, uri)) {
            uris.add(uri);
          }
        }
      }
    }
    for (String uri : uris) {
      try {
        upstream.request("resources/subscribe", NODES.objectNode().put("uri", uri), gateway.requestTimeout())
            .response().whenComplete((answer, failure) -> {
              if (failure != null || answer.kind() != JsonRpcMessage.Kind.RESULT) {
                log.warn("backend {} did not take the subscription to {} again after its restart: {}",
                    upstream.backend.name, uri, failure != null ? failure.toString() : answer.error());
              }
            });
      } catch (BackendFailure e) {
        log.warn("cannot subscribe to {} again at backend {}: {}", uri, upstream.backend.name, e.getMessage());
      }
    }
  }

  /** A session ended: its progress routes go, and the shared connections hear its last unsubscribes. */
  void forget(ClientSession session) {
    progress.values().removeIf(route -> route.session() == session);
    for (String key : session.subscriptions()) {
      int split = key.indexOf('\u0000');
      String backendName = key.substring(0, split);
      for (Backend backend : backends) {
        if (backend.name.equals(backendName) && !backend.isolated()) {
          Integer left = sharedSubscribers.compute(key, (k, count) -> count == null || count <= 1 ? null : count - 1);
          Upstream upstream = backend.existingFor(session);
          // A 2026-07-28 connection forgets the resource even while down: its next stream, when it
          // is back, must not listen for a session that has ended.
          if (left == null && upstream != null && (upstream.modern() || upstream.isUp())) {
            try {
              if (upstream.modern()) {
                upstream.subscription(key.substring(split + 1), false);
              } else {
                upstream.request("resources/unsubscribe", NODES.objectNode().put("uri", key.substring(split + 1)),
                    gateway.requestTimeout());
              }
            } catch (BackendFailure e) {
              log.debug("unsubscribe at {} failed: {}", backend.name, e.getMessage());
            }
          }
        }
      }
    }
    session.subscriptions().clear();
  }
}
