package dev.sentinel.runner.http.admin;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Principal;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import dev.sentinel.runner.http.admin.AdminExchange.BadRequest;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
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

/**
 * Serves {@code /admin}: the operator page ({@code /admin/}, static files from the class path)
 * and the admin API ({@code /admin/api/...}, JSON). Every request passes the Host check and, when
 * it has one, the Origin check (403), as MCP requests do; API requests must carry the operators'
 * token ({@code Authorization: Bearer}; 401 with a generic body otherwise). No CORS headers are
 * ever sent. docs/http.md, "Admin API", lists the endpoints.
 *
 * <p>The API is one small route per resource ({@link StatusRoute}, {@link KillSwitchRoute},
 * {@link ReloadRoute}, {@link KeysRoute}, {@link AuditRoute}, {@link ApprovalsRoute}, {@link
 * ToolsRoute}, {@link BreakGlassRoute}), each an adapter over sentinel-core's
 * operator service ({@link Operations}), which the CLI adapts too. An {@link OperatorException}
 * becomes a status by its kind: 400 invalid, 404 not found or not available on this gateway, 409
 * conflict, 503 store unavailable. Bad input gets a JSON {@code {"error": "..."}} answer: 400 for
 * malformed JSON, unknown fields or invalid values, 404 for unknown paths, 405 (with {@code Allow})
 * for a wrong method, 413 for a body over {@value #MAX_BODY_BYTES} bytes, 415 for a body that is
 * not JSON.
 *
 * <p>Thread-safe: Jetty calls it concurrently; the operator service serializes changes.
 */
public final class AdminHandler extends Handler.Abstract {
  private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
  /** The largest admin request body accepted. */
  public static final int MAX_BODY_BYTES = AdminExchange.MAX_BODY_BYTES;
  /** The default number of audit events a query answers. */
  public static final int DEFAULT_AUDIT_LIMIT = AuditRoute.DEFAULT_LIMIT;
  /** The most audit events one query answers. */
  public static final int MAX_AUDIT_LIMIT = AuditRoute.MAX_LIMIT;
  private static final String PREFIX = "/admin";
  private static final String API = "/admin/api/";
  /** The route where a principal opens its own break-glass window, with its own credentials. */
  private static final String SELF = "breakglass/self";
  private static final String CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none';"
      + " form-action 'none'";

  private final Predicate<String> hostAllowed;
  private final Predicate<String> originAllowed;
  private final Predicate<String> operator;
  private final Set<String> operatorRoles;
  private final Map<String, AdminExchange.Route> routes;
  private final BreakGlassRoute breakGlass;
  private final Function<HttpFields, @Nullable Principal> principals;
  private final GatewayRuntime runtime;
  private final StaticFiles files = new StaticFiles();

  private AdminHandler(Builder b) {
    if (b.runtime == null || b.operations == null || b.hostAllowed == null
        || b.originAllowed == null || b.operator == null) {
      throw new IllegalStateException("an admin handler needs a runtime, operations, a guard"
          + " and an operator check");
    }
    this.hostAllowed = b.hostAllowed;
    this.originAllowed = b.originAllowed;
    this.operator = b.operator;
    this.operatorRoles = b.operatorRoles;
    this.breakGlass = new BreakGlassRoute(b.operations, b.clock, b.runtime::sentinel);
    this.principals = b.principals;
    this.runtime = b.runtime;
    this.routes = Map.of(
        "status", new StatusRoute(b.runtime, b.operations, b.sessions, b.clock),
        "killswitch", new KillSwitchRoute(b.operations),
        "reload", new ReloadRoute(b.operations),
        "keys", new KeysRoute(b.operations, b.clock),
        "audit", new AuditRoute(b.operations),
        "approvals", new ApprovalsRoute(b.operations, b.clock),
        "tools", new ToolsRoute(b.operations),
        "fleet", new FleetRoute(b.operations),
        "rollouts", new RolloutsRoute(b.operations),
        "breakglass", breakGlass);
  }

