package dev.sentinel.mcp.engine;

import dev.sentinel.api.Transport;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.mcp.transport.InProcessTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A backend MCP server for tests, speaking real MCP JSON over an in-process transport: answers
 * initialize with a configured revision and capabilities, lists with pagination, and tool calls
 * by echoing what it received; records every message. Thread-safe.
 */
final class ScriptedServer {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  final String name;
  volatile String protocolVersion = McpRevision.latest().version();
  volatile ObjectNode capabilities = NODES.objectNode();
  volatile String instructions;
  volatile int pageSize = 100;
  volatile boolean notifyBeforeInitializeReply;
  /**
   * Whether the server speaks MCP 2026-07-28 only: it answers {@code server/discover} and
   * refuses {@code initialize}, as a modern server does. Else it speaks the revision of {@link
   * #protocolVersion} and answers {@code server/discover} as an unknown method.
   */
  volatile boolean modern;
  /** Runs when the gateway says {@code notifications/initialized}: to die right after a good start. */
  volatile Runnable afterInitialize;
  final List<ObjectNode> tools = new CopyOnWriteArrayList<>();
  final List<ObjectNode> prompts = new CopyOnWriteArrayList<>();
  final List<ObjectNode> resources = new CopyOnWriteArrayList<>();
  final List<ObjectNode> templates = new CopyOnWriteArrayList<>();
  final List<JsonRpcMessage> received = new CopyOnWriteArrayList<>();
  final Map<String, Function<JsonRpcMessage, ObjectNode>> handlers = new ConcurrentHashMap<>();
  final AtomicInteger connections = new AtomicInteger();
  private final Map<String, CompletableFuture<JsonRpcMessage>> answers = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong(1000);
  /** Every connection, oldest first; {@link #current} is the newest. */
  final List<InProcessTransport> open = new CopyOnWriteArrayList<>();
  /** Which connection each request came on, by id: an answer goes back on the same one. */
  private final Map<String, InProcessTransport> requestConnections = new ConcurrentHashMap<>();
  private final ThreadLocal<InProcessTransport> handling = new ThreadLocal<>();
  private volatile InProcessTransport current;

  ScriptedServer(String name) {
    this.name = name;
    capabilities.putObject("tools").put("listChanged", true);
  }

  ScriptedServer withTools(String... names) {
    for (String tool : names) {
      ObjectNode definition = NODES.objectNode().put("name", tool).put("description", "the " + tool + " tool");
      definition.putObject("inputSchema").put("type", "object");
      tools.add(definition);
    }
    return this;
  }

  /** Adds a tool with an input schema given as JSON text. */
  ScriptedServer withTool(String tool, String inputSchema) {
    ObjectNode definition = NODES.objectNode().put("name", tool).put("description", "the " + tool + " tool");
    definition.set("inputSchema", JsonMapper.shared().readTree(inputSchema));
    tools.add(definition);
    return this;
  }

  /** Replaces a tool's input schema (as a rug pull would), without telling anyone. */
  void replaceSchema(String tool, String inputSchema) {
    for (int i = 0; i < tools.size(); i++) {
      if (tool.equals(tools.get(i).path("name").asString(""))) {
        ObjectNode definition = tools.get(i).deepCopy();
        definition.set("inputSchema", JsonMapper.shared().readTree(inputSchema));
        tools.set(i, definition);
      }
    }
  }

  /** Replaces a tool's whole definition, given as JSON text (as a rug pull would), telling no one. */
  void replaceTool(String tool, String definition) {
    for (int i = 0; i < tools.size(); i++) {
      if (tool.equals(tools.get(i).path("name").asString(""))) {
        tools.set(i, (ObjectNode) JsonMapper.shared().readTree(definition));
      }
    }
  }

  ScriptedServer capability(String name) {
    capabilities.putObject(name);
    return this;
  }

  /** The connector given to the gateway: a fresh pair per connection. */
  Transport connect() {
    InProcessTransport[] pair = InProcessTransport.pair(name + "-" + connections.incrementAndGet());
    InProcessTransport mine = pair[0];
    current = mine;
    open.add(mine);
    mine.start(new Transport.Receiver() {
      @Override
      public void message(JsonNode message) {
        receive(mine, message);
      }

      @Override
      public void closed(Throwable cause) {
        open.remove(mine);
      }
    });
    return pair[1];
  }

  /** Closes the newest connection, as a crashing process would. */
  void crash() {
    current.close();
  }

  /**
   * Sends a message: an answer on the connection its request came on; anything else on the
   * connection whose request is being handled, else on the newest.
   */
  void send(JsonNode message) {
    InProcessTransport target = null;
    JsonNode id = message.get("id");
    if (id != null && (message.has("result") || message.has("error")) && JsonRpc.validId(id)) {
      target = requestConnections.remove(JsonRpc.idKey(id));
    }
    if (target == null) {
      target = handling.get();
    }
    send(target != null ? target : current, message);
  }

