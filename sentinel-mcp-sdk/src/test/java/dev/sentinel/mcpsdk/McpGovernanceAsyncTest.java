package dev.sentinel.mcpsdk;

import static dev.sentinel.mcpsdk.Requests.toolCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.RecordingSink;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** An asynchronous SDK server governed the same way: list filtered, calls decided and audited. */
class McpGovernanceAsyncTest {
  private final RecordingSink sink = new RecordingSink();
  private final List<String> ran = new CopyOnWriteArrayList<>();
  private Sentinel sentinel;
  private McpAsyncServer mcp;
  private JettyServer http;
  private McpSyncClient client;

  @BeforeEach
  void start() throws Exception {
    sentinel = Sentinel.builder()
        .policy(PolicyEngine.parse(McpGovernanceTest.policy(), "notes-policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .build();
    HttpServletStreamableServerTransportProvider transport = HttpServletStreamableServerTransportProvider.builder()
        .jsonMapper(GovernedNotesServer.JSON).mcpEndpoint("/mcp").build();
    McpGovernance governance = McpGovernance.of(sentinel, "notes", context -> Caller.of(Principal.of("bob", "reader")));
    mcp = McpServer.async(transport)
        .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
        .tools(governance.asyncTools(List.of(tool("read_note"), tool("write_note"))))
        .addToolFilter(governance.asyncToolFilter())
        .build();
    http = new JettyServer(transport);
    client = McpClient.sync(HttpClientStreamableHttpTransport.builder(http.url())
            .endpoint("/mcp").jsonMapper(GovernedNotesServer.JSON).build())
        .requestTimeout(Duration.ofSeconds(30)).build();
    client.initialize();
  }

  @AfterEach
  void stop() throws Exception {
    try {
      client.closeGracefully();
      mcp.closeGracefully().block(Duration.ofSeconds(10));
    } finally {
      http.close();
      sentinel.close();
    }
  }

  private AsyncToolSpecification tool(String name) {
    return new AsyncToolSpecification(
        McpSchema.Tool.builder(name, GovernedNotesServer.JSON, "{\"type\":\"object\"}").build(),
        (exchange, request) -> Mono.fromSupplier(() -> {
          ran.add(name);
          return McpSchema.CallToolResult.builder().addTextContent("ok").build();
        }));
  }

  @Test
  void asyncServer_filtersTheList_andGovernsCalls() {
    assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly("read_note");

    client.callTool(toolCall("read_note", Map.of("title", "welcome")));
    McpError denied = catchThrowableOfType(McpError.class,
        () -> client.callTool(toolCall("write_note", Map.of("title", "x"))));

    assertThat(denied.getJsonRpcError().code()).isEqualTo(-32012);
    assertThat(ran).containsExactly("read_note");
    assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
    assertThat(sink.events()).extracting(AuditEvent::outcome).containsExactly(Outcome.ALLOWED, Outcome.DENIED);
  }
}