  /**
   * A builder; {@link Builder#runtime}, {@link Builder#operations}, {@link Builder#guard} and
   * {@link Builder#operator} are required.
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
    } catch (OperatorException e) {
      error(response, callback, status(e.kind()), e.getMessage());
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

  /** The HTTP status of an operator service refusal. */
  static int status(OperatorException.Kind kind) {
    switch (kind) {
      case INVALID:
        return 400;
      case NOT_FOUND:
      case UNSUPPORTED:
        return 404;
      case CONFLICT:
        return 409;
      default:
        return 503;
    }
  }

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
      throw AdminExchange.notFound();
    }
    new AdminExchange(request, new String[0]).allow("GET", "HEAD");
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, file.get().contentType());
    securityHeaders(response);
    boolean head = "HEAD".equals(request.getMethod());
    response.write(true, head ? null : ByteBuffer.wrap(file.get().bytes()), callback);
  }

  private void api(Request request, Response response, Callback callback, String route) {
    if (route.equals(SELF)) {
      // A principal opens its own window: its own credentials, never the operators' token.
      Principal principal = principals.apply(request.getHeaders());
      if (principal == null) {
        log.info("refused a break-glass self request from {}: missing or invalid credentials",
            Request.getRemoteAddr(request));
        error(response, callback, 401, "unauthorized");
        return;
      }
      Answer answer = breakGlass.self(new AdminExchange(request, route.split("/", -1)),
          principal, runtime.sentinel());
      json(response, callback, answer.status(), answer.body());
      return;
    }
    String named = null;
    if (!operator.test(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
      // Not the shared token: an operator's own credentials, if operator roles are configured.
      Principal principal = operatorRoles.isEmpty() ? null : principals.apply(request.getHeaders());
      if (principal == null || Collections.disjoint(principal.roles(), operatorRoles)) {
        log.info("refused an admin request from {}: missing or invalid admin credentials",
            Request.getRemoteAddr(request));
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"sentinel-admin\"");
        error(response, callback, 401, "unauthorized");
        return;
      }
      named = principal.id();
    }
    String[] parts = route.split("/", -1);
    AdminExchange.Route handler = routes.get(parts[0]);
    if (handler == null) {
      throw AdminExchange.notFound();
    }
    Answer answer = handler.handle(new AdminExchange(request, parts, named));
    json(response, callback, answer.status(), answer.body());
  }

  private static void securityHeaders(Response response) {
    response.getHeaders().put("Content-Security-Policy", CSP);
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    response.getHeaders().put("X-Frame-Options", "DENY");
    response.getHeaders().put("Referrer-Policy", "no-referrer");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
  }

  private static void json(Response response, Callback callback, int status, JsonNode body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    securityHeaders(response);
    response.write(true, ByteBuffer.wrap(AdminExchange.MAPPER.writeValueAsBytes(body)), callback);
  }

  private static void error(
      Response response, Callback callback, int status, @Nullable String message) {
    json(response, callback, status, AdminExchange.NODES.objectNode().put("error", message));
  }

  /** Assembles an {@link AdminHandler}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable GatewayRuntime runtime;
    private @Nullable Operations operations;
    private @Nullable Predicate<String> hostAllowed;
    private @Nullable Predicate<String> originAllowed;
    private @Nullable Predicate<String> operator;
    private Set<String> operatorRoles = Set.of();
    private IntSupplier sessions = () -> 0;
    private Function<HttpFields, @Nullable Principal> principals = headers -> null;
    private Clock clock = Clock.system();

    private Builder() {}

    /** The gateway whose status is shown; required. */
    public Builder runtime(GatewayRuntime runtime) {
      this.runtime = Objects.requireNonNull(runtime, "runtime");
      return this;
    }

    /**
     * The operator service the API adapts: the gateway's kill switch and reload, the database's
     * keys and audit trail; required. What it lacks answers 404 saying what is needed.
     */
    public Builder operations(Operations operations) {
      this.operations = Objects.requireNonNull(operations, "operations");
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

    /**
     * The roles whose principals are operators under their own names: a request whose own
     * credentials ({@link #principals}) authenticate a principal with one of them may use the
     * API as that principal, and its decisions are recorded under that name (a {@code "by"}
     * naming anyone else is refused). None by default: only the token opens the API.
     */
    public Builder operatorRoles(Set<String> roles) {
      this.operatorRoles = Set.copyOf(Objects.requireNonNull(roles, "roles"));
      return this;
    }

    /**
     * Who a request's own credentials ({@code Authorization: Bearer} or {@code X-API-Key}, as
     * for MCP requests) authenticate, or {@code null}: for {@code POST
     * /admin/api/breakglass/self}, where a principal opens its own window with a TOTP code. By
     * default nobody (that endpoint answers 401).
     */
    public Builder principals(Function<HttpFields, @Nullable Principal> principals) {
      this.principals = Objects.requireNonNull(principals, "principals");
      return this;
    }

    /** How many client sessions are open, for the status. */
    public Builder sessions(IntSupplier sessions) {
      this.sessions = Objects.requireNonNull(sessions, "sessions");
      return this;
    }

    /** The clock for uptime and key times; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the handler.
     *
     * @throws IllegalStateException if the runtime, the operations, the guard or the operator
     *     check is missing
     */
    public AdminHandler build() {
      return new AdminHandler(this);
    }
  }
}
