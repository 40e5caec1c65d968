package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Credentials;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * An MCP client for tests, speaking real MCP JSON to a gateway over an in-process transport:
 * sends requests with chosen ids, collects answers and notifications, and answers the gateway's
 * requests with a handler. Thread-safe.
 */
final class ScriptedClient {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  final InProcessTransport transport;
  final ClientSession session;
  final List<JsonRpcMessage> notifications = new CopyOnWriteArrayList<>();
  final List<JsonRpcMessage> requests = new CopyOnWriteArrayList<>();
  volatile Function<JsonRpcMessage, ObjectNode> onRequest =
      request -> JsonRpc.methodNotFound(request.id(), request.method());
  private final Map<String, CompletableFuture<JsonRpcMessage>> answers = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();

  ScriptedClient(McpGateway gateway, Credentials credentials) {
    InProcessTransport[] pair = InProcessTransport.pair("client");
    transport = pair[0];
    transport.start(new Transport.Receiver() {
      @Override
      public void message(JsonNode message) {
        receive(message);
      }

      @Override
      public void closed(Throwable cause) {}
    });
    session = gateway.serve(pair[1], credentials, "test-client");
  }

  /** Initializes with a revision and capabilities; returns the result. */
  JsonNode initialize(String version, ObjectNode capabilities) {
    ObjectNode params = NODES.objectNode().put("protocolVersion", version);
    params.set("capabilities", capabilities == null ? NODES.objectNode() : capabilities);
    params.putObject("clientInfo").put("name", "scripted").put("version", "0.1");
    JsonRpcMessage answer = call("initialize", params);
    assertThat(answer.kind()).as("initialize answer %s", answer.raw()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    send(JsonRpc.notification("notifications/initialized", null));
    return answer.result();
  }

  JsonNode initialize() {
    return initialize(McpRevision.latest().version(), null);
  }

  CompletableFuture<JsonRpcMessage> request(JsonNode id, String method, JsonNode params) {
    CompletableFuture<JsonRpcMessage> answer = new CompletableFuture<>();
    answers.put(JsonRpc.idKey(id), answer);
    send(JsonRpc.request(id, method, params));
    return answer;
  }

  /** Expects an answer with this id (or {@code null}) to a message sent with {@link #send}. */
  CompletableFuture<JsonRpcMessage> expect(JsonNode id) {
    CompletableFuture<JsonRpcMessage> answer = new CompletableFuture<>();
    answers.put(JsonRpc.idKey(id), answer);
    return answer;
  }

  CompletableFuture<JsonRpcMessage> request(String method, JsonNode params) {
    return request(NODES.numberNode(ids.incrementAndGet()), method, params);
  }

  /** Sends a request and waits for its answer. */
  JsonRpcMessage call(String method, JsonNode params) {
    return await(request(method, params));
  }

  static JsonRpcMessage await(CompletableFuture<JsonRpcMessage> answer) {
    try {
      return answer.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("no answer", e);
    }
  }

  void send(JsonNode message) {
    try {
      transport.send(message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  List<JsonRpcMessage> notifications(String method) {
    List<JsonRpcMessage> matching = new ArrayList<>();
    for (JsonRpcMessage message : notifications) {
      if (method.equals(message.method())) {
        matching.add(message);
      }
    }
    return matching;
  }

  private void receive(JsonNode raw) {
    JsonRpcMessage message = JsonRpc.classify(raw);
    switch (message.kind()) {
      case RESULT:
      case ERROR:
      case INVALID: {
        CompletableFuture<JsonRpcMessage> answer = answers.remove(JsonRpc.idKey(message.id()));
        if (answer != null) {
          answer.complete(message);
        }
        break;
      }
      case NOTIFICATION:
        notifications.add(message);
        break;
      default:
        requests.add(message);
        ObjectNode response = onRequest.apply(message);
        if (response != null) {
          send(response);
        }
    }
  }
}
