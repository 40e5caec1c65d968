package dev.sentinel.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sentinel.core.internal.WireJson;
import dev.sentinel.core.testing.NumbersServer;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.databind.JsonNode;

/**
 * Behaviour the SDK server cannot be made to show on demand (a dropped event stream, a JSON
 * answer, a JSON-RPC error in an HTTP error), on a scripted fixture server. The main path is
 * covered against the real SDK server in {@link StreamableHttpTransportTest}.
 */
class StreamableHttpEdgeCasesTest {
  /** One request the fixture saw. */
  record Seen(String method, Map<String, List<String>> headers, String body) {
    String header(String name) {
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name))
          .map(e -> e.getValue().get(0))
          .findFirst()
          .orElse(null);
    }
  }

  private HttpServer server;
  private final ExecutorService handlers = Executors.newCachedThreadPool();
  private final CountDownLatch released = new CountDownLatch(1);
  private URI url;
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private StreamableHttpTransport transport;
  private final Recorder recorder = new Recorder();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/mcp", this::handle);
    server.setExecutor(handlers);
    server.start();
    url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/mcp");
    transport = StreamableHttpTransport.connect(
        HttpSpec.of("fixture", url).withHeaders(Map.of("X-Backend-Key", "k1")));
    transport.start(recorder);
  }

  @AfterEach
  void stop() {
    released.countDown();
    transport.close();
    server.stop(0);
    handlers.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    seen.add(new Seen(exchange.getRequestMethod(), Map.copyOf(exchange.getRequestHeaders()), body));
    String method = exchange.getRequestMethod();
    if (method.equals("DELETE")) {
      respond(exchange, 405, null, "");
      return;
    }
    if (method.equals("GET")) {
      String last = exchange.getRequestHeaders().getFirst("Last-Event-ID");
      if ("e1".equals(last)) {
        respond(exchange, 200, "text/event-stream",
            "id: e2\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"resumed\":true}}\n\n");
      } else {
        respond(exchange, 405, null, "");
      }
      return;
    }
    JsonNode message = Json.parse(body);
    switch (message.path("method").asString("")) {
      case "initialize":
        exchange.getResponseHeaders().add("Mcp-Session-Id", "s-123");
        exchange.getResponseHeaders().add("Set-Cookie", "tracker=1; Path=/");
        respond(exchange, 200, "application/json",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-11-25\","
                + "\"capabilities\":{},\"serverInfo\":{\"name\":\"fixture\",\"version\":\"1\"}}}");
        return;
      case "notifications/initialized":
        respond(exchange, 202, null, "");
        return;
      case "slow/stream":
        // a progress notification, then the stream drops before the answer: resume from e1
        respond(exchange, 200, "text/event-stream",
            ": keep-alive\n\nretry: 0\nid: e1\nevent: message\n"
                + "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\n"
                + "data: \"params\":{\"progress\":1}}\n\n");
        return;
      case "hangs":
        // no answer until the test ends
        try {
          released.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        respond(exchange, 500, "text/plain", "too late");
        return;
      case "big":
        respond(exchange, 200, "application/json",
            "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"text\":\"" + "x".repeat(4096) + "\"}}");
        return;
      case "tools/list":
        respond(exchange, 200, "application/json", "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":{\"tools\":[{"
            + "\"name\":\"weather\",\"inputSchema\":{\"type\":\"object\",\"properties\":{"
            + "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
            + "\"city\":{\"type\":\"string\",\"x-mcp-header\":\"City\"},"
            + "\"days\":{\"type\":\"integer\",\"x-mcp-header\":\"Days\"},"
            + "\"evil\":{\"type\":\"string\",\"x-mcp-header\":\"X\\r\\nInjected: 1\"},"
            + "\"note\":{\"type\":\"string\"}}}}]}}");
        return;
      case "fails":
        respond(exchange, 400, "application/json",
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32602,\"message\":\"bad params\"}}");
        return;
      case "numbers/json":
        respond(exchange, 200, "application/json",
            "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{\"back\":[" + NumbersServer.NUMBERS + "]}}");
        return;
      case "numbers/sse":
        respond(exchange, 200, "text/event-stream",
            "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"back\":[" + NumbersServer.NUMBERS + "]}}\n\n");
        return;
      default:
        respond(exchange, 500, "text/plain", "boom");
    }
  }

  private static void respond(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    if (type != null) {
      exchange.getResponseHeaders().add("Content-Type", type);
    }
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private void initialize() throws Exception {
    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}"));
    assertThat(recorder.response(1).at("/result/serverInfo/name").asString()).isEqualTo("fixture");
    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
  }

  @Test
  void headers_afterInitialize_carrySessionAndNegotiatedVersion() throws Exception {
    initialize();
    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"slow/stream\"}"));
    recorder.response(2);

    Seen first = seen.get(0);
    assertThat(first.header("Content-Type")).isEqualTo("application/json");
    assertThat(first.header("Accept")).isEqualTo("application/json, text/event-stream");
    assertThat(first.header("X-Backend-Key")).isEqualTo("k1");
    assertThat(first.header("Mcp-Session-Id")).isNull();
    Seen later = seen.stream().filter(s -> s.body().contains("slow/stream")).findFirst().orElseThrow();
    assertThat(later.header("Mcp-Session-Id")).isEqualTo("s-123");
    assertThat(later.header("MCP-Protocol-Version")).isEqualTo("2025-11-25");
    assertThat(later.header("X-Backend-Key")).isEqualTo("k1");
    assertThat(later.header("Cookie")).as("no cookie store").isNull();
  }

  @Test
  void requestTimeout_isATimeoutErrorForThatRequestOnly() throws Exception {
    StreamableHttpTransport timed = StreamableHttpTransport.connect(
        HttpSpec.of("fixture", url).withRequestTimeout(java.time.Duration.ofMillis(200)));
    Recorder timedRecorder = new Recorder();
    timed.start(timedRecorder);
    try {
      timed.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"hangs\"}"));

      JsonNode error = timedRecorder.response(7);
      assertThat(error.at("/error/code").asInt()).isEqualTo(-32001);
      assertThat(error.at("/error/message").asString())
          .isEqualTo("backend 'fixture' did not answer within PT0.2S");
      assertThat(timedRecorder.isClosed()).isFalse();
    } finally {
      timed.close();
    }
  }

  @Test
  void jsonAnswerOverTheLimit_isRefusedWithoutBufferingIt() throws Exception {
    StreamableHttpTransport small = StreamableHttpTransport.connect(
        HttpSpec.of("fixture", url).withLimits(new FrameLimits(1024, 64)));
    Recorder smallRecorder = new Recorder();
    small.start(smallRecorder);
    try {
      small.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"big\"}"));

      JsonNode error = smallRecorder.response(5);
      assertThat(error.at("/error/code").asInt()).isEqualTo(-32603);
      assertThat(error.at("/error/message").asString())
          .isEqualTo("backend 'fixture' sent an unusable answer: message exceeds 1024 bytes");
    } finally {
      small.close();
    }
  }

  @Test
  void droppedEventStream_isResumedWithLastEventId_inOrder() throws Exception {
    initialize();

    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"slow/stream\"}"));

    assertThat(recorder.next(m -> m.has("method") || m.has("result") && m.path("id").asInt() == 2))
        .isEqualTo(Json.parse(
            "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}"));
    assertThat(recorder.response(2).at("/result/resumed").asBoolean()).isTrue();
    assertThat(seen).anySatisfy(s -> {
      assertThat(s.method()).isEqualTo("GET");
      assertThat(s.header("Last-Event-ID")).isEqualTo("e1");
      assertThat(s.header("Accept")).isEqualTo("text/event-stream");
      assertThat(s.header("Mcp-Session-Id")).isEqualTo("s-123");
    });
  }

  /** Numbers a double would change cross an HTTP backend as sent, in bodies and in events. */
  @Test
  void numbers_areSentAndReceivedExactly_asJsonAndAsEvents() throws Exception {
    initialize();
    WireJson wire = new WireJson(StreamReadConstraints.defaults());
    String params = "{\"n\":[" + NumbersServer.NUMBERS + "]}";

    for (int id = 6; id <= 7; id++) {
      byte[] request = ("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\""
          + (id == 6 ? "numbers/json" : "numbers/sse") + "\",\"params\":" + params + "}").getBytes(StandardCharsets.UTF_8);
      transport.send(wire.read(request, 0, request.length));

      JsonNode answer = recorder.response(id);
      assertThat(new String(wire.write(answer), StandardCharsets.UTF_8))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"back\":[" + NumbersServer.NUMBERS + "]}}");
      assertThat(answer.at("/result/back/2").decimalValue()).isEqualByComparingTo(new BigDecimal("1e999999"));
      assertThat(seen).anySatisfy(s -> assertThat(s.body()).isEqualTo(new String(request, StandardCharsets.UTF_8)));
    }
  }

  @Test
  void httpErrorWithJsonRpcError_isPassedOn() throws Exception {
    initialize();

    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"fails\"}"));

    assertThat(recorder.response(3).at("/error/message").asString()).isEqualTo("bad params");
  }

  @Test
  void httpErrorWithJsonRpcError_isPassedOn_forAnIdTheGatewayMadeAsALong() throws Exception {
    initialize();
    tools.jackson.databind.node.ObjectNode request = tools.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    request.put("jsonrpc", "2.0").put("id", 3L).put("method", "fails");

    transport.send(request);

    assertThat(recorder.response(3).at("/error/message").asString())
        .as("the server's id (an int when parsed) is the request's (a long)").isEqualTo("bad params");
  }

  @Test
  void aStatelessRequest_mirrorsItsMethodAndName_inHeaders_andCarriesNoSession() throws Exception {
    initialize();
    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
        + "\"name\":\"caf\u00e9 tool\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}"));
    recorder.response(2);

    Seen call = seen.stream().filter(s -> s.body().contains("tools/call")).findFirst().orElseThrow();
    assertThat(call.header("Mcp-Session-Id")).as("2026-07-28 has no sessions").isNull();
    assertThat(call.header("MCP-Protocol-Version")).isEqualTo("2026-07-28");
    assertThat(call.header("Mcp-Method")).isEqualTo("tools/call");
    assertThat(call.header("Mcp-Name")).as("not plain visible ASCII: the base64 form")
        .isEqualTo("=?base64?" + java.util.Base64.getEncoder().encodeToString(
            "caf\u00e9 tool".getBytes(StandardCharsets.UTF_8)) + "?=");
  }

  @Test
  void aStatelessToolCall_mirrorsTheArgumentsItsListedSchemaMarks_inMcpParamHeaders() throws Exception {
    String meta = "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}";
    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/list\",\"params\":{" + meta + "}}"));
    recorder.response(8);

    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{"
        + "\"name\":\"weather\",\"arguments\":{\"region\":\"us-west\",\"city\":\"Z\u00fcrich\",\"days\":3,\"evil\":\"e\","
        + "\"note\":\"n\"}," + meta + "}}"));
    recorder.response(9);

    Seen call = seen.stream().filter(s -> s.body().contains("\"id\":9")).findFirst().orElseThrow();
    assertThat(call.header("Mcp-Param-Region")).isEqualTo("us-west");
    assertThat(call.header("Mcp-Param-City")).isEqualTo("=?base64?"
        + java.util.Base64.getEncoder().encodeToString("Z\u00fcrich".getBytes(StandardCharsets.UTF_8)) + "?=");
    assertThat(call.header("Mcp-Param-Days")).isEqualTo("3");
    assertThat(call.headers().keySet()).as("an argument no annotation marks is not mirrored")
        .noneMatch(h -> h.equalsIgnoreCase("Mcp-Param-Note"));
    assertThat(call.headers().keySet()).as("a schema's header name that is no header token is not sent")
        .noneMatch(h -> h.toLowerCase(java.util.Locale.ROOT).contains("injected") || h.contains("\r"));
  }

  @Test
  void httpErrorWithoutJsonRpcError_isSynthesized_andNotificationsFailQuietly() throws Exception {
    initialize();

    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/other\"}"));
    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"other\"}"));

    JsonNode error = recorder.response(4);
    assertThat(error.at("/error/code").asInt()).isEqualTo(-32603);
    assertThat(error.at("/error/data/httpStatus").asInt()).isEqualTo(500);
    assertThat(recorder.drain()).as("nothing for the notification").isEmpty();
  }

  @Test
  void close_sendsDeleteWithTheSession_andAccepts405() throws Exception {
    initialize();

    transport.close();

    assertThat(recorder.awaitClosed()).isNull();
    assertThat(seen).anySatisfy(s -> {
      assertThat(s.method()).isEqualTo("DELETE");
      assertThat(s.header("Mcp-Session-Id")).isEqualTo("s-123");
    });
  }
}
