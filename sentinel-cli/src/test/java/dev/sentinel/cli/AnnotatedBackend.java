package dev.sentinel.cli;

import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * An official-SDK MCP server on stdio whose tools carry annotations, for {@code sentinel init
 * --probe}: {@code read_notes} and {@code search_notes} say read-only, {@code delete_note} says
 * destructive, {@code write_note} says neither, and {@code mystery} has no annotations. Run as
 * a child JVM by the gateway.
 */
public final class AnnotatedBackend {
  private AnnotatedBackend() {}

  private static SyncToolSpecification tool(String name, McpSchema.ToolAnnotations annotations) {
    McpSchema.Tool.Builder tool = McpSchema.Tool.builder(name, SdkBackend.MAPPER,
        "{\"type\":\"object\",\"properties\":{}}").description("the tool " + name);
    if (annotations != null) {
      tool.annotations(annotations);
    }
    return SyncToolSpecification.builder()
        .tool(tool.build())
        .callHandler((exchange, request) ->
            McpSchema.CallToolResult.builder().addTextContent(name).isError(false).build())
        .build();
  }

  /** Serves the tools on stdin/stdout until killed or until stdin ends. */
  public static void main(String[] args) throws InterruptedException {
    McpServer.sync(new StdioServerTransportProvider(SdkBackend.MAPPER))
        .serverInfo("annotated-backend", "1.0.0")
        .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
        .tools(List.of(
            tool("read_notes", new McpSchema.ToolAnnotations("Read", true, false, true, false, null)),
            tool("search_notes", new McpSchema.ToolAnnotations(null, true, null, null, null, null)),
            tool("write_note", new McpSchema.ToolAnnotations(null, false, false, null, null, null)),
            tool("delete_note", new McpSchema.ToolAnnotations(null, false, true, null, null, null)),
            tool("mystery", null)))
        .build();
    new CountDownLatch(1).await();
  }
}
