package dev.sentinel.cli;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import tools.jackson.databind.json.JsonMapper;

/**
 * The tools of the official-SDK MCP servers that stand behind the gateway in these tests, and a
 * {@link #main} that serves them on stdio (run as a child JVM by the gateway). The same tools
 * are served over Streamable HTTP by {@link SdkHttpBackend}.
 *
 * <p>Every tool counts its calls, so a test can prove that a refused call never reached the
 * backend: in-process through {@link #calls()}, and from a child process through the
 * {@code calls} tool. Thread-safe.
 *
 * <ul>
 *   <li>{@code echo {text}}: answers {@code echo: <text>}</li>
 *   <li>{@code wipe}, {@code hidden}, {@code frozen}, {@code metered}: answer their name (the
 *       tests' policy and kill switch decide who may call them)</li>
 *   <li>{@code progress {steps}}: sends {@code steps} progress notifications for the request's
 *       progress token, then answers {@code done}</li>
 *   <li>{@code sample {prompt}}: asks the client to sample ({@code sampling/createMessage}) and
 *       answers with what the client's model said</li>
 *   <li>{@code calls}: answers the call counts as JSON text ({@code {"echo":2,...}})</li>
 * </ul>
 */
public final class SdkBackend {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  static final McpJsonMapper MAPPER = new JacksonMcpJsonMapper(JSON);

  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

  /** The call count of each tool that was called at least once. */
  Map<String, Integer> calls() {
    Map<String, Integer> out = new TreeMap<>();
    calls.forEach((tool, count) -> out.put(tool, count.get()));
    return out;
  }

  /** How often the tool was called. */
  int calls(String tool) {
    AtomicInteger count = calls.get(tool);
    return count == null ? 0 : count.get();
  }

  /** The tools, each counting its calls here. */
  List<SyncToolSpecification> tools() {
    String empty = "{\"type\":\"object\",\"properties\":{}}";
    return List.of(
        tool("echo", "Answers its text argument",
            "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}",
            (exchange, request) -> text("echo: " + request.arguments().get("text"))),
        tool("wipe", "Wipes everything (the policy never lets it through)", empty,
            (exchange, request) -> text("wiped")),
        tool("hidden", "A tool no rule allows", empty, (exchange, request) -> text("hidden")),
        tool("frozen", "A tool the kill switch disables", empty, (exchange, request) -> text("frozen")),
        tool("metered", "A tool under a rate limit", empty, (exchange, request) -> text("metered")),
        tool("progress", "Reports progress, then answers done",
            "{\"type\":\"object\",\"properties\":{\"steps\":{\"type\":\"integer\"}}}",
            SdkBackend::progress),
        tool("sample", "Asks the client's model, answers what it said",
            "{\"type\":\"object\",\"properties\":{\"prompt\":{\"type\":\"string\"}},\"required\":[\"prompt\"]}",
            SdkBackend::sample),
        tool("calls", "The call counts of this server's tools", empty,
            (exchange, request) -> text(JSON.writeValueAsString(calls()))));
  }

  /** The {@code echo} tool with another description, as a server that changed it would list it. */
  SyncToolSpecification echo(String description) {
    return tool("echo", description,
        "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}",
        (exchange, request) -> text("echo: " + request.arguments().get("text")));
  }

  private SyncToolSpecification tool(String name, String description, String schema,
      BiFunction<McpSyncServerExchange, McpSchema.CallToolRequest, McpSchema.CallToolResult> handler) {
    McpSchema.Tool tool = McpSchema.Tool.builder(name, MAPPER, schema).description(description).build();
    return SyncToolSpecification.builder()
        .tool(tool)
        .callHandler((exchange, request) -> {
          calls.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
          return handler.apply(exchange, request);
        })
        .build();
  }

  private static McpSchema.CallToolResult progress(
      McpSyncServerExchange exchange, McpSchema.CallToolRequest request) {
    Object token = request.progressToken();
    int steps = ((Number) request.arguments().getOrDefault("steps", 3)).intValue();
    if (token != null) {
      for (int step = 1; step <= steps; step++) {
        exchange.progressNotification(new McpSchema.ProgressNotification(
            token, (double) step, (double) steps, "step " + step));
      }
    }
    return text("done");
  }

  private static McpSchema.CallToolResult sample(
      McpSyncServerExchange exchange, McpSchema.CallToolRequest request) {
    McpSchema.CreateMessageResult answer = exchange.createMessage(
        McpSchema.CreateMessageRequest.builder()
            .messages(List.of(new McpSchema.SamplingMessage(McpSchema.Role.USER,
                new McpSchema.TextContent(String.valueOf(request.arguments().get("prompt"))))))
            .maxTokens(20)
            .build());
    String said = answer.content() instanceof McpSchema.TextContent
        ? ((McpSchema.TextContent) answer.content()).text()
        : String.valueOf(answer.content());
    return text("model " + answer.model() + " said: " + said);
  }

  private static McpSchema.CallToolResult text(String text) {
    return McpSchema.CallToolResult.builder().addTextContent(text).isError(false).build();
  }

  /** Serves the tools on stdin/stdout until killed or until stdin ends. */
  public static void main(String[] args) throws InterruptedException {
    McpSyncServer server =
        McpServer.sync(new StdioServerTransportProvider(MAPPER))
            .serverInfo("sdk-stdio-backend", "1.0.0")
            .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
            .tools(new SdkBackend().tools())
            .build();
    System.err.println("sdk-stdio-backend ready: " + server.getServerInfo().name());
    new CountDownLatch(1).await();
  }
}
