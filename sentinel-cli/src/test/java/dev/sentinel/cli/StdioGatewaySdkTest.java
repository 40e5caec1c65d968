package dev.sentinel.cli;

import static dev.sentinel.cli.GatewayRig.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.core.testing.Conditions;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The official MCP Java SDK's sync client drives the real {@code sentinel stdio} gateway (a
 * child JVM), which fronts an SDK server on stdio (a child JVM of the gateway), core's SDK echo
 * server on stdio, and an SDK server on Streamable HTTP (Jetty, in this JVM). One gateway
 * serves every test of the class; each test uses tools no other test touches, so the order
 * does not matter. See {@link GatewayRig} for the config.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StdioGatewaySdkTest {
  private SdkHttpBackend web;
  private Path config;
  private GatewayRig.Client client;
  private McpSyncClient gateway;
  private ProcessHandle process;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    web = new SdkHttpBackend();
    config = GatewayRig.writeConfig(dir, web.url(), "");
    client = GatewayRig.connect(config, "kid", "echo", "web");
    gateway = client.sdk();
    process = GatewayRig.gateway(config);
  }

  @AfterAll
  void stop() throws Exception {
    List<ProcessHandle> all = process == null ? List.of()
        : Stream.concat(process.descendants(), Stream.of(process)).collect(Collectors.toList());
    try {
      if (gateway != null) {
        gateway.closeGracefully();
      }
      GatewayRig.awaitEnded("the gateway and its backends ended", all);
    } finally {
      GatewayRig.kill(all);
      if (web != null) {
        web.close();
      }
    }
  }

  @Test
  void initialize_reportsTheGatewayAndItsCapabilities() {
    McpSchema.InitializeResult init = gateway.getCurrentInitializationResult();
    assertThat(init.serverInfo().name()).isEqualTo("sdk-tests");
    assertThat(init.protocolVersion()).isIn("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05");
    assertThat(init.capabilities().tools()).isNotNull();
    assertThat(gateway.isInitialized()).isTrue();
    assertThat(gateway.ping()).isNotNull();
  }

  @Test
  void listTools_namespacesEveryBackend_andHidesWhatThePolicyForbids() {
    List<String> names = gateway.listTools().tools().stream()
        .map(McpSchema.Tool::name).sorted().collect(Collectors.toList());
    assertThat(names).contains(
        "echo__echo",
        "kid__echo", "kid__progress", "kid__sample", "kid__metered", "kid__calls",
        "web__echo", "web__progress", "web__sample", "web__metered");
    assertThat(names).allMatch(n -> n.startsWith("kid__") || n.startsWith("web__") || n.startsWith("echo__"));
    assertThat(names).as("denied and unallowed tools are hidden")
        .doesNotContain("kid__wipe", "web__wipe", "kid__hidden", "web__hidden", "web__calls");
    McpSchema.Tool echo = gateway.listTools().tools().stream()
        .filter(t -> t.name().equals("web__echo")).findFirst().orElseThrow();
    assertThat(echo.description()).isEqualTo("Answers its text argument");
    assertThat(echo.inputSchema()).containsEntry("required", List.of("text"));
  }

  @Test
  void allowedCall_overStdio_equalsTheSameCallMadeDirectly() {
    McpSchema.CallToolResult via = gateway.callTool(
        new McpSchema.CallToolRequest("echo__echo", Map.of("text", "héllo ✓ \"quoted\"")));
    McpSchema.CallToolResult direct = withDirectClient(
        () -> new StdioClientTransport(ServerParameters.builder(GatewayRig.JAVA)
            .args(GatewayRig.CLASSPATH_ARGS, "dev.sentinel.mcp.transport.EchoMcpServer").build(),
            SdkBackend.MAPPER),
        sdk -> sdk.callTool(new McpSchema.CallToolRequest("echo", Map.of("text", "héllo ✓ \"quoted\""))));
    assertThat(via).isEqualTo(direct);
    assertThat(text(via)).isEqualTo("héllo ✓ \"quoted\"");
  }

  @Test
  void allowedCall_overStreamableHttp_equalsTheSameCallMadeDirectly() {
    int before = web.tools().calls("echo");
    McpSchema.CallToolResult via = gateway.callTool(
        new McpSchema.CallToolRequest("web__echo", Map.of("text", "over http")));
    McpSchema.CallToolResult direct = withDirectClient(
        () -> HttpClientStreamableHttpTransport.builder("http://127.0.0.1:" + web.url().getPort())
            .endpoint("/mcp").jsonMapper(SdkBackend.MAPPER).build(),
        sdk -> sdk.callTool(new McpSchema.CallToolRequest("echo", Map.of("text", "over http"))));
    assertThat(via).isEqualTo(direct);
    assertThat(text(via)).isEqualTo("echo: over http");
    assertThat(web.tools().calls("echo")).isEqualTo(before + 2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"kid", "web"})
  void deniedCall_failsWithRuleAndReason_andNeverReachesTheBackend(String backend) {
    McpError error = catchThrowableOfType(McpError.class,
        () -> gateway.callTool(new McpSchema.CallToolRequest(backend + "__wipe", Map.of())));
    assertThat(error).isNotNull();
    assertThat(error.getJsonRpcError().code()).isEqualTo(ErrorCode.DENIED.code()).isEqualTo(-32012);
    assertThat(error.getJsonRpcError().message()).contains("no-wiping", GatewayRig.DENY_REASON);
    assertThat(calls(backend)).doesNotContainKey("wipe");
  }

  @ParameterizedTest
  @ValueSource(strings = {"kid", "web"})
  void celCondition_deniesByItsArguments_andNeverReachesTheBackend(String backend) {
    // The CLI registers CEL: the config's when_cel rule compiled in the real sentinel stdio.
    int before = calls(backend).getOrDefault("echo", 0);
    McpError error = catchThrowableOfType(McpError.class, () -> gateway.callTool(
        new McpSchema.CallToolRequest(backend + "__echo", Map.of("text", "classified: plans"))));
    assertThat(error).isNotNull();
    assertThat(error.getJsonRpcError().code()).isEqualTo(ErrorCode.DENIED.code());
    assertThat(error.getJsonRpcError().message())
        .contains("no-classified-echo", GatewayRig.CEL_REASON);
    assertThat(calls(backend).getOrDefault("echo", 0)).isEqualTo(before);
    assertThat(text(gateway.callTool(new McpSchema.CallToolRequest(backend + "__echo",
        Map.of("text", "public: plans"))))).isEqualTo("echo: public: plans");
  }

  @ParameterizedTest
  @ValueSource(strings = {"kid", "web"})
  void killSwitchedTool_failsWithDisabled_andNeverReachesTheBackend(String backend) {
    McpError error = catchThrowableOfType(McpError.class,
        () -> gateway.callTool(new McpSchema.CallToolRequest(backend + "__frozen", Map.of())));
    assertThat(error).isNotNull();
    assertThat(error.getJsonRpcError().code()).isEqualTo(ErrorCode.DISABLED.code()).isEqualTo(-32013);
    assertThat(error.getJsonRpcError().message()).contains(GatewayRig.KILL_REASON);
    assertThat(calls(backend)).doesNotContainKey("frozen");
  }

  @ParameterizedTest
  @ValueSource(strings = {"kid", "web"})
  void rateLimitedTool_failsWithLimited_afterThreeCalls(String backend) {
    for (int i = 0; i < 3; i++) {
      assertThat(text(gateway.callTool(new McpSchema.CallToolRequest(backend + "__metered", Map.of()))))
          .isEqualTo("metered");
    }
    McpError error = catchThrowableOfType(McpError.class,
        () -> gateway.callTool(new McpSchema.CallToolRequest(backend + "__metered", Map.of())));
    assertThat(error).isNotNull();
    assertThat(error.getJsonRpcError().code()).isEqualTo(ErrorCode.LIMITED.code()).isEqualTo(-32014);
    assertThat(error.getJsonRpcError().message()).contains("metered-three");
    assertThat(calls(backend)).containsEntry("metered", 3);
  }

  @ParameterizedTest
  @ValueSource(strings = {"kid", "web"})
  void progressNotifications_reachTheClientsProgressConsumer(String backend) {
    String token = "progress-of-" + backend;
    McpSchema.CallToolResult result = gateway.callTool(McpSchema.CallToolRequest.builder(backend + "__progress")
        .arguments(Map.of("steps", 3))
        .progressToken(token)
        .build());
    assertThat(text(result)).isEqualTo("done");
    Conditions.await("three progress notifications for " + token, () -> progressFor(token).size() == 3);
    List<McpSchema.ProgressNotification> seen = progressFor(token);
    // The gateway writes them in the backend's order (one reader thread, one serialized writer),
    // but the SDK client hands notifications to its consumers asynchronously, which can reorder
    // them; the order on the wire is covered by the engine's tests.
    assertThat(seen).extracting(McpSchema.ProgressNotification::progress)
        .containsExactlyInAnyOrder(1.0, 2.0, 3.0);
    assertThat(seen).extracting(McpSchema.ProgressNotification::total).containsOnly(3.0);
    assertThat(seen).extracting(McpSchema.ProgressNotification::message)
        .containsExactlyInAnyOrder("step 1", "step 2", "step 3");
  }

  @ParameterizedTest
  @ValueSource(strings = {"kid", "web"})
  void samplingRequestOfABackend_isAnsweredByTheClientsHandler_andRelayedBack(String backend) {
    String prompt = "what is 6 times 7, asks " + backend;
    McpSchema.CallToolResult result = gateway.callTool(
        new McpSchema.CallToolRequest(backend + "__sample", Map.of("prompt", prompt)));
    assertThat(text(result)).isEqualTo("model test-model said: sampled: " + prompt);
    assertThat(client.sampled()).anySatisfy(request -> {
      assertThat(request.messages()).hasSize(1);
      assertThat(((McpSchema.TextContent) request.messages().get(0).content()).text()).isEqualTo(prompt);
      assertThat(request.maxTokens()).isEqualTo(20);
    });
  }

  @Test
  void unknownTool_isAnInvalidParamsError() {
    McpError error = catchThrowableOfType(McpError.class,
        () -> gateway.callTool(new McpSchema.CallToolRequest("nobody__nothing", Map.of())));
    assertThat(error).isNotNull();
    assertThat(error.getJsonRpcError().code()).isEqualTo(ErrorCode.INVALID_PARAMS.code());
    assertThat(error.getJsonRpcError().message()).contains("unknown tool: nobody__nothing");
  }

  private List<McpSchema.ProgressNotification> progressFor(String token) {
    return client.progress().stream()
        .filter(p -> token.equals(p.progressToken()))
        .collect(Collectors.toList());
  }

  /** A backend's call counts: in-process for {@code web}, through the gateway for {@code kid}. */
  private Map<String, Integer> calls(String backend) {
    if ("web".equals(backend)) {
      return web.tools().calls();
    }
    String json = text(gateway.callTool(new McpSchema.CallToolRequest("kid__calls", Map.of())));
    Map<String, Integer> counts = new TreeMap<>();
    GatewayRig.JSON.readTree(json).properties().forEach(e -> counts.put(e.getKey(), e.getValue().asInt()));
    return counts;
  }

  /** Runs the action with a fresh SDK client on its own transport, closing it after. */
  private static <T> T withDirectClient(
      Supplier<McpClientTransport> transport, Function<McpSyncClient, T> action) {
    McpSyncClient direct = McpClient.sync(transport.get())
        .clientInfo(new McpSchema.Implementation("sdk-direct-client", "1.0.0"))
        .requestTimeout(GatewayRig.TIMEOUT)
        .initializationTimeout(GatewayRig.TIMEOUT)
        .build();
    try {
      direct.initialize();
      return action.apply(direct);
    } finally {
      direct.closeGracefully();
    }
  }
}
