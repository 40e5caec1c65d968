package dev.sentinel.runner.stdio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.testing.Conditions;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.modern.McpException;
import io.modelcontextprotocol.modern.McpSchema;
import io.modelcontextprotocol.modern.client.McpClient;
import io.modelcontextprotocol.modern.client.McpSyncClient;
import io.modelcontextprotocol.modern.client.transport.StdioMcpClientTransport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * MCP 2026-07-28 clients on {@code sentinel stdio}: the official MCP Java SDK 2.2.0's modern
 * client, with no {@code initialize}, on the real stdio gateway fronting a child-process backend.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StdioModernClientTest {
  @TempDir Path dir;

  private GatewayConfig config() {
    String yaml = StdioClient.config("    - id: no-secrets\n"
        + "      deny: { tools: [\"tiny__echo\"], when: { \"/text\": { regex: \"secret\" } } }\n"
        + "      reason: no secrets in echoes\n"
        + "audit: { sinks: [ { jsonl: audit.jsonl } ] }\n");
    return GatewayConfig.parse(yaml, "sentinel.yaml", dir, Map.of());
  }

  @Test
  void sdkModernClient_discoversListsAndCallsThroughStdio_andADenialCarriesItsCode() throws Exception {
    Pipe input = Pipe.open();
    Pipe output = Pipe.open();
    OutputStream toGateway = Channels.newOutputStream(input.sink());
    InputStream fromGateway = Channels.newInputStream(output.source());
    OutputStream gatewayOut = Channels.newOutputStream(output.sink());
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    Thread gateway = new Thread(() -> {
      try {
        exit.complete(StdioGateway.run(config(), Channels.newInputStream(input.source()), gatewayOut, Clock.system()));
      } catch (Throwable t) {
        exit.completeExceptionally(t);
      } finally {
        try {
          gatewayOut.close();
        } catch (IOException e) {
          // the client sees the end either way
        }
      }
    }, "stdio-gateway-under-test");
    gateway.setDaemon(true);
    gateway.start();
    StdioMcpClientTransport transport = StdioMcpClientTransport.builder(fromGateway, toGateway)
        .jsonMapper(new JacksonMcpJsonMapper(JsonMapper.builder().build()))
        .start();
    try {
      McpSyncClient client = McpClient.sync(transport)
          .clientInfo(McpSchema.Implementation.builder("modern-stdio-test", "1.0").build())
          .build();

      McpSchema.DiscoverResult discovered = client.discover();
      // The backend starts in the background: listed once it is up.
      Conditions.await("the backend is up", () -> !client.tools().list().tools().isEmpty());
      McpSchema.ListToolsResult tools = client.tools().list();
      McpSchema.CallToolResult echo = client.tool("tiny__echo").arguments(Map.of("text", "over stdio")).call();

      assertThat(discovered.supportedVersions()).first().isEqualTo("2026-07-28");
      assertThat(tools.tools()).extracting(McpSchema.Tool::name).containsExactly("tiny__echo");
      assertThat(((McpSchema.TextContent) echo.content().get(0)).text()).isEqualTo("over stdio");
      assertThatThrownBy(() -> client.tool("tiny__echo").arguments(Map.of("text", "a secret")).call())
          .isInstanceOfSatisfying(McpException.class, e -> {
            assertThat(e.error().code()).isEqualTo(-32012);
            assertThat(e.error().message()).contains("no secrets in echoes");
          });
    } finally {
      transport.close();
      toGateway.close();
    }
    assertThat(exit.get(60, TimeUnit.SECONDS)).isZero();
  }

  @Test
  void unsupportedVersion_isRefusedWithMinus32022_andRecordedInTheTrail() throws Exception {
    JsonNode answer;
    try (StdioClient client = new StdioClient(config(), Clock.system())) {
      ObjectNode params = StdioClient.JSON.createObjectNode().put("name", "tiny__echo");
      params.putObject("arguments").put("text", "never forwarded");
      ObjectNode meta = params.putObject("_meta");
      meta.put("io.modelcontextprotocol/protocolVersion", "1900-01-01");
      meta.putObject("io.modelcontextprotocol/clientCapabilities");
      answer = client.request("tools/call", params);
      assertThat(client.stop()).isZero();
    }

    assertThat(answer.path("error").path("code").asInt()).isEqualTo(-32022);
    String trail = Files.readString(dir.resolve("audit.jsonl"), StandardCharsets.UTF_8);
    assertThat(trail).contains("\"rules\":[\"protocol\"]", "1900-01-01").doesNotContain("\"outcome\":\"ALLOWED\"");
  }
}
