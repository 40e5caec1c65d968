package dev.sentinel.mcpsdk;

import dev.sentinel.core.Sentinel;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncPromptSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncResourceSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncResourceTemplateSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import tools.jackson.databind.json.JsonMapper;

/**
 * The example: a notes server on the official MCP Java SDK, governed by Sentinel in three lines
 * (marked below). It serves Streamable HTTP on 127.0.0.1; the transport's context extractor puts
 * the request's {@code Authorization} header into the transport context, and the application's
 * {@link CallerResolver} turns it into credentials for the pipeline's authenticator.
 */
@SuppressWarnings("try") // close() throws what Jetty's stop does
final class GovernedNotesServer implements AutoCloseable {
  static final McpJsonMapper JSON = new JacksonMcpJsonMapper(JsonMapper.builder().build());

  /** The arguments each handler received, in order: what the policy decided on must be these. */
  final List<Map<String, Object>> received = new CopyOnWriteArrayList<>();
  private final Map<String, String> notes = new ConcurrentHashMap<>(Map.of("welcome", "hello"));
  private final JettyServer http;
  private final McpSyncServer mcp;

  GovernedNotesServer(Sentinel sentinel, CallerResolver callers) throws Exception {
    HttpServletStreamableServerTransportProvider transport =
        HttpServletStreamableServerTransportProvider.builder()
            .jsonMapper(JSON)
            .mcpEndpoint("/mcp")
            .contextExtractor(request -> {
              String authorization = request.getHeader("Authorization");
              return authorization == null
                  ? McpTransportContext.EMPTY
                  : McpTransportContext.create(Map.of("authorization", authorization));
            })
            .build();

    // 1. one governance per server: the pipeline, the name policies see, who is calling
    McpGovernance governance = McpGovernance.of(sentinel, "notes", callers);
    mcp = McpServer.sync(transport)
        .serverInfo("notes", "1.0.0")
        .capabilities(McpSchema.ServerCapabilities.builder()
            .tools(false).resources(false, false).prompts(false).build())
        // 2. tools: calls decided, limited and audited; the list filtered per caller
        .tools(governance.tools(tools())).addToolFilter(governance.toolFilter())
        // 3. resources and prompts: reads and gets decided, limited and audited
        .resources(governance.resources(resources())).resourceTemplates(governance.resourceTemplates(drafts()))
        .prompts(governance.prompts(prompts()))
        .build();
    http = new JettyServer(transport);
  }

  /** The URL of the MCP endpoint. */
  String url() {
    return http.url();
  }

  private List<SyncToolSpecification> tools() {
    return List.of(
        tool("read_note", "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\"}}}",
            arguments -> notes.getOrDefault((String) arguments.get("title"), "")),
        tool("write_note",
            "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\"},\"body\":{}}}",
            arguments -> {
              notes.put((String) arguments.get("title"), String.valueOf(arguments.get("body")));
              return "saved";
            }),
        tool("delete_all", "{\"type\":\"object\"}", arguments -> {
          notes.clear();
          return "deleted";
        }),
        tool("export_notes", "{\"type\":\"object\"}", arguments -> {
          throw new IllegalStateException("the export service is unreachable");
        }));
  }

  private SyncToolSpecification tool(
      String name, String schema, java.util.function.Function<Map<String, Object>, String> body) {
    return SyncToolSpecification.builder()
        .tool(McpSchema.Tool.builder(name, JSON, schema).build())
        .callHandler((exchange, request) -> {
          received.add(request.arguments());
          return McpSchema.CallToolResult.builder().addTextContent(body.apply(request.arguments())).build();
        })
        .build();
  }

  private List<SyncResourceSpecification> resources() {
    McpSchema.Resource index = McpSchema.Resource.builder("notes://index", "index").build();
    return List.of(new SyncResourceSpecification(index, (exchange, request) ->
        Requests.text(request.uri(), String.join("\n", notes.keySet()))));
  }

  private List<SyncResourceTemplateSpecification> drafts() {
    McpSchema.ResourceTemplate drafts = McpSchema.ResourceTemplate.builder("notes://drafts/{title}", "drafts").build();
    return List.of(new SyncResourceTemplateSpecification(drafts, (exchange, request) ->
        Requests.text(request.uri(), "a draft")));
  }

  private List<SyncPromptSpecification> prompts() {
    McpSchema.Prompt summarize = McpSchema.Prompt.builder("summarize")
        .description("summarize the notes on a topic")
        .arguments(List.of(McpSchema.PromptArgument.builder("topic").description("the topic").required(true).build()))
        .build();
    return List.of(new SyncPromptSpecification(summarize, (exchange, request) ->
        McpSchema.GetPromptResult.builder(List.of(new McpSchema.PromptMessage(McpSchema.Role.USER,
                McpSchema.TextContent.builder("Summarize " + request.arguments().get("topic")).build())))
            .description("summary").build()));
  }

  @Override
  public void close() throws Exception {
    try {
      mcp.closeGracefully();
    } finally {
      http.close();
    }
  }
}
