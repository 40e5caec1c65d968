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
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpStatelessSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A stateless SDK server governed the same way, the caller from each request's header. */
class McpGovernanceStatelessTest {
  private final RecordingSink sink = new RecordingSink();
  private final List<String> ran = new CopyOnWriteArrayList<>();
  private Sentinel sentinel;
  private McpStatelessSyncServer mcp;
  private JettyServer http;

  @BeforeEach
  void start() throws Exception {
    sentinel = Sentinel.builder()
        .policy(PolicyEngine.parse(McpGovernanceTest.policy(), "notes-policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .build();
    HttpServletStatelessServerTransport transport = HttpServletStatelessServerTransport.builder()
        .jsonMapper(GovernedNotesServer.JSON).messageEndpoint("/mcp")
        .contextExtractor(request -> request.getHeader("X-User") == null ? McpTransportContext.EMPTY
            : McpTransportContext.create(Map.of("user", request.getHeader("X-User"))))
        .build();
    // the application's own directory of users, keyed by what its front end authenticated
    Map<String, Principal> users = Map.of("bob", Principal.of("bob", "reader"));
    McpGovernance governance = McpGovernance.of(sentinel, "notes", context -> {
      Principal user = users.get(String.valueOf(context.get("user")));
      return user == null ? null : Caller.of(user);
    });
    mcp = McpServer.sync(transport)
        .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
        .tools(governance.statelessTools(List.of(tool("read_note"), tool("write_note"))))
        .addToolFilter(governance.toolFilter())
        .build();
    http = new JettyServer(transport);
  }

  @AfterEach
  void stop() throws Exception {
    try {
      mcp.closeGracefully();
    } finally {
      http.close();
      sentinel.close();
    }
  }

  private McpStatelessServerFeatures.SyncToolSpecification tool(String name) {
    return new McpStatelessServerFeatures.SyncToolSpecification(
        McpSchema.Tool.builder(name, GovernedNotesServer.JSON, "{\"type\":\"object\"}").build(),
        (context, request) -> {
          ran.add(name);
          return McpSchema.CallToolResult.builder().addTextContent("ok").build();
        });
  }

  private McpSyncClient client(String user) {
    HttpRequest.Builder request = HttpRequest.newBuilder();
    if (user != null) {
      request.header("X-User", user);
    }
    McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(http.url())
            .endpoint("/mcp").requestBuilder(request).jsonMapper(GovernedNotesServer.JSON).build())
        .requestTimeout(Duration.ofSeconds(30)).build();
    client.initialize();
    return client;
  }

  @Test
  void statelessServer_filtersTheList_andGovernsCalls() {
    McpSyncClient bob = client("bob");
    McpSyncClient nobody = client(null);
    try {
      assertThat(bob.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly("read_note");
      assertThat(nobody.listTools().tools()).isEmpty();

      bob.callTool(toolCall("read_note", Map.of()));
      McpError denied = catchThrowableOfType(McpError.class,
          () -> bob.callTool(toolCall("write_note", Map.of("title", "x"))));
      McpError anonymous = catchThrowableOfType(McpError.class,
          () -> nobody.callTool(toolCall("read_note", Map.of())));

      assertThat(denied.getJsonRpcError().code()).isEqualTo(-32012);
      assertThat(anonymous.getJsonRpcError().code()).isEqualTo(-32011);
      assertThat(ran).containsExactly("read_note");
      assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
      assertThat(sink.events()).extracting(AuditEvent::outcome)
          .containsExactly(Outcome.ALLOWED, Outcome.DENIED, Outcome.UNAUTHENTICATED);
    } finally {
      bob.closeGracefully();
      nobody.closeGracefully();
    }
  }
}
