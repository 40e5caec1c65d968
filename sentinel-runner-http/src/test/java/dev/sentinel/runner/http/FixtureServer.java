package dev.sentinel.runner.http;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real MCP backend over stdio, on the official MCP Java SDK, run as a child JVM by the tests:
 * {@code echo} answers its text; {@code progress} sends two progress notifications first;
 * {@code sample} asks the client for a sampling completion and answers with its text;
 * {@code changed} announces that the tool list changed (a message tied to no request);
 * {@code flood} sends {@code COUNT} progress notifications of {@code SIZE} characters (its text
 * is {@code COUNTxSIZE}) before it answers; {@code region} answers its {@code region} and
 * {@code count}, which its schema marks {@code x-mcp-header} (MCP 2026-07-28's {@code
 * Mcp-Param-*} headers).
 */
@SuppressWarnings("deprecation") // the SDK's convenience constructors, fine for a fixture
public final class FixtureServer {
  private static final String TEXT_SCHEMA =
      "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}";
  private static final String REGION_SCHEMA = "{\"type\":\"object\",\"properties\":{"
      + "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
      + "\"count\":{\"type\":\"integer\",\"x-mcp-header\":\"Count\"}}}";
  private static final AtomicReference<McpSyncServer> SERVER = new AtomicReference<>();

  private FixtureServer() {}

  /** Serves until stdin closes or the process is killed. */
  public static void main(String[] args) throws InterruptedException {
    McpJsonMapper mapper = new JacksonMcpJsonMapper(JsonMapper.builder().build());
    McpSyncServer server = McpServer.sync(new StdioServerTransportProvider(mapper))
        .serverInfo("fixture", "1.0.0")
        .capabilities(McpSchema.ServerCapabilities.builder().tools(true).build())
        .toolCall(tool(mapper, "echo", "Answers its text"), (exchange, request) ->
            text(String.valueOf(request.arguments().get("text"))))
        .toolCall(tool(mapper, "progress", "Reports progress twice, then answers"), (exchange, request) -> {
          Object token = request.meta() == null ? null : request.meta().get("progressToken");
          if (token != null) {
            exchange.progressNotification(new McpSchema.ProgressNotification(token, 1, 2.0, "half"));
            exchange.progressNotification(new McpSchema.ProgressNotification(token, 2, 2.0, "done"));
          }
          return text("progressed");
        })
        .toolCall(tool(mapper, "sample", "Asks the client to sample"), (exchange, request) -> {
          McpSchema.CreateMessageResult result = exchange.createMessage(McpSchema.CreateMessageRequest.builder()
              .messages(List.of(new McpSchema.SamplingMessage(McpSchema.Role.USER,
                  new McpSchema.TextContent("say something"))))
              .maxTokens(10)
              .build());
          return text("sampled: " + ((McpSchema.TextContent) result.content()).text());
        })
        .toolCall(tool(mapper, "flood", "Sends COUNTxSIZE progress notifications of SIZE characters"),
            (exchange, request) -> {
          Object token = request.meta() == null ? null : request.meta().get("progressToken");
          String[] shape = String.valueOf(request.arguments().get("text")).split("x");
          int count = Integer.parseInt(shape[0]);
          String filler = "f".repeat(Integer.parseInt(shape[1]));
          for (int i = 1; token != null && i <= count; i++) {
            exchange.progressNotification(new McpSchema.ProgressNotification(token, i, (double) count, filler));
          }
          return text("flooded " + count);
        })
        .toolCall(McpSchema.Tool.builder("region", mapper, REGION_SCHEMA)
            .description("Answers its region and count, which MCP 2026-07-28 clients mirror in headers").build(),
            (exchange, request) -> text("region " + request.arguments().get("region")
                + " count " + request.arguments().get("count")))
        .toolCall(tool(mapper, "changed", "Announces a tool list change"), (exchange, request) -> {
          SERVER.get().notifyToolsListChanged();
          return text("announced");
        })
        .build();
    SERVER.set(server);
    System.err.println("fixture ready");
    new CountDownLatch(1).await();
  }

  private static McpSchema.Tool tool(McpJsonMapper mapper, String name, String description) {
    return McpSchema.Tool.builder(name, mapper, TEXT_SCHEMA).description(description).build();
  }

  private static McpSchema.CallToolResult text(String text) {
    return McpSchema.CallToolResult.builder().addTextContent(text).isError(false).build();
  }
}
