package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.testing.Conditions;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** The official MCP Java SDK client reaches tools through the gateway with an API key. */
@SuppressWarnings("deprecation") // the SDK's convenience constructors
class SdkClientTest {
  @TempDir static Path dir;
  static Fixture fixture;
  static HttpGateway gateway;

  @BeforeAll
  static void start() {
    fixture = new Fixture(dir);
    gateway = fixture.start(fixture.gateway());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private static McpClient.SyncSpec client(String header, String value) {
    HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport
        .builder("http://127.0.0.1:" + gateway.port())
        .endpoint("/mcp")
        .jsonMapper(new JacksonMcpJsonMapper(JsonMapper.builder().build()))
        .requestBuilder(HttpRequest.newBuilder().header(header, value))
        .build();
    return McpClient.sync(transport).requestTimeout(Duration.ofSeconds(20));
  }

  @Test
  void sdkClient_withApiKeyHeader_listsAndCallsTools() {
    List<McpSchema.ProgressNotification> progress = new CopyOnWriteArrayList<>();
    McpSyncClient client = client("X-API-Key", fixture.alice.secret())
        .progressConsumer(progress::add)
        .sampling(request -> new McpSchema.CreateMessageResult(McpSchema.Role.ASSISTANT,
            new McpSchema.TextContent("from the sdk"), "test-model", McpSchema.CreateMessageResult.StopReason.END_TURN))
        .build();
    try {
      McpSchema.InitializeResult init = client.initialize();
      assertThat(init.protocolVersion()).isNotBlank();

      assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name)
          .contains("fx__echo", "fx__progress", "fx__sample");

      McpSchema.CallToolResult echo = client.callTool(new McpSchema.CallToolRequest("fx__echo", Map.of("text", "via sdk")));
      assertThat(((McpSchema.TextContent) echo.content().get(0)).text()).isEqualTo("via sdk");

      McpSchema.CallToolResult progressed = client.callTool(new McpSchema.CallToolRequest("fx__progress", Map.of(),
          Map.of("progressToken", "sdk-token")));
      assertThat(((McpSchema.TextContent) progressed.content().get(0)).text()).isEqualTo("progressed");
      // The SDK hands progress to the consumer on its own scheduler, possibly after the result
      // and not always in order (seen under load); the gateway's order is checked on the wire
      // by HttpGatewayTest.
      Conditions.await("both progress notifications reach the client", () -> progress.size() == 2);
      assertThat(progress).extracting(McpSchema.ProgressNotification::message)
          .containsExactlyInAnyOrder("half", "done");

      McpSchema.CallToolResult sampled = client.callTool(new McpSchema.CallToolRequest("fx__sample", Map.of()));
      assertThat(((McpSchema.TextContent) sampled.content().get(0)).text()).isEqualTo("sampled: from the sdk");
    } finally {
      client.closeGracefully();
    }
  }

  @Test
  void sdkClient_withBearerKey_works_andWithoutAValidKey_fails() {
    McpSyncClient client = client("Authorization", "Bearer " + fixture.bob.secret()).build();
    try {
      client.initialize();
      assertThat(client.listTools().tools()).isNotEmpty();
    } finally {
      client.closeGracefully();
    }
    McpSyncClient refused = client("X-API-Key", "snk_wrong").build();
    try {
      assertThatThrownBy(refused::initialize).isInstanceOf(RuntimeException.class);
    } finally {
      refused.closeGracefully();
    }
  }
}
