package dev.sentinel.mcp.engine;

import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * What an MCP 2026-07-28 request carries in {@code params._meta} in place of {@code initialize}
 * (its protocol version, the client's capabilities and identity, the log level it wants), and
 * the checks every such request passes before anything is forwarded.
 *
 * <p>A request is stateless when its {@code _meta} names a protocol version ({@link #declared});
 * {@link #check} then refuses it, with the code the specification names, when a required field
 * is missing or malformed ({@code -32602}) or the version is not one Sentinel speaks
 * ({@code -32022}, listing the supported ones). {@link #refusal} answers the methods 2026-07-28
 * removed or Sentinel does not serve to stateless clients.
 *
 * <p>Immutable.
 */
public final class StatelessMeta {
  /** The {@code _meta} key of the request's protocol version (required). */
  public static final String PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
  /** The {@code _meta} key of the client's capabilities (required). */
  public static final String CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
  /** The {@code _meta} key of the client's name and version (optional). */
  public static final String CLIENT_INFO = "io.modelcontextprotocol/clientInfo";
  /** The {@code _meta} key of the lowest log level the client wants for this request (optional). */
  public static final String LOG_LEVEL = "io.modelcontextprotocol/logLevel";
  /** The {@code _meta} key of the server's name and version, on every result. */
  public static final String SERVER_INFO = "io.modelcontextprotocol/serverInfo";

  /** The rule id of the refusals of requests that break the protocol's rules, in the audit trail. */
  public static final String RULE = "protocol";

  /** The log levels, lowest first (RFC 5424 severities, as MCP names them). */
  static final List<String> LEVELS =
      List.of("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency");

  /** The keys that describe the client-to-gateway hop: never forwarded to a backend. */
  static final Set<String> HOP_KEYS = Set.of(PROTOCOL_VERSION, CLIENT_CAPABILITIES, CLIENT_INFO, LOG_LEVEL);

  /** What a stateless client may call through Sentinel. */
  static final Set<String> SERVED = Set.of("server/discover", "tools/list", "tools/call", "prompts/list",
      "prompts/get", "resources/list", "resources/templates/list", "resources/read", "completion/complete",
      "subscriptions/listen", "tasks/get", "tasks/update", "tasks/cancel");

  /** The {@code _meta} key that ties a notification to the {@code subscriptions/listen} request it answers. */
  public static final String SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";

  /** The results that carry caching hints ({@code ttlMs}, {@code cacheScope}). */
  static final Set<String> CACHEABLE = Set.of("server/discover", "tools/list", "prompts/list", "resources/list",
      "resources/templates/list", "resources/read");

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final McpRevision revision;
  private final JsonNode capabilities;
  private final @Nullable String clientInfo;
  private final @Nullable String logLevel;

  private StatelessMeta(McpRevision revision, JsonNode capabilities, @Nullable String clientInfo,
      @Nullable String logLevel) {
    this.revision = revision;
    this.capabilities = capabilities;
    this.clientInfo = clientInfo;
    this.logLevel = logLevel;
  }

  /**
   * Why a stateless request is refused before anything is forwarded.
   *
   * @param code the JSON-RPC error code
   * @param message what is wrong, naming the field and the rule
   * @param data the error's {@code data}, or {@code null}
   */
  public record Problem(ErrorCode code, String message, @Nullable JsonNode data) {
    /** Validates. */
    public Problem {
      Objects.requireNonNull(code, "code");
      Objects.requireNonNull(message, "message");
    }

    /** The HTTP status of this refusal: 404 for an unknown method, else 400, as the specification says. */
    public int httpStatus() {
      return code == ErrorCode.METHOD_NOT_FOUND ? 404 : 400;
    }
  }

  /** Whether a request's {@code params._meta} names a protocol version: a 2026-07-28 style request. */
  public static boolean declared(@Nullable JsonNode params) {
    JsonNode meta = params == null ? null : params.path("_meta");
    return meta != null && meta.isObject() && meta.has(PROTOCOL_VERSION);
  }

  /**
   * Checks a stateless request's {@code _meta}: {@code null} when it is well formed and names a
   * version Sentinel speaks statelessly, else why not.
   */
  public static @Nullable Problem check(JsonRpcMessage request) {
    JsonNode params = request.params();
    if (!params.isObject()) {
      return invalid("params must be an object carrying _meta");
    }
    JsonNode meta = params.path("_meta");
    if (!meta.isObject()) {
      return invalid("params._meta must be an object carrying " + PROTOCOL_VERSION + " and " + CLIENT_CAPABILITIES);
    }
    JsonNode version = meta.path(PROTOCOL_VERSION);
    if (!version.isString() || version.stringValue().isEmpty()) {
      return invalid("params._meta." + PROTOCOL_VERSION + " must be a non-empty string");
    }
    if (McpRevision.ofStateless(version.stringValue()).isEmpty()) {
      return unsupported(version.stringValue());
    }
    if (!meta.path(CLIENT_CAPABILITIES).isObject()) {
      return invalid("params._meta." + CLIENT_CAPABILITIES + " must be an object");
    }
    JsonNode info = meta.path(CLIENT_INFO);
    if (!info.isMissingNode() && !(info.isObject() && info.path("name").isString())) {
      return invalid("params._meta." + CLIENT_INFO + " must be an object with a string name");
    }
    JsonNode level = meta.path(LOG_LEVEL);
    if (!level.isMissingNode() && !(level.isString() && LEVELS.contains(level.stringValue()))) {
      return invalid("params._meta." + LOG_LEVEL + " must be one of " + String.join(", ", LEVELS));
    }
    return null;
  }

  /** The refusal of a version Sentinel does not speak statelessly: {@code -32022} with the supported versions. */
  public static Problem unsupported(String requested) {
    ObjectNode data = NODES.objectNode();
    ArrayNode supported = data.putArray("supported");
    McpRevision.supportedVersions().forEach(supported::add);
    data.put("requested", requested);
    return new Problem(ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version: " + requested
        + " (supported: " + String.join(", ", McpRevision.supportedVersions()) + ")", data);
  }

  /**
   * Why a stateless request for this method is refused, or {@code null} when Sentinel serves it:
   * the methods 2026-07-28 removed ({@code initialize}, {@code ping}, {@code logging/setLevel},
   * {@code resources/subscribe}, ...) and any other Sentinel does not serve statelessly are not
   * found ({@code -32601}, HTTP 404, as the specification says of every method a server does not
   * implement).
   */
  public static @Nullable Problem refusal(String method) {
    if (SERVED.contains(method)) {
      return null;
    }
    if ("initialize".equals(method)) {
      return new Problem(ErrorCode.METHOD_NOT_FOUND, "method not found: initialize is not part of MCP 2026-07-28:"
          + " a request that carries " + PROTOCOL_VERSION + " in _meta needs no session; to start a session,"
          + " send initialize without it", null);
    }
    return new Problem(ErrorCode.METHOD_NOT_FOUND, "method not found: " + method
        + " is not served to MCP 2026-07-28 clients", null);
  }

  /** The meta of a request {@link #check} accepted. */
  static StatelessMeta of(JsonRpcMessage request) {
    JsonNode meta = request.params().path("_meta");
    McpRevision revision = McpRevision.ofStateless(meta.path(PROTOCOL_VERSION).asString("")).orElseThrow();
    JsonNode info = meta.path(CLIENT_INFO);
    String client = null;
    if (info.isObject()) {
      String name = info.path("name").asString("");
      String version = info.path("version").asString("");
      client = version.isEmpty() ? name : name + "/" + version;
    }
    JsonNode level = meta.path(LOG_LEVEL);
    return new StatelessMeta(revision, meta.path(CLIENT_CAPABILITIES), client,
        level.isString() ? level.stringValue() : null);
  }

  private static Problem invalid(String message) {
    return new Problem(ErrorCode.INVALID_PARAMS, "invalid params: " + message, null);
  }

  McpRevision revision() {
    return revision;
  }

  /** The capabilities the client declared for this request. */
  JsonNode capabilities() {
    return capabilities;
  }

  /** Whether the client declared a capability for this request. */
  boolean supports(String capability) {
    return capabilities.has(capability);
  }

  /**
   * Whether the request's client declared elicitation for forms ({@code elicitation.form}, or a
   * declaration naming no mode).
   */
  boolean asksForms() {
    JsonNode elicitation = capabilities.get("elicitation");
    return elicitation != null && elicitation.isObject()
        && (elicitation.has("form") || !elicitation.has("url"));
  }

  /** The client's {@code name/version}, or {@code null}. */
  @Nullable String clientInfo() {
    return clientInfo;
  }

  /** The lowest log level the client wants for this request, or {@code null} for none at all. */
  @Nullable String logLevel() {
    return logLevel;
  }

  /** Whether a log message at {@code level} is at or above the level this request asked for. */
  boolean wantsLog(String level) {
    if (logLevel == null) {
      return false;
    }
    int at = LEVELS.indexOf(level);
    return at < 0 || at >= LEVELS.indexOf(logLevel);
  }
}
