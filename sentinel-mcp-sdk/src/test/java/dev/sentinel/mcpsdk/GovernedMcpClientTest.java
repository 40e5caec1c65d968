package dev.sentinel.mcpsdk;

import static dev.sentinel.mcpsdk.Requests.prompt;
import static dev.sentinel.mcpsdk.Requests.read;
import static dev.sentinel.mcpsdk.Requests.text;
import static dev.sentinel.mcpsdk.Requests.toolCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import io.modelcontextprotocol.client.McpAsyncClient;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncPromptSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncResourceSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
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

/**
 * The client-side wrappers against a real, ungoverned SDK server: the application governs what
 * its agent sends.
 */
class GovernedMcpClientTest {
  private static final Principal ALICE = Principal.of("alice", "writer");
  private static final Principal BOB = Principal.of("bob", "reader");

  private final ManualClock clock = new ManualClock();
  private final RecordingSink sink = new RecordingSink();
  /** What reached the server, in order. */
  private final List<String> served = new CopyOnWriteArrayList<>();
  private Sentinel sentinel;
  private McpSyncServer mcp;
  private JettyServer http;
  private McpSyncClient client;

  @BeforeEach
  void start() throws Exception {
    sentinel = Sentinel.builder()
        .policy(PolicyEngine.parse(McpGovernanceTest.policy(), "notes-policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .clock(clock)
        .build();
    HttpServletStreamableServerTransportProvider transport = HttpServletStreamableServerTransportProvider.builder()
        .jsonMapper(GovernedNotesServer.JSON).mcpEndpoint("/mcp").build();
    mcp = McpServer.sync(transport)
        .capabilities(McpSchema.ServerCapabilities.builder()
            .tools(false).resources(false, false).prompts(false).build())
        .tools(tool("read_note"), tool("write_note"), tool("delete_all"))
        .resources(resource("notes://index"), resource("notes://drafts/plan"))
        .prompts(new SyncPromptSpecification(McpSchema.Prompt.builder("summarize").build(), (exchange, request) -> {
          served.add("summarize " + request.arguments());
          return McpSchema.GetPromptResult.builder(List.of()).description("").build();
        }))
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
      mcp.closeGracefully();
    } finally {
      http.close();
      sentinel.close();
    }
  }

  private SyncToolSpecification tool(String name) {
    return new SyncToolSpecification(
        McpSchema.Tool.builder(name, GovernedNotesServer.JSON, "{\"type\":\"object\"}").build(),
        (exchange, request) -> {
          served.add(name + " " + request.arguments());
          if (request.arguments().containsKey("fail")) {
            throw new IllegalStateException("the server failed");
          }
          return McpSchema.CallToolResult.builder().addTextContent("ok").build();
        });
  }

  private SyncResourceSpecification resource(String uri) {
    return new SyncResourceSpecification(McpSchema.Resource.builder(uri, uri).build(), (exchange, request) -> {
      served.add(request.uri());
      return text(uri, "x");
    });
  }

  private List<AuditEvent> trail() {
    assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
    return sink.events();
  }

  @Test
  void lists_showOnlyWhatThePrincipalMayUse() {
    GovernedMcpSyncClient bob = GovernedMcpSyncClient.of(client, sentinel, "notes", BOB);

    assertThat(bob.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly("read_note");
    assertThat(bob.as(ALICE).listTools().tools()).extracting(McpSchema.Tool::name)
        .containsExactlyInAnyOrder("read_note", "write_note");
    assertThat(bob.listResources().resources()).extracting(McpSchema.Resource::uri).containsExactly("notes://index");
    assertThat(bob.listPrompts().prompts()).extracting(McpSchema.Prompt::name).containsExactly("summarize");
    assertThat(bob.as(Principal.of("eve")).listPrompts().prompts()).isEmpty();
  }

  @Test
  void callTool_refused_isNeverSent() {
    GovernedMcpSyncClient alice = GovernedMcpSyncClient.of(client, sentinel, "notes", ALICE);

    alice.callTool(toolCall("write_note", Map.of("title", "ideas")));
    McpError secret = catchThrowableOfType(McpError.class,
        () -> alice.callTool(toolCall("write_note", Map.of("title", "secret-plan"))));
    McpError delete = catchThrowableOfType(McpError.class,
        () -> alice.callTool(toolCall("delete_all", Map.of())));

    assertThat(secret.getJsonRpcError().code()).isEqualTo(-32012);
    assertThat(delete.getJsonRpcError().message()).contains("nobody-deletes");
    assertThat(served).containsExactly("write_note {title=ideas}");
    assertThat(trail()).extracting(AuditEvent::outcome)
        .containsExactly(Outcome.ALLOWED, Outcome.DENIED, Outcome.DENIED);
  }

  @Test
  void callTool_overTheLimit_isRefusedWithRetryAfter() {
    GovernedMcpSyncClient alice = GovernedMcpSyncClient.of(client, sentinel, "notes", ALICE);
    alice.callTool(toolCall("write_note", Map.of("title", "1")));
    alice.callTool(toolCall("write_note", Map.of("title", "2")));

    McpError limited = catchThrowableOfType(McpError.class,
        () -> alice.callTool(toolCall("write_note", Map.of("title", "3"))));

    assertThat(limited.getJsonRpcError().code()).isEqualTo(-32014);
    assertThat(served).hasSize(2);
  }

  @Test
  void anErrorTheServerAnswers_isRecordedFailed_andThrownUnchanged() {
    GovernedMcpSyncClient bob = GovernedMcpSyncClient.of(client, sentinel, "notes", BOB);

    McpError error = catchThrowableOfType(McpError.class,
        () -> bob.callTool(toolCall("read_note", Map.of("fail", true))));

    assertThat(error.getJsonRpcError().code()).isEqualTo(McpSchema.ErrorCodes.INTERNAL_ERROR);
    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.FAILED);
      assertThat(event.errorClass()).isEqualTo(McpError.class.getName());
    });
  }

  @Test
  void readResource_andGetPrompt_areDecidedBeforeTheyAreSent() {
    GovernedMcpSyncClient bob = GovernedMcpSyncClient.of(client, sentinel, "notes", BOB);

    bob.readResource(read("notes://index"));
    McpError draft = catchThrowableOfType(McpError.class,
        () -> bob.readResource(read("notes://drafts/plan")));
    bob.getPrompt(prompt("summarize", Map.of("topic", "q3")));
    McpError salaries = catchThrowableOfType(McpError.class,
        () -> bob.getPrompt(prompt("summarize", Map.of("topic", "salaries"))));

    assertThat(draft.getJsonRpcError().code()).isEqualTo(-32012);
    assertThat(salaries.getJsonRpcError().code()).isEqualTo(-32012);
    assertThat(served).containsExactly("notes://index", "summarize {topic=q3}");
  }

  @Test
  void asyncClient_isGovernedTheSameWay() {
    McpAsyncClient async = McpClient.async(HttpClientStreamableHttpTransport.builder(http.url())
            .endpoint("/mcp").jsonMapper(GovernedNotesServer.JSON).build())
        .requestTimeout(Duration.ofSeconds(30)).build();
    try {
      async.initialize().block(Duration.ofSeconds(30));
      GovernedMcpAsyncClient bob = GovernedMcpAsyncClient.of(async, sentinel, "notes", BOB);

      assertThat(bob.listTools(null).block(Duration.ofSeconds(30)).tools())
          .extracting(McpSchema.Tool::name).containsExactly("read_note");
      bob.callTool(toolCall("read_note", Map.of("title", "a"))).block(Duration.ofSeconds(30));
      McpError denied = catchThrowableOfType(McpError.class, () -> bob.callTool(
          toolCall("write_note", Map.of("title", "a"))).block(Duration.ofSeconds(30)));

      assertThat(denied.getJsonRpcError().code()).isEqualTo(-32012);
      assertThat(served).containsExactly("read_note {title=a}");
      assertThat(trail()).extracting(AuditEvent::outcome).containsExactly(Outcome.ALLOWED, Outcome.DENIED);
    } finally {
      async.closeGracefully().block(Duration.ofSeconds(10));
    }
  }
}
