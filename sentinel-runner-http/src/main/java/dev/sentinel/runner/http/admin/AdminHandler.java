package dev.sentinel.runner.http.admin;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Clock;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.StoredKey;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.AuditEventJson;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.mcp.engine.BackendStatus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Serves {@code /admin}: the operator page ({@code /admin/}, static files from the class path)
 * and the admin API ({@code /admin/api/...}, JSON). Every request passes the Host check and, when
 * it has one, the Origin check (403), as MCP requests do; API requests must carry the operators'
 * token ({@code Authorization: Bearer}; 401 with a generic body otherwise). No CORS headers are
 * ever sent. docs/http.md, "Admin API", lists the endpoints.
 *
 * <p>Bad input gets a JSON {@code {"error": "..."}} answer: 400 for malformed JSON, unknown
 * fields or invalid values, 404 for unknown paths, 405 (with {@code Allow}) for a wrong method,
 * 413 for a body over {@value #MAX_BODY_BYTES} bytes, 415 for a body that is not JSON.
 *
 * <p>Thread-safe: Jetty calls it concurrently. Kill-switch changes are serialized.
 */
public final class AdminHandler extends Handler.Abstract {
  private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** The largest admin request body accepted. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  /** The most of a refused body that is read and dropped so that its 413 reaches the client. */
  private static final int DRAIN_BYTES = 4 * MAX_BODY_BYTES;
  /** The default number of audit events a query answers. */
  public static final int DEFAULT_AUDIT_LIMIT = 50;
  private static final String PREFIX = "/admin";
  private static final String API = "/admin/api/";
  private static final String CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none';"
      + " form-action 'none'";
  private static final Pattern RELATIVE = Pattern.compile("([0-9]{1,6})([smhd])");
  private static final Set<String> KEY_FIELDS = Set.of("principal", "roles", "name", "expires");
  private static final Set<String> ROTATE_FIELDS = Set.of("expires");
  private static final Set<String> CHANGE_FIELDS = Set.of("scope", "target", "reason");
  private static final Set<String> STATE_FIELDS = Set.of("all", "backends", "tools", "principals");
  private static final Set<String> AUDIT_PARAMS =
      Set.of("since", "until", "principal", "tool", "outcome", "rule", "limit");

  private final GatewayRuntime runtime;
  private final Predicate<String> hostAllowed;
  private final Predicate<String> originAllowed;
  private final Predicate<String> operator;
  private final IntSupplier sessions;
  private final KeyStore keys;
  private final AuditSearch audit;
  private final ConfigReloader reloader;
  private final Clock clock;
  private final Instant started;
  private final JsonMapper mapper;
  private final StaticFiles files = new StaticFiles();
  private final Object killSwitchLock = new Object();

  private AdminHandler(Builder builder) {
    this.runtime = builder.runtime;
    this.hostAllowed = builder.hostAllowed;
    this.originAllowed = builder.originAllowed;
    this.operator = builder.operator;
    this.sessions = builder.sessions;
    this.keys = builder.keys;
    this.audit = builder.audit;
    this.reloader = builder.reloader;
    this.clock = builder.clock;
    this.started = clock.instant();
    StreamReadConstraints constraints = StreamReadConstraints.builder()
        .maxNestingDepth(16).maxDocumentLength(MAX_BODY_BYTES).build();
    this.mapper = JsonMapper.builder(JsonFactory.builder().streamReadConstraints(constraints).build())
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .build();
  }

  /**
   * A builder; {@link Builder#runtime}, {@link Builder#guard} and {@link Builder#operator} are
   * required.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Whether a request path is this handler's: {@code /admin} and below. */
  public static boolean serves(String path) {
    return path.equals(PREFIX) || path.startsWith(PREFIX + "/");
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String path = Request.getPathInContext(request);
    if (!serves(path)) {
      return false;
    }
    try {
      String host = request.getHeaders().get(HttpHeader.HOST);
      if (host == null) {
        host = request.getHttpURI().getAuthority();
      }
      if (!hostAllowed.test(host)) {
        error(response, callback, 403, "forbidden: Host not allowed");
        return true;
      }
      String origin = request.getHeaders().get(HttpHeader.ORIGIN);
      if (origin != null && !originAllowed.test(origin)) {
        error(response, callback, 403, "forbidden: Origin not allowed");
        return true;
      }
      if (path.startsWith(API)) {
        api(request, response, callback, path.substring(API.length()));
      } else {
        page(request, response, callback, path);
      }
    } catch (BadRequest e) {
      if (e.allow != null) {
        response.getHeaders().put(HttpHeader.ALLOW, e.allow);
      }
      error(response, callback, e.status, e.getMessage());
    } catch (RuntimeException e) {
      log.warn("admin request {} {} failed", request.getMethod(), path, e);
      if (!response.isCommitted()) {
        error(response, callback, 500, "internal error; see the gateway's log");
      } else {
        callback.failed(e);
      }
    }
    return true;
  }

  // ---- the page ----------------------------------------------------------------------------

  private void page(Request request, Response response, Callback callback, String path) {
    if (path.equals(PREFIX)) {
      response.setStatus(308);
      response.getHeaders().put(HttpHeader.LOCATION, PREFIX + "/");
      response.write(true, null, callback);
      return;
    }
    String name = path.substring(PREFIX.length() + 1);
    Optional<StaticFiles.File> file = files.find(name.isEmpty() ? "index.html" : name);
    if (file.isEmpty()) {
      throw new BadRequest(404, "not found");
    }
    requireMethod(request, "GET", "HEAD");
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, file.get().contentType());
    securityHeaders(response);
    boolean head = "HEAD".equals(request.getMethod());
    response.write(true, head ? null : ByteBuffer.wrap(file.get().bytes()), callback);
  }

  private static void securityHeaders(Response response) {
    response.getHeaders().put("Content-Security-Policy", CSP);
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    response.getHeaders().put("X-Frame-Options", "DENY");
    response.getHeaders().put("Referrer-Policy", "no-referrer");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
  }

  // ---- the API -----------------------------------------------------------------------------

  private void api(Request request, Response response, Callback callback, String route) {
    if (!operator.test(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
      log.info("refused an admin request from {}: missing or invalid admin token",
          Request.getRemoteAddr(request));
      response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"sentinel-admin\"");
      error(response, callback, 401, "unauthorized");
      return;
    }
    String[] parts = route.split("/", -1);
    JsonNode answer;
    int status = 200;
    switch (parts[0]) {
      case "status":
        exact(parts, 1);
        requireMethod(request, "GET", "HEAD");
        answer = status();
        break;
      case "killswitch":
        answer = killSwitch(request, parts);
        break;
      case "reload":
        exact(parts, 1);
        requireMethod(request, "POST");
        readObject(request, Set.of());
        ObjectNode reloaded = reload();
        status = reloaded.path("applied").asBoolean() ? 200 : 422;
        answer = reloaded;
        break;
      case "keys":
        if (parts.length == 1) {
          requireMethod(request, "GET", "HEAD", "POST");
          if ("POST".equals(request.getMethod())) {
            answer = createKey(readObject(request, KEY_FIELDS));
            status = 201;
          } else {
            answer = listKeys();
          }
        } else if (parts.length == 2 && !parts[1].isEmpty()) {
          requireMethod(request, "DELETE");
          answer = revokeKey(parts[1]);
        } else if (parts.length == 3 && !parts[1].isEmpty() && parts[2].equals("rotate")) {
          requireMethod(request, "POST");
          answer = rotateKey(parts[1], readObject(request, ROTATE_FIELDS));
          status = 201;
        } else {
          throw new BadRequest(404, "not found");
        }
        break;
      case "audit":
        exact(parts, 1);
        requireMethod(request, "GET", "HEAD");
        answer = audit(request);
        break;
      default:
        throw new BadRequest(404, "not found");
    }
    json(response, callback, status, answer);
  }

  private ObjectNode status() {
    ObjectNode body = NODES.objectNode();
    body.put("revision", runtime.sentinel().revision());
    Instant now = clock.instant();
    body.put("started", started.toString());
    body.put("uptime_seconds", Math.max(0, Duration.between(started, now).toSeconds()));
    body.put("sessions", sessions.getAsInt());
    ArrayNode backends = body.putArray("backends");
    for (Map.Entry<String, BackendStatus> entry : new TreeMap<>(runtime.backends()).entrySet()) {
      BackendStatus backend = entry.getValue();
      backends.addObject()
          .put("name", backend.name())
          .put("state", backend.state().name())
          .put("protocol_version", backend.protocolVersion())
          .put("restarts", backend.restarts())
          .put("last_error", backend.lastError())
          .put("isolation", backend.isolation().name().toLowerCase(java.util.Locale.ROOT))
          .put("connections", backend.connections());
    }
    AuditDispatcher.Stats stats = runtime.sentinel().audit().stats();
    body.putObject("audit")
        .put("recorded", stats.recorded())
        .put("written", stats.written())
        .put("failed_writes", stats.failedWrites())
        .put("dropped", stats.dropped())
        .put("queue_depth", stats.queueDepth())
        .put("healthy", stats.healthy());
    body.set("kill_switch", state(runtime.sentinel().killSwitch().state()));
    body.put("reload", reloader != null);
    body.put("keys", keys != null);
    body.put("audit_query", audit != null);
    return body;
  }

  // ---- kill switch -------------------------------------------------------------------------

  private JsonNode killSwitch(Request request, String[] parts) {
    if (parts.length == 1) {
      requireMethod(request, "GET", "HEAD", "PUT");
      if ("PUT".equals(request.getMethod())) {
        KillSwitch.State next = parseState(readObject(request, STATE_FIELDS));
        synchronized (killSwitchLock) {
          apply(next);
        }
        log.info("operator replaced the kill switch: {}", next);
      }
      return state(runtime.sentinel().killSwitch().state());
    }
    if (parts.length == 2 && (parts[1].equals("disable") || parts[1].equals("enable"))) {
      requireMethod(request, "POST");
      boolean disable = parts[1].equals("disable");
      ObjectNode body = readObject(request, CHANGE_FIELDS);
      String scope = requiredText(body, "scope").toLowerCase(Locale.ROOT);
      String target = optionalText(body, "target");
      String reason = optionalText(body, "reason");
      if (disable && (reason == null || reason.isBlank())) {
        throw new BadRequest(400, "'reason' is required to disable: say why, for the audit trail"
            + " and the refused callers");
      }
      if (!scope.equals("all") && (target == null || target.isBlank())) {
        throw new BadRequest(400, "'target' is required for scope '" + scope + "'");
      }
      if (scope.equals("backend") && disable && !runtime.backends().containsKey(target)) {
        throw new BadRequest(400, "unknown backend '" + target + "'; backends: "
            + String.join(", ", new TreeSet<>(runtime.backends().keySet())));
      }
      synchronized (killSwitchLock) {
        KillSwitch.State s = runtime.operatorKillSwitch();
        KillSwitch.State next;
        switch (scope) {
          case "all":
            next = new KillSwitch.State(disable ? reason : null, s.backends(), s.tools(), s.principals());
            break;
          case "backend":
            next = new KillSwitch.State(s.all(), change(s.backends(), target, disable ? reason : null),
                s.tools(), s.principals());
            break;
          case "tool":
            next = new KillSwitch.State(s.all(), s.backends(),
                change(s.tools(), target, disable ? reason : null), s.principals());
            break;
          case "principal":
            next = new KillSwitch.State(s.all(), s.backends(), s.tools(),
                change(s.principals(), target, disable ? reason : null));
            break;
          default:
            throw new BadRequest(400, "unknown scope '" + scope
                + "'; expected all, backend, tool or principal");
        }
        apply(next);
      }
      log.info("operator {}d the kill switch for {}{}", parts[1], scope,
          target == null ? "" : " '" + target + "'");
      return state(runtime.sentinel().killSwitch().state());
    }
    throw new BadRequest(404, "not found");
  }

  private void apply(KillSwitch.State next) {
    try {
      // Applied here at once, and stored for every gateway on the database.
      runtime.updateKillSwitch(next);
    } catch (IllegalArgumentException e) {
      throw new BadRequest(400, "invalid kill switch: " + e.getMessage());
    } catch (RuntimeException e) {
      log.warn("the kill switch could not be stored; it is in effect on this gateway only", e);
      throw new BadRequest(503, "the kill switch is in effect on this gateway, but could not be"
          + " stored for the others; try again");
    }
  }

  private static Map<String, String> change(Map<String, String> map, String key, String reason) {
    Map<String, String> copy = new TreeMap<>(map);
    if (reason == null) {
      copy.remove(key);
    } else {
      copy.put(key, reason);
    }
    return copy;
  }

  private KillSwitch.State parseState(ObjectNode body) {
    JsonNode all = body.path("all");
    if (!all.isMissingNode() && !all.isNull() && !all.isString()) {
      throw new BadRequest(400, "'all' must be a reason (a string) or null");
    }
    return new KillSwitch.State(all.isString() ? all.stringValue() : null,
        reasons(body, "backends"), reasons(body, "tools"), reasons(body, "principals"));
  }

  private static Map<String, String> reasons(ObjectNode body, String field) {
    JsonNode node = body.path(field);
    if (node.isMissingNode() || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw new BadRequest(400, "'" + field + "' must be an object of names to reasons");
    }
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      if (!entry.getValue().isString() || entry.getKey().isBlank()) {
        throw new BadRequest(400, "'" + field + "' must map non-blank names to reasons (strings)");
      }
      out.put(entry.getKey(), entry.getValue().stringValue());
    }
    return out;
  }

  private static ObjectNode state(KillSwitch.State state) {
    ObjectNode body = NODES.objectNode();
    body.put("all", state.all());
    ObjectNode backends = body.putObject("backends");
    state.backends().forEach(backends::put);
    ObjectNode tools = body.putObject("tools");
    state.tools().forEach(tools::put);
    ObjectNode principals = body.putObject("principals");
    state.principals().forEach(principals::put);
    return body;
  }

  // ---- reload ------------------------------------------------------------------------------

  private ObjectNode reload() {
    if (reloader == null) {
      throw new BadRequest(409, "reload needs the config file: this gateway was not started"
          + " from one");
    }
    ConfigReloader.Result result = reloader.reload();
    ObjectNode body = NODES.objectNode();
    body.put("applied", result.applied());
    body.put("revision", result.revision());
    body.put("previous", result.previous());
    if (!result.applied()) {
      body.put("error", "the config was refused; revision " + result.revision()
          + " keeps serving");
      ArrayNode problems = body.putArray("problems");
      for (ConfigException.Problem problem : result.problems()) {
        problems.addObject()
            .put("source", problem.source())
            .put("line", problem.line())
            .put("column", problem.column())
            .put("path", problem.path())
            .put("message", problem.message())
            .put("text", problem.toString());
      }
    }
    return body;
  }

  // ---- keys --------------------------------------------------------------------------------

  private ApiKeys apiKeys() {
    if (keys == null) {
      throw new BadRequest(404, "API keys need the gateway's database, which this gateway"
          + " was started without");
    }
    return ApiKeys.create(keys, clock);
  }

  private ObjectNode listKeys() {
    Instant now = clock.instant();
    ObjectNode body = NODES.objectNode();
    ArrayNode list = body.putArray("keys");
    for (StoredKey key : apiKeys().list()) {
      list.add(key(key, now));
    }
    return body;
  }

  private ObjectNode createKey(ObjectNode body) {
    ApiKeys api = apiKeys();
    String principal = requiredText(body, "principal").strip();
    if (principal.isEmpty()) {
      throw new BadRequest(400, "'principal' must not be blank");
    }
    Set<String> roles = new LinkedHashSet<>();
    JsonNode given = body.path("roles");
    if (!given.isMissingNode() && !given.isNull()) {
      if (!given.isArray()) {
        throw new BadRequest(400, "'roles' must be an array of role names");
      }
      for (JsonNode role : given) {
        if (!role.isString() || role.stringValue().isBlank()) {
          throw new BadRequest(400, "'roles' must be an array of non-blank role names");
        }
        roles.add(role.stringValue().strip());
      }
    }
    String name = optionalText(body, "name");
    Instant expires = expiry(optionalText(body, "expires"));
    IssuedKey issued;
    try {
      issued = api.issue(principal, roles, name, expires);
    } catch (IllegalArgumentException e) {
      throw new BadRequest(400, e.getMessage());
    }
    log.info("operator created API key {} for principal {}", issued.id(), principal);
    return issued(issued);
  }

  private ObjectNode revokeKey(String id) {
    ApiKeys api = apiKeys();
    StoredKey key = keys.find(id).orElseThrow(() -> new BadRequest(404, "no API key with id '" + id + "'"));
    if (key.revoked() != null) {
      throw new BadRequest(409, "API key " + id + " was already revoked at " + key.revoked());
    }
    if (!api.revoke(id)) {
      throw new BadRequest(409, "API key " + id + " expired at " + key.expires()
          + "; it no longer works, nothing to revoke");
    }
    log.info("operator revoked API key {}", id);
    return key(keys.find(id).orElse(key), clock.instant());
  }

  private ObjectNode rotateKey(String id, ObjectNode body) {
    ApiKeys api = apiKeys();
    StoredKey old = keys.find(id).orElseThrow(() -> new BadRequest(404, "no API key with id '" + id + "'"));
    if (old.revoked() != null) {
      throw new BadRequest(409, "API key " + id + " was revoked at " + old.revoked()
          + "; rotation must not revive it: create a new key");
    }
    Instant expires = expiry(optionalText(body, "expires"));
    if (expires == null && old.expires() != null) {
      if (!old.expires().isAfter(clock.instant())) {
        throw new BadRequest(409, "API key " + id + " expired at " + old.expires()
            + "; give 'expires' for its replacement");
      }
      expires = old.expires();
    }
    IssuedKey fresh;
    try {
      fresh = api.rotate(id, expires);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new BadRequest(409, e.getMessage());
    }
    log.info("operator rotated API key {} into {}", id, fresh.id());
    ObjectNode answer = issued(fresh);
    answer.put("replaces", id);
    return answer;
  }

  private ObjectNode issued(IssuedKey issued) {
    ObjectNode body = key(issued.key(), clock.instant());
    body.put("secret", issued.secret());
    body.put("note", "this is the only time the key is shown: Sentinel stores only its hash");
    return body;
  }

  private static ObjectNode key(StoredKey key, Instant now) {
    ObjectNode node = NODES.objectNode();
    node.put("id", key.id());
    node.put("principal", key.principal());
    ArrayNode roles = node.putArray("roles");
    new TreeSet<>(key.roles()).forEach(roles::add);
    node.put("name", key.name());
    node.put("created", text(key.created()));
    node.put("expires", text(key.expires()));
    node.put("revoked", text(key.revoked()));
    node.put("last_used", text(key.lastUsed()));
    node.put("status", key.revoked() != null ? "revoked" : key.activeAt(now) ? "active" : "expired");
    return node;
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }

  /** An absolute time (ISO-8601 instant or date) or one from now ({@code 30d}, {@code 12h}). */
  private Instant expiry(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    Instant now = clock.instant();
    Instant when = instant("expires", text, now, 1);
    if (!when.isAfter(now)) {
      throw new BadRequest(400, "'expires' (" + when + ") must be in the future");
    }
    return when;
  }

  /**
   * Parses a time: an ISO-8601 instant, a date (midnight UTC), or a duration such as {@code 15m}
   * added to now ({@code sign} 1) or subtracted from it ({@code sign} -1).
   */
  private static Instant instant(String field, String text, Instant now, int sign) {
    String value = text.strip();
    Matcher relative = RELATIVE.matcher(value);
    if (relative.matches()) {
      long amount = Long.parseLong(relative.group(1));
      Duration unit;
      switch (relative.group(2)) {
        case "s":
          unit = Duration.ofSeconds(1);
          break;
        case "m":
          unit = Duration.ofMinutes(1);
          break;
        case "h":
          unit = Duration.ofHours(1);
          break;
        default:
          unit = Duration.ofDays(1);
          break;
      }
      Duration delta = unit.multipliedBy(amount);
      return sign > 0 ? now.plus(delta) : now.minus(delta);
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException notAnInstant) {
      try {
        return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
      } catch (DateTimeParseException notADate) {
        throw new BadRequest(400, "'" + field + "' must be an ISO-8601 time"
            + " (2026-12-31T18:00:00Z), a date (2026-12-31) or a duration (30s, 15m, 12h, 30d)");
      }
    }
  }

  // ---- audit -------------------------------------------------------------------------------

  private ObjectNode audit(Request request) {
    if (audit == null) {
      throw new BadRequest(404, "the audit query reads the gateway's database, which this"
          + " gateway was started without");
    }
    Fields params = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
    for (Fields.Field field : params) {
      if (!AUDIT_PARAMS.contains(field.getName())) {
        throw new BadRequest(400, "unknown parameter '" + field.getName() + "'; expected "
            + String.join(", ", new TreeSet<>(AUDIT_PARAMS)));
      }
      if (field.getValues().size() > 1) {
        throw new BadRequest(400, "parameter '" + field.getName() + "' is given more than once");
      }
    }
    Instant now = clock.instant();
    Instant since = param(params, "since") == null ? null : instant("since", param(params, "since"), now, -1);
    Instant until = param(params, "until") == null ? null : instant("until", param(params, "until"), now, -1);
    Outcome outcome = null;
    String outcomeText = param(params, "outcome");
    if (outcomeText != null) {
      try {
        outcome = Outcome.valueOf(outcomeText.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        List<String> names = new ArrayList<>();
        for (Outcome o : Outcome.values()) {
          names.add(o.name().toLowerCase(Locale.ROOT));
        }
        throw new BadRequest(400, "unknown outcome '" + outcomeText + "'; expected one of "
            + String.join(", ", names));
      }
    }
    int limit = DEFAULT_AUDIT_LIMIT;
    String limitText = param(params, "limit");
    if (limitText != null) {
      try {
        limit = Integer.parseInt(limitText.strip());
      } catch (NumberFormatException e) {
        throw new BadRequest(400, "'limit' must be a whole number");
      }
      if (limit < 1) {
        throw new BadRequest(400, "'limit' must be at least 1");
      }
      limit = Math.min(limit, AuditFilter.MAX_LIMIT);
    }
    AuditFilter filter;
    try {
      filter = new AuditFilter(since, until, param(params, "principal"), param(params, "tool"),
          outcome, param(params, "rule"), limit);
    } catch (IllegalArgumentException e) {
      throw new BadRequest(400, e.getMessage());
    }
    ObjectNode body = NODES.objectNode();
    body.put("limit", limit);
    ArrayNode events = body.putArray("events");
    for (AuditEvent event : audit.search(filter)) {
      events.add(AuditEventJson.toJson(event));
    }
    return body;
  }

  private static String param(Fields params, String name) {
    String value = params.getValue(name);
    return value == null || value.isBlank() ? null : value;
  }

  // ---- request and response plumbing --------------------------------------------------------

  private static void exact(String[] parts, int length) {
    if (parts.length != length) {
      throw new BadRequest(404, "not found");
    }
  }

  private static void requireMethod(Request request, String... allowed) {
    for (String method : allowed) {
      if (method.equals(request.getMethod())) {
        return;
      }
    }
    throw new BadRequest(405, "method " + request.getMethod() + " not allowed here; use "
        + String.join(" or ", allowed), String.join(", ", allowed));
  }

  /**
   * Reads and drops what is left of a refused body, up to {@value #DRAIN_BYTES} bytes in all:
   * a client still sending a body a little over the limit then reads the 413, where closing at
   * once with its bytes unread resets the connection and loses the answer. A larger body is not
   * read; its connection is closed.
   */
  private static void drain(Request request) {
    byte[] buffer = new byte[8192];
    long left = DRAIN_BYTES;
    try (InputStream in = Content.Source.asInputStream(request)) {
      int n;
      while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
        left -= n;
      }
    } catch (IOException e) {
      log.debug("draining a refused admin request body failed", e);
    }
  }

  /**
   * Reads a JSON object body of at most {@value #MAX_BODY_BYTES} bytes whose fields are all
   * known; an empty body reads as {@code {}}.
   */
  private ObjectNode readObject(Request request, Set<String> fields) {
    long declared = request.getLength();
    if (declared > MAX_BODY_BYTES) {
      if (declared <= DRAIN_BYTES) {
        drain(request);
      }
      throw new BadRequest(413, "the body is larger than " + MAX_BODY_BYTES + " bytes");
    }
    byte[] bytes;
    try (InputStream in = Content.Source.asInputStream(request)) {
      bytes = in.readNBytes(MAX_BODY_BYTES + 1);
    } catch (IOException e) {
      // The I/O exception's text (Jetty's, a timeout's) is for the log, not the client.
      log.debug("reading an admin request body failed", e);
      throw new BadRequest(400, "cannot read the body: it stopped arriving or was malformed");
    }
    if (bytes.length > MAX_BODY_BYTES) {
      drain(request);
      throw new BadRequest(413, "the body is larger than " + MAX_BODY_BYTES + " bytes");
    }
    if (bytes.length == 0) {
      return NODES.objectNode();
    }
    String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    if (type == null || !type.toLowerCase(Locale.ROOT).strip().startsWith("application/json")) {
      throw new BadRequest(415, "the body must be JSON, sent as Content-Type: application/json");
    }
    JsonNode node;
    try {
      node = mapper.readTree(bytes);
    } catch (JacksonException e) {
      String where = e.getLocation() == null || e.getLocation().getLineNr() < 1 ? ""
          : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
      throw new BadRequest(400, "the body is not valid JSON" + where);
    }
    if (node == null || !node.isObject()) {
      throw new BadRequest(400, "the body must be a JSON object");
    }
    ObjectNode object = (ObjectNode) node;
    for (String name : object.propertyNames()) {
      if (!fields.contains(name)) {
        throw new BadRequest(400, "unknown field '" + name + "'"
            + (fields.isEmpty() ? "; this request takes no fields"
                : "; expected " + String.join(", ", new TreeSet<>(fields))));
      }
    }
    return object;
  }

  private static String requiredText(ObjectNode body, String field) {
    String value = optionalText(body, field);
    if (value == null) {
      throw new BadRequest(400, "'" + field + "' is required");
    }
    return value;
  }

  private static String optionalText(ObjectNode body, String field) {
    JsonNode node = body.path(field);
    if (node.isMissingNode() || node.isNull()) {
      return null;
    }
    if (!node.isString()) {
      throw new BadRequest(400, "'" + field + "' must be a string");
    }
    return node.stringValue();
  }

  private void json(Response response, Callback callback, int status, JsonNode body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    securityHeaders(response);
    response.write(true, ByteBuffer.wrap(mapper.writeValueAsBytes(body)), callback);
  }

  private void error(Response response, Callback callback, int status, String message) {
    json(response, callback, status, NODES.objectNode().put("error", message));
  }

  /** A request refused with a status and a message for the operator. */
  private static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final String allow;

    BadRequest(int status, String message) {
      this(status, message, null);
    }

    BadRequest(int status, String message, String allow) {
      super(message, null, false, false);
      this.status = status;
      this.allow = allow;
    }
  }

  /** Assembles an {@link AdminHandler}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private GatewayRuntime runtime;
    private Predicate<String> hostAllowed;
    private Predicate<String> originAllowed;
    private Predicate<String> operator;
    private IntSupplier sessions = () -> 0;
    private KeyStore keys;
    private AuditSearch audit;
    private ConfigReloader reloader;
    private Clock clock = Clock.system();

    private Builder() {}

    /** The gateway operated on; required. */
    public Builder runtime(GatewayRuntime runtime) {
      this.runtime = Objects.requireNonNull(runtime, "runtime");
      return this;
    }

    /**
     * The DNS-rebinding checks the MCP endpoint applies: whether a {@code Host} value (or
     * {@code null}) and an {@code Origin} value are allowed; required.
     */
    public Builder guard(Predicate<String> hostAllowed, Predicate<String> originAllowed) {
      this.hostAllowed = Objects.requireNonNull(hostAllowed, "hostAllowed");
      this.originAllowed = Objects.requireNonNull(originAllowed, "originAllowed");
      return this;
    }

    /**
     * Whether an {@code Authorization} header value (or {@code null}) carries the operators'
     * token; required.
     */
    public Builder operator(Predicate<String> operator) {
      this.operator = Objects.requireNonNull(operator, "operator");
      return this;
    }

    /** How many client sessions are open, for the status. */
    public Builder sessions(IntSupplier sessions) {
      this.sessions = Objects.requireNonNull(sessions, "sessions");
      return this;
    }

    /** The key store the keys endpoints manage; without one they answer 404. */
    public Builder keys(KeyStore keys) {
      this.keys = Objects.requireNonNull(keys, "keys");
      return this;
    }

    /** The audit query; without one the audit endpoint answers 404. */
    public Builder audit(AuditSearch audit) {
      this.audit = Objects.requireNonNull(audit, "audit");
      return this;
    }

    /** Reloads the config file; without one the reload endpoint answers 409. */
    public Builder reloader(ConfigReloader reloader) {
      this.reloader = Objects.requireNonNull(reloader, "reloader");
      return this;
    }

    /** The clock for uptime, key times and relative audit times; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the handler.
     *
     * @throws IllegalStateException if the runtime, the guard or the operator check is missing
     */
    public AdminHandler build() {
      if (runtime == null || hostAllowed == null || operator == null) {
        throw new IllegalStateException("an admin handler needs a runtime, a guard and an operator check");
      }
      return new AdminHandler(this);
    }
  }
}
