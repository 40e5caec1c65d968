package dev.sentinel.cli;

import static dev.sentinel.cli.GatewayRig.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.transport.ChildProgram;
import dev.sentinel.mcp.transport.StubbornMcpServer;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The gateway's life as a process: what it writes to stdout whatever it is sent, how it ends
 * when the client goes away (closing stdin, or closing stdin and then terminating it, as the
 * SDK's client does), that its backends end with it, and that the audit trail then holds one
 * event per call. Each test starts its own gateway (see {@link GatewayRig} for the config).
 */
class StdioGatewayLifecycleTest {
  private static final String INITIALIZE = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
      + "\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
      + "\"clientInfo\":{\"name\":\"raw-client\",\"version\":\"1.0.0\"}}}";
  private static final String INITIALIZED = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";

  @TempDir Path dir;

  @Test
  void rawClient_stdoutCarriesOnlyJsonRpc_evenAfterMalformedAndOversizedLines() throws Exception {
    List<ProcessHandle> started = new ArrayList<>();
    try (SdkHttpBackend web = new SdkHttpBackend()) {
      Path config = GatewayRig.writeConfig(dir, web.url(), "max_message_bytes: 64KiB");
      try (RawGateway gateway = new RawGateway(config, dir.resolve("stderr.log"))) {
        started.add(gateway.process().toHandle());
        gateway.send(INITIALIZE);
        JsonNode init = gateway.response(1);
        assertThat(init.path("result").path("serverInfo").path("name").asString("")).isEqualTo("sdk-tests");
        gateway.send(INITIALIZED);
        gateway.awaitBackends("kid", "echo", "web");
        started.addAll(GatewayRig.backends(gateway.process().toHandle()));

        gateway.send("this is not json {");
        JsonNode parseError = gateway.response(null);
        assertThat(parseError.path("error").path("code").asInt()).isEqualTo(-32700);

        String big = "x".repeat(100 * 1024);
        gateway.send(call(2, "kid__echo", "{\"text\":\"" + big + "\"}"));
        JsonNode tooBig = gateway.response(null);
        assertThat(tooBig.path("error").path("code").asInt()).isEqualTo(-32600);
        assertThat(tooBig.path("error").path("message").asString("")).contains("exceeds");

        gateway.send(call(3, "kid__echo", "{\"text\":\"still serving\"}"));
        JsonNode echo = gateway.response(3);
        assertThat(echo.path("result").path("content").get(0).path("text").asString(""))
            .isEqualTo("echo: still serving");

        gateway.send(call(4, "kid__wipe", "{}"));
        JsonNode denied = gateway.response(4);
        assertThat(denied.path("error").path("code").asInt()).isEqualTo(-32012);
        assertThat(denied.path("error").path("message").asString("")).contains("no-wiping");

        gateway.closeStdin();
        assertThat(gateway.awaitExit()).as("exit code; stderr:\n%s", gateway.stderr()).isZero();
        GatewayRig.awaitEnded("the backends ended with the gateway", started);

        List<String> lines = gateway.allLines();
        assertThat(lines).hasSizeGreaterThanOrEqualTo(5);
        for (String line : lines) {
          assertThat(isJsonRpc(line)).as("a JSON-RPC message: %s", abbreviate(line)).isTrue();
        }
        assertThat(lines.stream().anyMatch(l -> l.contains(big))).isFalse();
        assertThat(GatewayRig.toolCalls(GatewayRig.audit(dir)))
            .containsExactlyInAnyOrder("kid__echo ALLOWED", "kid__wipe DENIED");
      }
    } finally {
      GatewayRig.kill(started);
    }
  }

  /**
   * Regression: a client that closes stdin and then sends SIGTERM while the gateway is still
   * stopping its backends (the SDK's {@code StdioClientTransport.closeGracefully} waits 100 ms)
   * must not leave the backends running. The shutdown hook used to return at once when the main
   * thread had begun stopping, so the JVM halted half-way and orphaned the children.
   */
  @Test
  void closingStdinThenTerminating_stillStopsEveryBackend() throws Exception {
    List<ProcessHandle> started = new ArrayList<>();
    try (SdkHttpBackend web = new SdkHttpBackend()) {
      Path config = GatewayRig.writeConfig(dir, web.url(), "");
      try (RawGateway gateway = new RawGateway(config, dir.resolve("stderr.log"))) {
        started.add(gateway.process().toHandle());
        gateway.send(INITIALIZE);
        gateway.response(1);
        gateway.send(INITIALIZED);
        gateway.awaitBackends("kid");
        gateway.send(call(2, "kid__echo", "{\"text\":\"hi\"}"));
        gateway.response(2);
        started.addAll(GatewayRig.backends(gateway.process().toHandle()));

        gateway.closeStdin();
        Conditions.await("the gateway begins to stop",
            () -> gateway.stderr().contains("the client closed its input; stopping"));
        gateway.process().destroy();
        gateway.awaitExit();
        GatewayRig.awaitEnded("the backends ended with the gateway", started);
        assertThat(GatewayRig.toolCalls(GatewayRig.audit(dir))).containsExactly("kid__echo ALLOWED");
      }
    } finally {
      GatewayRig.kill(started);
    }
  }

  /**
   * Regression: a client that closes stdin and terminates the gateway soon after (the SDK's
   * {@code closeGracefully}: 100 ms later) caught it while the thread that read the end of input
   * was stopping the session's own backends, one by one, each with its stop grace. The shutdown
   * hook found none left to stop and returned, the JVM halted, and a backend that serves on
   * after end of input (as the SDK's stdio servers do) ran on without its gateway. Here the
   * gateway is terminated exactly then: once the backend has seen its stdin close.
   */
  @Test
  void terminatingWhileABackendWaitsOutItsStopGrace_stillEndsIt() throws Exception {
    Path config = writeStubbornConfig(dir);
    List<ProcessHandle> started = new ArrayList<>();
    try (RawGateway gateway = new RawGateway(config, dir.resolve("stderr.log"))) {
      ProcessHandle process = gateway.process().toHandle();
      started.add(process);
      gateway.send(INITIALIZE);
      gateway.response(1);
      gateway.send(INITIALIZED);
      gateway.awaitBackends("stubborn");
      Conditions.await("the backend runs", () -> process.descendants().anyMatch(ProcessHandle::isAlive));
      process.descendants().forEach(started::add);

      gateway.closeStdin();
      Conditions.await("the gateway is stopping the backend (its stdin is closed)",
          () -> gateway.stderr().contains(StubbornMcpServer.STDIN_CLOSED));
      gateway.process().destroy();
      gateway.awaitExit();

      GatewayRig.awaitEnded("every backend ended with the gateway", started);
    } finally {
      GatewayRig.kill(started);
    }
  }

  /**
   * Regression: the shutdown hook was registered only once the backends had started, so a
   * client that gave up while they started (SIGTERM during {@code start_timeout}) left them
   * running. Here the backend never answers {@code initialize} and never reads its stdin.
   */
  @Test
  void terminatingWhileTheBackendsStart_stillEndsThem() throws Exception {
    Path config = dir.resolve("sentinel.yaml");
    Files.writeString(config, String.join("\n",
        "gateway: { name: slow-start, start_timeout: 20s }",
        "identity: { principal: { id: tester, roles: [user] } }",
        "backends:",
        "  - name: silent",
        "    stdio: { command: " + GatewayRig.quote(GatewayRig.JAVA) + ", args: ["
            + GatewayRig.quote(GatewayRig.CLASSPATH_ARGS) + ", "
            + GatewayRig.quote(ChildProgram.class.getName()) + ", hang] }",
        "policy:",
        "  roles: { user: {} }",
        "  rules:",
        "    - id: use-the-tools",
        "      allow: { roles: [user], tools: [\"*\"] }",
        "audit: { sinks: [ { jsonl: audit.jsonl } ] }",
        ""), StandardCharsets.UTF_8);
    List<ProcessHandle> started = new ArrayList<>();
    try (RawGateway gateway = new RawGateway(config, dir.resolve("stderr.log"))) {
      ProcessHandle process = gateway.process().toHandle();
      started.add(process);
      Conditions.await("the backend runs", () -> process.descendants().anyMatch(ProcessHandle::isAlive));
      process.descendants().forEach(started::add);
      assertThat(gateway.stderr()).as("still starting").doesNotContain("backend silent is up");

      gateway.process().destroy();
      gateway.awaitExit();

      GatewayRig.awaitEnded("the starting backend ended with the gateway", started);
    } finally {
      GatewayRig.kill(started);
    }
  }

  /**
   * A gateway in front of one backend that serves on after end of input and ignores SIGTERM:
   * only the kill at the end of its stop grace (twice 2 s) ends it.
   */
  private static Path writeStubbornConfig(Path dir) throws IOException {
    String yaml = String.join("\n",
        "gateway: { name: stubborn-tests, request_timeout: 60s, start_timeout: 60s }",
        "identity: { principal: { id: tester, roles: [user] } }",
        "backends:",
        "  - name: stubborn",
        "    stdio: { command: " + GatewayRig.quote(GatewayRig.JAVA) + ", args: ["
            + GatewayRig.quote(GatewayRig.CLASSPATH_ARGS) + ", "
            + GatewayRig.quote(StubbornMcpServer.class.getName()) + ", "
            + GatewayRig.quote(StubbornMcpServer.IGNORE_TERM) + "] }",
        "policy:",
        "  roles: { user: {} }",
        "  rules:",
        "    - id: use-the-tools",
        "      allow: { roles: [user], tools: [\"*\"] }",
        "audit:",
        "  sinks: [ { jsonl: audit.jsonl } ]",
        "");
    Path config = dir.resolve("sentinel.yaml");
    Files.writeString(config, yaml, StandardCharsets.UTF_8);
    return config;
  }

  @Test
  void sdkClient_auditTrailHasExactlyOneEventPerCall_withItsOutcome() throws Exception {
    List<ProcessHandle> started = new ArrayList<>();
    try (SdkHttpBackend web = new SdkHttpBackend()) {
      Path config = GatewayRig.writeConfig(dir, web.url(), "");
      GatewayRig.Client client = GatewayRig.connect(config, "kid", "echo", "web");
      McpSyncClient gateway = client.sdk();
      try {
        ProcessHandle process = GatewayRig.gateway(config);
        started.add(process);
        started.addAll(GatewayRig.backends(process));

        assertThat(text(call(gateway, "web__echo", Map.of("text", "one")))).isEqualTo("echo: one");
        assertThat(text(call(gateway, "kid__echo", Map.of("text", "two")))).isEqualTo("echo: two");
        assertThat(refusal(gateway, "kid__wipe")).isEqualTo(-32012);
        assertThat(refusal(gateway, "web__frozen")).isEqualTo(-32013);
        for (int i = 0; i < 3; i++) {
          call(gateway, "web__metered", Map.of());
        }
        assertThat(refusal(gateway, "web__metered")).isEqualTo(-32014);
        assertThat(text(call(gateway, "kid__sample", Map.of("prompt", "hi"))))
            .isEqualTo("model test-model said: sampled: hi");
        assertThat(web.tools().calls()).containsExactlyInAnyOrderEntriesOf(Map.of("echo", 1, "metered", 3));
      } finally {
        gateway.closeGracefully();
      }
      GatewayRig.awaitEnded("the gateway and its backends ended", started);

      List<JsonNode> events = GatewayRig.audit(dir);
      assertThat(GatewayRig.toolCalls(events)).containsExactlyInAnyOrder(
          "web__echo ALLOWED", "kid__echo ALLOWED", "kid__wipe DENIED", "web__frozen DISABLED",
          "web__metered ALLOWED", "web__metered ALLOWED", "web__metered ALLOWED",
          "web__metered LIMITED", "kid__sample ALLOWED");
      JsonNode denied = only(events, "kid__wipe");
      assertThat(denied.path("rules").toString()).contains("no-wiping");
      assertThat(denied.path("reason").asString("")).isEqualTo(GatewayRig.DENY_REASON);
      assertThat(denied.path("principal").asString("")).isEqualTo("tester");
      assertThat(only(events, "web__metered", "LIMITED").path("rules").toString()).contains("metered-three");
      assertThat(events.stream().filter(e -> "sampling/createMessage".equals(e.path("method").asString(""))))
          .singleElement()
          .satisfies(e -> {
            assertThat(e.path("backend").asString("")).isEqualTo("kid");
            assertThat(e.path("outcome").asString("")).isEqualTo("ALLOWED");
          });
      assertThat(events.stream().map(e -> e.path("id").asString("")).distinct().count())
          .as("event ids are unique").isEqualTo(events.size());
    } finally {
      GatewayRig.kill(started);
    }
  }

  private static McpSchema.CallToolResult call(McpSyncClient client, String tool, Map<String, Object> args) {
    return client.callTool(new McpSchema.CallToolRequest(tool, args));
  }

  private static int refusal(McpSyncClient client, String tool) {
    McpError error = catchThrowableOfType(McpError.class, () -> call(client, tool, Map.of()));
    assertThat(error).as("a refusal of " + tool).isNotNull();
    return error.getJsonRpcError().code();
  }

  private static JsonNode only(List<JsonNode> events, String tool, String... outcome) {
    List<JsonNode> found = events.stream()
        .filter(e -> tool.equals(e.path("name").asString("")))
        .filter(e -> outcome.length == 0 || outcome[0].equals(e.path("outcome").asString("")))
        .collect(Collectors.toList());
    assertThat(found).hasSize(1);
    return found.get(0);
  }

  private static String call(int id, String tool, String arguments) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\""
        + tool + "\",\"arguments\":" + arguments + "}}";
  }

  /** A JSON-RPC 2.0 request, notification, result or error, as one JSON object. */
  private static boolean isJsonRpc(String line) {
    JsonNode node;
    try {
      node = GatewayRig.JSON.readTree(line);
    } catch (RuntimeException e) {
      return false;
    }
    if (!node.isObject() || !"2.0".equals(node.path("jsonrpc").asString(""))) {
      return false;
    }
    boolean hasId = node.has("id") && (node.get("id").isNull() || node.get("id").isNumber()
        || node.get("id").isString());
    if (node.has("method")) {
      return node.get("method").isString();
    }
    return hasId && (node.has("result") ^ node.has("error"))
        && (!node.has("error") || node.get("error").path("code").isInt()
            && node.get("error").path("message").isString());
  }

  private static String abbreviate(String line) {
    return line.length() <= 200 ? line : line.substring(0, 200) + "...";
  }
}
