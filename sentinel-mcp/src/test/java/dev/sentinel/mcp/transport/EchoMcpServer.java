package dev.sentinel.mcp.transport;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.concurrent.CountDownLatch;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real MCP server over stdio, built with the official MCP Java SDK, with one tool: {@code echo}
 * answers its {@code text} argument. Run as a child process by {@link ProcessTransportTest}.
 */
public final class EchoMcpServer {
  private EchoMcpServer() {}

  /** The echo tool, shared with the HTTP test server. */
  static McpSchema.Tool echoTool(McpJsonMapper mapper) {
    return McpSchema.Tool.builder("echo", mapper,
            "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},"
                + "\"required\":[\"text\"]}")
        .description("Answers its text argument")
        .build();
  }

  static McpSchema.CallToolResult echo(McpSchema.CallToolRequest request) {
    return McpSchema.CallToolResult.builder()
        .addTextContent(String.valueOf(request.arguments().get("text")))
        .isError(false)
        .build();
  }

  static McpJsonMapper mapper() {
    return new JacksonMcpJsonMapper(JsonMapper.builder().build());
  }

  /** Serves until killed. */
  public static void main(String[] args) throws InterruptedException {
    McpJsonMapper mapper = mapper();
    McpSyncServer server =
        McpServer.sync(new StdioServerTransportProvider(mapper))
            .serverInfo("echo-server", "1.0.0")
            .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
            .toolCall(echoTool(mapper), (exchange, request) -> echo(request))
            .build();
    System.err.println("echo-server ready: " + server.getServerInfo().name());
    new CountDownLatch(1).await();
  }
}
