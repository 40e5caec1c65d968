package dev.sentinel.cli;

import static dev.sentinel.cli.GatewayRig.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.testing.Conditions;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The official MCP Java SDK's client confirms a call itself: the real {@code sentinel stdio}
 * (a child JVM) holds a call under a {@code confirm} rule that does not say who confirms (the
 * stdio default: the caller, when its client can be asked) and asks the client through
 * elicitation. The client's handler accepts, declines, or keeps the question unanswered past the
 * rule's {@code wait}; only an accept reaches the backend, and the trail records each answer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallerConfirmationSdkTest {
  private Path dir;
  private McpSyncClient client;
  private ProcessHandle process;
  private final List<McpSchema.ElicitFormRequest> asked = new CopyOnWriteArrayList<>();
  /** What the client's human does with the next question. */
  private volatile String answer = "accept";
  /** Completed by the test to let a question that is kept unanswered go. */
  private final CompletableFuture<Void> released = new CompletableFuture<>();

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    dir = tmp;
    Path config = dir.resolve("sentinel.yaml");
    Files.writeString(config, String.join("\n",
        "gateway: { name: confirm-tests, request_timeout: 60s, start_timeout: 60s }",
        "identity: { principal: { id: tester, roles: [user] } }",
        "backends:",
        "  - name: echo",
        "    stdio: { command: " + GatewayRig.quote(GatewayRig.JAVA) + ", args: ["
            + GatewayRig.quote(GatewayRig.CLASSPATH_ARGS) + ", "
            + GatewayRig.quote("dev.sentinel.mcp.transport.EchoMcpServer") + "] }",
        "policy:",
        "  rules:",
        "    - id: echoes-need-a-yes",
        "      confirm: { tools: [\"echo__echo\"] }",
        "      reason: every echo is confirmed",
        "      wait: 3s",
        "audit:",
        "  sinks: [ { jsonl: audit.jsonl } ]",
        ""), StandardCharsets.UTF_8);
    StdioClientTransport transport = new StdioClientTransport(
        ServerParameters.builder(GatewayRig.JAVA).args(GatewayRig.gatewayArgs(config)).build(),
        SdkBackend.MAPPER);
    client = McpClient.sync(transport)
        .clientInfo(new McpSchema.Implementation("confirming-client", "1.0.0"))
        .capabilities(McpSchema.ClientCapabilities.builder().elicitation().build())
        .requestTimeout(GatewayRig.TIMEOUT)
        .initializationTimeout(GatewayRig.TIMEOUT)
        .elicitation(request -> {
          asked.add(request);
          String action = answer;
          if ("never".equals(action)) {
            // Keeps the question open until the test has seen the call refused.
            released.orTimeout(60, TimeUnit.SECONDS).join();
            action = "accept";
          }
          return McpSchema.ElicitResult.builder(McpSchema.ElicitResult.Action.valueOf(
              action.toUpperCase(java.util.Locale.ROOT))).build();
        })
        .build();
    client.initialize();
    // The backend starts in the background: the calls wait until it lists its tool.
    Conditions.await("the backend is up", () -> !client.listTools().tools().isEmpty());
    process = GatewayRig.gateway(config);
  }

  @AfterAll
  void stop() {
    released.complete(null);
    List<ProcessHandle> all = process == null ? List.of()
        : Stream.concat(process.descendants(), Stream.of(process)).collect(Collectors.toList());
    try {
      if (client != null) {
        client.closeGracefully();
      }
      GatewayRig.awaitEnded("the gateway and its backends ended", all);
    } finally {
      GatewayRig.kill(all);
    }
  }

  private McpSchema.CallToolRequest echo(String text) {
    return new McpSchema.CallToolRequest("echo__echo", Map.of("text", text));
  }

  @Test
  void accepted_runsTheCall_declined_orUnanswered_isRefusedWithUnconfirmed() throws Exception {
    answer = "accept";
    assertThat(text(client.callTool(echo("first")))).isEqualTo("first");
    assertThat(asked).singleElement().satisfies(question -> {
      assertThat(question.message()).contains("tools/call: echo__echo (backend echo)",
          "\"text\":\"first\"", "every echo is confirmed");
    });

    answer = "decline";
    McpError declined = catchThrowableOfType(McpError.class, () -> client.callTool(echo("second")));
    assertThat(declined.getJsonRpcError().code()).isEqualTo(-32015);
    assertThat(declined.getJsonRpcError().message()).contains("declined");

    answer = "cancel";
    McpError dismissed = catchThrowableOfType(McpError.class, () -> client.callTool(echo("third")));
    assertThat(dismissed.getJsonRpcError().code()).isEqualTo(-32015);

    answer = "never";
    McpError late = catchThrowableOfType(McpError.class, () -> client.callTool(echo("fourth")));
    assertThat(late.getJsonRpcError().code()).isEqualTo(-32015);
    assertThat(late.getJsonRpcError().message()).contains("did not confirm this call within 3 s");
    // The human accepts after all: too late, the question was withdrawn.
    released.complete(null);

    assertThat(asked).hasSize(4);
    Conditions.await("four calls in the trail", () -> {
      try {
        return GatewayRig.toolCalls(GatewayRig.audit(dir)).size() == 4;
      } catch (java.io.IOException e) {
        return false;
      }
    });
    List<JsonNode> events = GatewayRig.audit(dir);
    assertThat(GatewayRig.toolCalls(events)).containsExactly("echo__echo ALLOWED",
        "echo__echo UNCONFIRMED", "echo__echo UNCONFIRMED", "echo__echo UNCONFIRMED");
    assertThat(events).filteredOn(e -> "tools/call".equals(e.path("method").asString("")))
        .extracting(e -> e.path("reason").asString(""))
        .containsExactly("confirmed by the caller tester",
            "the caller declined to confirm this call",
            "the caller dismissed the confirmation of this call",
            "the caller did not confirm this call within 3 s, or cancelled it");
  }
}