  /** Sends a message on a chosen connection. */
  void send(InProcessTransport connection, JsonNode message) {
    try {
      connection.send(message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends a request to the gateway; the future completes with the gateway's answer. */
  CompletableFuture<JsonRpcMessage> request(JsonNode id, String method, JsonNode params) {
    CompletableFuture<JsonRpcMessage> answer = new CompletableFuture<>();
    answers.put(JsonRpc.idKey(id), answer);
    send(JsonRpc.request(id, method, params));
    return answer;
  }

  /** Sends a request on a chosen connection; the future completes with the gateway's answer. */
  CompletableFuture<JsonRpcMessage> request(InProcessTransport on, String method, JsonNode params) {
    JsonNode id = NODES.numberNode(ids.incrementAndGet());
    CompletableFuture<JsonRpcMessage> answer = new CompletableFuture<>();
    answers.put(JsonRpc.idKey(id), answer);
    send(on, JsonRpc.request(id, method, params));
    return answer;
  }

  /** The connection whose message the calling handler is handling, or {@code null} outside one. */
  InProcessTransport handlingConnection() {
    return handling.get();
  }

  CompletableFuture<JsonRpcMessage> request(String method, JsonNode params) {
    return request(NODES.numberNode(ids.incrementAndGet()), method, params);
  }

  List<JsonRpcMessage> received(String method) {
    List<JsonRpcMessage> matching = new ArrayList<>();
    for (JsonRpcMessage message : received) {
      if (method.equals(message.method())) {
        matching.add(message);
      }
    }
    return matching;
  }

  private void receive(InProcessTransport transport, JsonNode raw) {
    JsonRpcMessage message = JsonRpc.classify(raw);
    received.add(message);
    if (message.isResponse()) {
      CompletableFuture<JsonRpcMessage> answer = answers.remove(JsonRpc.idKey(message.id()));
      if (answer != null) {
        answer.complete(message);
      }
      return;
    }
    if ("notifications/initialized".equals(message.method()) && afterInitialize != null) {
      afterInitialize.run();
    }
    if (message.kind() != JsonRpcMessage.Kind.REQUEST) {
      return;
    }
    requestConnections.put(JsonRpc.idKey(message.id()), transport);
    ObjectNode response;
    Function<JsonRpcMessage, ObjectNode> handler = handlers.get(message.method());
    handling.set(transport);
    try {
      if (handler != null) {
        response = handler.apply(message);
      } else {
        response = standard(transport, message);
      }
    } finally {
      handling.remove();
    }
    if (response != null) {
      requestConnections.remove(JsonRpc.idKey(message.id()));
    }
    if (response != null) {
      try {
        transport.send(response);
      } catch (IOException e) {
        // the gateway went away
      }
    }
  }

  /** The built-in answer to {@code message}, as if no handler were set. */
  ObjectNode standard(InProcessTransport transport, JsonRpcMessage message) {
    JsonNode params = message.params();
    switch (message.method()) {
      case "server/discover": {
        if (!modern) {
          return JsonRpc.methodNotFound(message.id(), message.method());
        }
        ObjectNode result = NODES.objectNode().put("resultType", "complete");
        result.putArray("supportedVersions").add(McpRevision.V2026_07_28.version());
        result.set("capabilities", capabilities);
        result.putObject("_meta").putObject(StatelessMeta.SERVER_INFO).put("name", name).put("version", "1.0");
        if (instructions != null) {
          result.put("instructions", instructions);
        }
        return JsonRpc.result(message.id(), result);
      }
      case "initialize": {
        if (modern) {
          return JsonRpc.error(message.id(), dev.sentinel.mcp.jsonrpc.ErrorCode.METHOD_NOT_FOUND, "initialize is not part of MCP 2026-07-28 (this server speaks"
              + " 2026-07-28 only)");
        }
        if (notifyBeforeInitializeReply) {
          try {
            transport.send(JsonRpc.notification("notifications/tools/list_changed", null));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
        ObjectNode result = NODES.objectNode().put("protocolVersion", protocolVersion);
        result.set("capabilities", capabilities);
        result.putObject("serverInfo").put("name", name).put("version", "1.0");
        if (instructions != null) {
          result.put("instructions", instructions);
        }
        return JsonRpc.result(message.id(), result);
      }
      case "ping":
        return JsonRpc.result(message.id(), NODES.objectNode());
      case "tools/list":
        return page(message, tools, "tools");
      case "prompts/list":
        return page(message, prompts, "prompts");
      case "resources/list":
        return page(message, resources, "resources");
      case "resources/templates/list":
        return page(message, templates, "resourceTemplates");
      case "tools/call": {
        ObjectNode result = NODES.objectNode();
        result.putArray("content").addObject().put("type", "text").put("text", name + ":" + params.path("name").asString(""));
        result.set("received", params);
        return JsonRpc.result(message.id(), result);
      }
      case "prompts/get": {
        ObjectNode result = NODES.objectNode().put("description", name + ":" + params.path("name").asString(""));
        result.putArray("messages");
        result.set("received", params);
        return JsonRpc.result(message.id(), result);
      }
      case "resources/read":
      case "resources/subscribe":
      case "resources/unsubscribe":
      case "completion/complete":
      case "logging/setLevel": {
        String uri = params.path("uri").asString("");
        boolean known = uri.isEmpty() || resources.stream().anyMatch(r -> r.path("uri").asString("").equals(uri))
            || templates.stream().anyMatch(t -> uri.startsWith(t.path("uriTemplate").asString("").split("\\{")[0]));
        if (!known) {
          return JsonRpc.error(message.id(), -32002, "Resource not found", NODES.objectNode().put("uri", uri));
        }
        ObjectNode result = NODES.objectNode().put("server", name);
        result.set("received", params);
        return JsonRpc.result(message.id(), result);
      }
      default:
        return JsonRpc.methodNotFound(message.id(), message.method());
    }
  }

  private ObjectNode page(JsonRpcMessage message, List<ObjectNode> items, String field) {
    int start = message.params().path("cursor").isString()
        ? Integer.parseInt(message.params().get("cursor").stringValue().substring(1)) : 0;
    ObjectNode result = NODES.objectNode();
    ArrayNode array = result.putArray(field);
    int end = Math.min(items.size(), start + pageSize);
    for (int i = start; i < end; i++) {
      array.add(items.get(i));
    }
    if (end < items.size()) {
      result.put("nextCursor", "p" + end);
    }
    return JsonRpc.result(message.id(), result);
  }
}
