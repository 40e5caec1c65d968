package dev.sentinel.runner.stdio;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.gateway.RunOptions;
import dev.sentinel.mcp.transport.StdioOpening;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Runs {@link StdioGateway#run} on a thread, with pipes for its stdin and stdout, and speaks
 * JSON-RPC to it as an MCP client would. {@link #close()} ends its input and waits for the
 * gateway to stop (its backends' processes with it). Not thread-safe.
 */
final class StdioClient implements AutoCloseable {
  static final JsonMapper JSON = JsonMapper.builder().build();

  private final OutputStream toGateway;
  private final BufferedReader fromGateway;
  private final InputStream gatewayIn;
  private final OutputStream gatewayOut;
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private final AtomicLong ids = new AtomicLong();
  private final List<String> notifications = new ArrayList<>();
  private @Nullable StdioOpening opening;
  private boolean closed;

  StdioClient(GatewayConfig config, Clock clock) throws IOException {
    this(config, RunOptions.builder().clock(clock).build());
  }

  StdioClient(GatewayConfig config, RunOptions options) throws IOException {
    this();
    serve(config, options);
  }

  /**
   * A client whose gateway is not built yet: {@link #openAhead()} may read its first message,
   * as {@code sentinel stdio} does while it reads its config, and {@link #serve} starts it.
   */
  StdioClient() throws IOException {
    Pipe input = Pipe.open();
    Pipe output = Pipe.open();
    toGateway = Channels.newOutputStream(input.sink());
    fromGateway = new BufferedReader(
        new InputStreamReader(Channels.newInputStream(output.source()), StandardCharsets.UTF_8));
    gatewayIn = Channels.newInputStream(input.source());
    gatewayOut = Channels.newOutputStream(output.sink());
  }

  /**
   * Starts reading the gateway's input ahead of the gateway, as {@code sentinel stdio} does
   * while it reads its config; {@link #serve} tells it how to answer.
   */
  StdioOpening openAhead() {
    opening = StdioOpening.start(gatewayIn, gatewayOut);
    return opening;
  }

  /** Whether the gateway wrote a line (or part of one) that this client has not read. */
  boolean unread() throws IOException {
    return fromGateway.ready();
  }

  /** Runs the gateway on a thread of its own: {@link StdioGateway#run}, with the opening if one was started. */
  void serve(GatewayConfig config, RunOptions options) {
    StdioOpening ahead = opening;
    Thread thread = new Thread(() -> {
      try {
        exit.complete(ahead == null
            ? StdioGateway.run(config, gatewayIn, gatewayOut, options)
            : StdioGateway.run(config, ahead, gatewayOut, options));
      } catch (Throwable t) {
        exit.completeExceptionally(t);
      } finally {
        try {
          gatewayOut.close();
        } catch (IOException e) {
          // the reader sees the end either way
        }
      }
    }, "stdio-gateway-under-test");
    thread.setDaemon(true);
    thread.start();
  }

  /** The config of a gateway fronting {@link TinyMcpServer}, with the given extra sections. */
  static String config(String extra) {
    return "backends:\n"
        + backend("tiny")
        + "policy:\n"
        + "  rules:\n"
        + "    - id: everything\n"
        + "      allow: {}\n"
        + extra;
  }

  /**
   * One entry of a config's {@code backends:} naming {@link TinyMcpServer} as {@code name},
   * run with the given system properties (such as {@code -Dtiny.gate=FILE}).
   */
  static String backend(String name, String... properties) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    StringBuilder args = new StringBuilder();
    for (String property : properties) {
      args.append(JSON.writeValueAsString(property)).append(", ");
    }
    return "  - name: " + name + "\n"
        + "    stdio:\n"
        + "      command: " + JSON.writeValueAsString(java) + "\n"
        + "      args: [" + args + "\"-cp\", " + JSON.writeValueAsString(System.getProperty("java.class.path"))
        + ", \"" + TinyMcpServer.class.getName() + "\"]\n";
  }

  /**
   * Waits for a notification of this method (one seen while waiting for a response counts),
   * and consumes it.
   */
  void awaitNotification(String method) throws IOException {
    while (!notifications.remove(method)) {
      String line = fromGateway.readLine();
      if (line == null) {
        throw new IOException("the gateway closed its output before sending " + method);
      }
      JsonNode message = JSON.readTree(line);
      if (message.has("method") && !message.has("id")) {
        notifications.add(message.get("method").asString());
      }
    }
  }

  /** The notifications seen so far and not awaited, by method. */
  List<String> notifications() {
    return List.copyOf(notifications);
  }

  /** Sends a request and waits for its response, remembering the notifications on the way. */
  JsonNode request(String method, ObjectNode params) throws IOException {
    long id = ids.incrementAndGet();
    ObjectNode message = JSON.createObjectNode().put("jsonrpc", "2.0").put("id", id)
        .put("method", method);
    if (params != null) {
      message.set("params", params);
    }
    send(message);
    String line;
    while ((line = fromGateway.readLine()) != null) {
      JsonNode reply = JSON.readTree(line);
      if (reply.path("id").asLong(-1) == id && !reply.has("method")) {
        return reply;
      }
      if (reply.has("method") && !reply.has("id")) {
        notifications.add(reply.get("method").asString());
      }
    }
    throw new IOException("the gateway closed its output before answering " + method
        + (exit.isDone() ? " (exit: " + exitDescription() + ")" : ""));
  }

  /**
   * Initializes the session (request and notification) and waits until the backends are up
   * (they start in the background): until {@code tools/list} lists something, or is refused;
   * answers the initialize response.
   */
  JsonNode initialize() throws IOException {
    JsonNode reply = initializeAtOnce();
    awaitBackends();
    return reply;
  }

  /** Waits until the backends are up: until {@code tools/list} lists something, or is refused. */
  void awaitBackends() {
    Conditions.await("the backends are up", () -> {
      try {
        JsonNode list = request("tools/list", null);
        return list.has("error") || !list.path("result").path("tools").isEmpty();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** Initializes the session without waiting for the backends; answers the initialize response. */
  JsonNode initializeAtOnce() throws IOException {
    ObjectNode params = JSON.createObjectNode().put("protocolVersion", "2025-06-18");
    params.putObject("capabilities");
    params.putObject("clientInfo").put("name", "test").put("version", "1");
    JsonNode reply = request("initialize", params);
    send(JSON.createObjectNode().put("jsonrpc", "2.0").put("method", "notifications/initialized"));
    return reply;
  }

  /** Calls a tool with a {@code text} argument. */
  JsonNode callTool(String name, String text) throws IOException {
    ObjectNode params = JSON.createObjectNode().put("name", name);
    params.putObject("arguments").put("text", text);
    return request("tools/call", params);
  }

  /** Sends one line exactly as given (a newline is added): what no JSON library would write. */
  void sendLine(String line) throws IOException {
    toGateway.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    toGateway.flush();
  }

  /** The next line the gateway writes that is not a notification, exactly as written. */
  String readLine() throws IOException {
    while (true) {
      String line = fromGateway.readLine();
      if (line == null) {
        throw new IOException("the gateway closed its output"
            + (exit.isDone() ? " (exit: " + exitDescription() + ")" : ""));
      }
      JsonNode message = JSON.readTree(line);
      if (!message.has("method") || message.has("id")) {
        return line;
      }
    }
  }

  private void send(JsonNode message) throws IOException {
    toGateway.write((JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8));
    toGateway.flush();
  }

  private String exitDescription() {
    try {
      return String.valueOf(exit.getNow(null));
    } catch (RuntimeException e) {
      return e.getCause() == null ? e.toString() : e.getCause().toString();
    }
  }

  /** Ends the gateway's input and answers its exit code once it stopped. */
  int stop() throws Exception {
    if (!closed) {
      closed = true;
      toGateway.close();
    }
    return exit.get(60, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (Exception e) {
      throw new UncheckedIOException(new IOException("the gateway did not stop cleanly", e));
    }
  }
}
