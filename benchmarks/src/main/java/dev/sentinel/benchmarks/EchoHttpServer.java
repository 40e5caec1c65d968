package dev.sentinel.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A minimal MCP server over Streamable HTTP, written for the HTTP benchmark: one tool,
 * {@code echo}, answering its {@code text} argument, always as one JSON body. It serves
 * {@code POST /mcp} ({@code initialize} opens a session and answers {@code Mcp-Session-Id};
 * notifications and responses get {@code 202}; {@code tools/list}, {@code tools/call} and
 * {@code ping} are answered; other requests get {@code -32601}), {@code DELETE /mcp} (ends the
 * session) and answers {@code GET /mcp} with {@code 405} (no server-initiated stream). An
 * unknown session id gets {@code 404}. It binds {@code 127.0.0.1} only, on Jetty 12 core like
 * the gateway, and answers in microseconds, so the gateway's share of a round trip shows.
 *
 * <p>As a process ({@code java -cp benchmarks.jar dev.sentinel.benchmarks.EchoHttpServer [PORT]})
 * it prints {@code listening http://127.0.0.1:PORT/mcp} on stdout once it accepts connections,
 * and exits when its stdin ends or it is killed. Thread-safe.
 */
public final class EchoHttpServer implements AutoCloseable {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Set<String> REVISIONS =
      Set.of("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25");
  private static final byte[] TOOLS = ("{\"tools\":[{\"name\":\"echo\",\"description\":"
      + "\"Answers its text argument\",\"inputSchema\":{\"type\":\"object\",\"properties\":"
      + "{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}}]}")
      .getBytes(StandardCharsets.UTF_8);

  private final Server server;
  private final ServerConnector connector;
  private final Set<String> sessions = ConcurrentHashMap.newKeySet();
  private final SecureRandom random = new SecureRandom();

  private EchoHttpServer(int port) {
    QueuedThreadPool threads = new QueuedThreadPool(64, 4);
    threads.setName("echo-http");
    threads.setDaemon(true);
    server = new Server(threads);
    connector = new ServerConnector(server, 1, 1);
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        EchoHttpServer.this.handle(request, response, callback);
        return true;
      }
    });
  }

  /**
   * Starts a server on 127.0.0.1 and the given port (0: a free one).
   *
   * @throws IllegalStateException when it cannot bind
   */
  public static EchoHttpServer start(int port) {
    EchoHttpServer echo = new EchoHttpServer(port);
    try {
      echo.server.start();
    } catch (Exception e) {
      echo.close();
      throw new IllegalStateException("echo server cannot start on port " + port + ": " + e, e);
    }
    return echo;
  }

  /** The MCP endpoint, {@code http://127.0.0.1:PORT/mcp}. */
  public String endpoint() {
    return "http://127.0.0.1:" + connector.getLocalPort() + "/mcp";
  }

  /** The number of open sessions. */
  public int sessions() {
    return sessions.size();
  }

  /** Stops the server; open connections are closed. */
  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("echo server did not stop: " + e, e);
    }
  }

  /** Serves until stdin ends or the process is killed; the port is the optional argument. */
  public static void main(String[] args) throws InterruptedException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    EchoHttpServer echo = start(port);
    System.out.println("listening " + echo.endpoint());
    System.out.flush();
    Thread stdin = new Thread(() -> {
      try (InputStream in = System.in) {
        while (in.read() >= 0) {
          // Drained: the parent keeps stdin open while it wants the server.
        }
      } catch (IOException e) {
        // The parent went away.
      }
      Runtime.getRuntime().halt(0);
    }, "echo-http-stdin");
    stdin.setDaemon(true);
    stdin.start();
    new CountDownLatch(1).await();
  }

  // ---------------------------------------------------------------------------------------------

  private void handle(Request request, Response response, Callback callback) {
    if (!"/mcp".equals(Request.getPathInContext(request))) {
      reply(response, callback, 404, null, null);
      return;
    }
    String session = request.getHeaders().get("Mcp-Session-Id");
    switch (request.getMethod()) {
      case "POST":
        Content.Source.asByteArrayAsync(request, 1 << 20).whenComplete((body, failure) -> {
          if (failure != null) {
            reply(response, callback, 400, null, null);
          } else {
            post(body, session, response, callback);
          }
        });
        return;
      case "DELETE":
        reply(response, callback, session != null && sessions.remove(session) ? 200 : 404, null,
            null);
        return;
      case "GET":
        response.getHeaders().put(HttpHeader.ALLOW, "POST, DELETE");
        reply(response, callback, 405, null, null);
        return;
      default:
        reply(response, callback, 405, null, null);
    }
  }

  private void post(byte[] body, String session, Response response, Callback callback) {
    JsonNode message;
    try {
      message = JSON.readTree(body);
    } catch (RuntimeException e) {
      reply(response, callback, 400, error(null, -32700, "parse error"), null);
      return;
    }
    String method = message.path("method").asString(null);
    JsonNode id = message.get("id");
    if (method == null || id == null) {
      reply(response, callback, 202, null, null); // a notification or a response
      return;
    }
    if (method.equals("initialize")) {
      String asked = message.path("params").path("protocolVersion").asString("");
      ObjectNode result = NODES.objectNode();
      result.put("protocolVersion", REVISIONS.contains(asked) ? asked : "2025-06-18");
      result.putObject("capabilities").putObject("tools");
      result.putObject("serverInfo").put("name", "bench-echo-http").put("version", "1");
      byte[] token = new byte[24];
      random.nextBytes(token);
      String id2 = Base64.getUrlEncoder().withoutPadding().encodeToString(token);
      sessions.add(id2);
      reply(response, callback, 200, ok(id, result), id2);
      return;
    }
    if (session == null) {
      reply(response, callback, 400, error(id, -32600, "missing Mcp-Session-Id"), null);
      return;
    }
    if (!sessions.contains(session)) {
      reply(response, callback, 404, error(id, -32001, "session not found"), null);
      return;
    }
    switch (method) {
      case "tools/call": {
        JsonNode params = message.path("params");
        if (!"echo".equals(params.path("name").asString(""))) {
          reply(response, callback, 200, error(id, -32602, "unknown tool"), null);
          return;
        }
        ObjectNode result = NODES.objectNode();
        result.putArray("content").addObject().put("type", "text")
            .put("text", params.path("arguments").path("text").asString(""));
        result.put("isError", false);
        reply(response, callback, 200, ok(id, result), null);
        return;
      }
      case "tools/list":
        reply(response, callback, 200, ok(id, JSON.readTree(TOOLS)), null);
        return;
      case "ping":
        reply(response, callback, 200, ok(id, NODES.objectNode()), null);
        return;
      default:
        reply(response, callback, 200, error(id, -32601, "Method not found"), null);
    }
  }

  private static ObjectNode ok(JsonNode id, JsonNode result) {
    ObjectNode node = NODES.objectNode().put("jsonrpc", "2.0");
    node.set("id", id);
    node.set("result", result);
    return node;
  }

  private static ObjectNode error(JsonNode id, int code, String text) {
    ObjectNode node = NODES.objectNode().put("jsonrpc", "2.0");
    node.set("id", id == null ? NODES.nullNode() : id);
    node.putObject("error").put("code", code).put("message", text);
    return node;
  }

  private static void reply(Response response, Callback callback, int status, JsonNode body,
      String session) {
    response.setStatus(status);
    if (session != null) {
      response.getHeaders().put("Mcp-Session-Id", session);
    }
    if (body == null) {
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
      response.write(true, null, callback);
      return;
    }
    byte[] bytes = JSON.writeValueAsBytes(body);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    response.write(true, ByteBuffer.wrap(bytes), callback);
  }
}
