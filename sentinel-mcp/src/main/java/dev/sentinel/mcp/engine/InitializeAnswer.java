package dev.sentinel.mcp.engine;

import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The result of a client's {@code initialize}: what the gateway answers ({@link
 * McpGateway#serve}) and what {@code sentinel stdio} answers before the gateway is built
 * ({@link #ahead}). Small on purpose, without a logger or other static state: {@code sentinel
 * stdio} loads it on the way to its first answer. Stateless.
 */
public final class InitializeAnswer {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private InitializeAnswer() {}

  /**
   * What answers a client's first message before a gateway of this config is built: its
   * {@code initialize} request (not a 2026-07-28 one, which has no session to open), answered as
   * that gateway answers it while its backends start in the background and none is up: the
   * negotiated revision, tools, prompts and resources that may change, the config's {@code
   * gateway.name} and the version. Any other message gets {@code null}: it is left for the
   * session, whose answer (an error, for most) depends on the gateway. {@code sentinel stdio}
   * gives it once its config is read; the session it then serves takes the request as its
   * {@code initialize} ({@link McpGateway#serve(dev.sentinel.api.Transport,
   * dev.sentinel.api.Credentials, dev.sentinel.api.Principal, String, JsonNode)}).
   */
  public static Function<JsonNode, @Nullable JsonNode> ahead(GatewayConfig config) {
    String name = config.gateway().name();
    String version = version();
    return message -> ahead(message, name, version);
  }

  /**
   * The answer to a first message, as {@link #ahead(GatewayConfig)} gives it, for a gateway
   * that announces this name and version; {@code null} for any message but a session-opening
   * {@code initialize} request.
   */
  public static @Nullable JsonNode ahead(JsonNode message, String serverName, String serverVersion) {
    JsonRpcMessage request = JsonRpc.classify(message);
    if (!opening(request)) {
      return null;
    }
    McpRevision revision = McpRevision.negotiate(request.params().path("protocolVersion").asString(""));
    return JsonRpc.result(request.requiredId(), result(revision, Declared.LISTS, serverName, serverVersion,
        List.of()));
  }

  /** Whether the message is an {@code initialize} request that opens a session. */
  static boolean opening(JsonRpcMessage request) {
    return request.kind() == JsonRpcMessage.Kind.REQUEST && "initialize".equals(request.method())
        && !StatelessMeta.declared(request.params());
  }

  /** The version the gateways of this library announce: the jar's, or {@code dev}. */
  public static String version() {
    String version = InitializeAnswer.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }

  /** The capabilities an {@code initialize} result declares. */
  record Declared(boolean tools, boolean prompts, boolean resources, boolean subscribe,
      boolean logging, boolean completions) {
    static final Declared NONE = new Declared(false, false, false, false, false, false);
    /** The lists a backend not up yet may bring. */
    static final Declared LISTS = new Declared(true, true, true, false, false, false);

    Declared or(Declared other) {
      return new Declared(tools || other.tools, prompts || other.prompts, resources || other.resources,
          subscribe || other.subscribe, logging || other.logging, completions || other.completions);
    }
  }

  /** The result of an {@code initialize} for the negotiated revision. */
  static ObjectNode result(McpRevision revision, Declared declared, String serverName, String serverVersion,
      List<String> instructions) {
    ObjectNode result = NODES.objectNode().put("protocolVersion", revision.version());
    ObjectNode capabilities = result.putObject("capabilities");
    if (declared.tools()) {
      capabilities.putObject("tools").put("listChanged", true);
    }
    if (declared.prompts()) {
      capabilities.putObject("prompts").put("listChanged", true);
    }
    if (declared.resources()) {
      ObjectNode node = capabilities.putObject("resources");
      if (declared.subscribe()) {
        node.put("subscribe", true);
      }
      node.put("listChanged", true);
    }
    if (declared.logging()) {
      capabilities.putObject("logging");
    }
    if (declared.completions() && revision.hasCompletionsCapability()) {
      capabilities.putObject("completions");
    }
    result.putObject("serverInfo").put("name", serverName).put("version", serverVersion);
    if (!instructions.isEmpty()) {
      result.put("instructions", String.join("\n\n", instructions));
    }
    return result;
  }
}
