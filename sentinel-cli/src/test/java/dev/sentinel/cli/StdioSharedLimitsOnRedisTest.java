package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sentinel stdio} with {@code shared_state.redis}: two stdio gateways (two processes, as
 * two users' MCP clients start them, each with its own SQLite-free config) share one limit through
 * a real redis-server that the test starts and stops, so the limit holds across them; without
 * Redis each would limit alone.
 */
class StdioSharedLimitsOnRedisTest {
  @TempDir Path dir;
  private Process redis;
  private final List<McpSyncClient> clients = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (McpSyncClient client : clients) {
      client.closeGracefully();
    }
    if (redis != null) {
      redis.destroy();
      if (!redis.waitFor(30, TimeUnit.SECONDS)) {
        redis.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  private int startRedis() throws IOException {
    boolean installed = false;
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      installed |= !d.isEmpty() && Files.isExecutable(Path.of(d, "redis-server"));
    }
    Assumptions.assumeTrue(installed, "SKIPPED LOUDLY: redis-server is not installed; install"
        + " Debian's redis-server (apt-get install -y redis-server, as .ci/run does)");
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    redis = new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind",
        "127.0.0.1", "--save", "", "--appendonly", "no").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Conditions.await("redis-server to listen on port " + port, () -> {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
        return true;
      } catch (IOException e) {
        return false;
      }
    });
    return port;
  }

  /** A stdio gateway's config in its own folder, with its limit in Redis. */
  private Path config(String name, int redisPort) throws IOException {
    Path folder = Files.createDirectories(dir.resolve(name));
    String yaml = String.join("\n",
        "gateway: { name: " + name + ", start_timeout: 60s, request_timeout: 60s }",
        "identity: { principal: { id: tester, roles: [user] } }",
        "backends:",
        "  - name: echo",
        "    stdio: { command: " + GatewayRig.quote(GatewayRig.JAVA) + ", args: ["
            + GatewayRig.quote(GatewayRig.CLASSPATH_ARGS) + ", "
            + GatewayRig.quote("dev.sentinel.mcp.transport.EchoMcpServer") + "] }",
        "policy:",
        "  roles: { user: {} }",
        "  rules: [ { id: echo, allow: { roles: [user], tools: [\"echo__echo\"] } } ]",
        "  limits: [ { id: shared-three, rate: 3/h, tools: [\"echo__echo\"] } ]",
        "audit: { sinks: [ { jsonl: audit.jsonl } ] }",
        "shared_state: { redis: { url: \"redis://127.0.0.1:" + redisPort + "/0\", timeout: 5s } }",
        "");
    Path config = folder.resolve("sentinel.yaml");
    Files.writeString(config, yaml, StandardCharsets.UTF_8);
    return config;
  }

  private McpSyncClient connect(Path config) {
    McpSyncClient client = McpClient.sync(new StdioClientTransport(
            ServerParameters.builder(GatewayRig.JAVA).args(GatewayRig.gatewayArgs(config)).build(),
            SdkBackend.MAPPER))
        .requestTimeout(GatewayRig.TIMEOUT)
        .initializationTimeout(GatewayRig.TIMEOUT)
        .build();
    clients.add(client);
    client.initialize();
    // sentinel stdio answers initialize before its backend is up (calls until then get -32019).
    Conditions.await("the backend is up", () -> !client.listTools().tools().isEmpty());
    return client;
  }

  private static McpSchema.CallToolRequest echo() {
    return new McpSchema.CallToolRequest("echo__echo", Map.of("text", "hi"));
  }

  @Test
  void twoStdioGateways_onOneRedis_shareTheLimit() throws Exception {
    int port = startRedis();
    McpSyncClient first = connect(config("first", port));
    McpSyncClient second = connect(config("second", port));

    assertThat(first.callTool(echo()).isError()).isNotEqualTo(Boolean.TRUE);
    assertThat(first.callTool(echo()).isError()).isNotEqualTo(Boolean.TRUE);
    assertThat(second.callTool(echo()).isError()).isNotEqualTo(Boolean.TRUE);

    // Three of 3/h are spent across both processes: each refuses the fourth.
    for (McpSyncClient client : List.of(second, first)) {
      McpError refused = catchThrowableOfType(McpError.class, () -> client.callTool(echo()));
      assertThat(refused).isNotNull();
      assertThat(refused.getJsonRpcError().code()).isEqualTo(ErrorCode.LIMITED.code());
      assertThat(refused.getJsonRpcError().message()).contains("shared-three");
    }
  }
}
