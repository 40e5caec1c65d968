package dev.sentinel.runner.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.mcp.engine.InitializeAnswer;
import dev.sentinel.mcp.gateway.RunOptions;
import dev.sentinel.mcp.transport.FrameLimits;
import dev.sentinel.mcp.transport.StdioOpening;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * {@code sentinel stdio} reads a client's {@code initialize} while it reads its config and
 * answers it as soon as the config is read ({@link StdioOpening} told by {@link
 * InitializeAnswer#ahead}), before the gateway is built; it lets nothing else through until
 * the gateway is ready: every later message waits, unread, and is then decided by the policy as
 * always. A first message that is anything but a clean {@code initialize} within the config's
 * frame limits is not answered ahead and reaches the gateway byte for byte, as it would have
 * without the opening. Here the tests tell the opening how to answer themselves, before they
 * build any gateway, as {@link StdioGateway#run} does first.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StdioAnswerAheadTest {
  private static final String INITIALIZE = "{\"jsonrpc\":\"2.0\",\"id\":\"init-1\",\"method\":\"initialize\","
      + "\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"elicitation\":{}},"
      + "\"clientInfo\":{\"name\":\"early\",\"version\":\"7\"}}}";

  private static final String PING = "{\"jsonrpc\":\"2.0\",\"id\":\"last\",\"method\":\"ping\"}";

  @TempDir Path dir;

  private GatewayConfig config() {
    return config("");
  }

  private GatewayConfig config(String gatewaySettings) {
    return GatewayConfig.parse("backends:\n" + StdioClient.backend("tiny")
        + "gateway: { name: early-gw" + gatewaySettings + " }\n"
        + "policy:\n"
        + "  rules:\n"
        + "    - id: echo-only\n"
        + "      allow: { tools: [\"tiny__echo\"] }\n"
        + "audit: { sinks: [ { jsonl: audit.jsonl } ] }\n", "sentinel.yaml", dir, Map.of());
  }

  /** Starts an opening on the client's pipes and tells it how to answer, as {@code StdioGateway.run} does. */
  private static StdioOpening openAhead(StdioClient client, GatewayConfig config) {
    StdioOpening opening = client.openAhead();
    opening.answer(FrameLimits.of(config.gateway()), InitializeAnswer.ahead(config));
    return opening;
  }

  private RunOptions options() {
    return RunOptions.builder().clock(Clock.system()).build();
  }

  @Test
  void initialize_isAnsweredBeforeTheGatewayExists_andTheSessionStartsInitialized() throws Exception {
    try (StdioClient client = new StdioClient()) {
      StdioOpening opening = openAhead(client, config());
      client.sendLine(INITIALIZE);
      // No gateway is built: the answer comes from the opening and the config alone.
      JsonNode answer = StdioClient.JSON.readTree(client.readLine());
      assertThat(answer.path("id").asString()).isEqualTo("init-1");
      JsonNode result = answer.path("result");
      assertThat(result.path("protocolVersion").asString()).isEqualTo("2025-06-18");
      assertThat(result.path("capabilities").path("tools").path("listChanged").asBoolean()).isTrue();
      assertThat(result.path("capabilities").path("prompts").path("listChanged").asBoolean()).isTrue();
      assertThat(result.path("capabilities").path("resources").path("listChanged").asBoolean()).isTrue();
      assertThat(result.path("serverInfo").path("name").asString()).isEqualTo("early-gw");
      assertThat(opening.await().answered()).isNotNull();

      client.serve(config(), options());
      client.sendLine("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
      // The session took the early initialize as its own: no "not initialized" error, and a
      // second initialize is refused as on any initialized session.
      client.awaitBackends();
      assertThat(client.callTool("tiny__echo", "after").path("result").path("content").path(0)
          .path("text").asString()).isEqualTo("after");
      JsonNode again = client.request("initialize", StdioClient.JSON.createObjectNode()
          .put("protocolVersion", "2025-06-18"));
      assertThat(again.path("error").path("message").asString()).isEqualTo("the session is already initialized");
    }
  }

  @Test
  void messagesAfterTheInitialize_waitUnreadUntilTheGateway_andThePolicyDecidesThem() throws Exception {
    try (StdioClient client = new StdioClient()) {
      StdioOpening opening = openAhead(client, config());
      // One write: the initialize, the notification and two calls, before any gateway exists.
      client.sendLine(INITIALIZE + "\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"
          + "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"tiny__add\","
          + "\"arguments\":{\"a\":1,\"b\":2}}}\n"
          + "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}");
      assertThat(StdioClient.JSON.readTree(client.readLine()).path("id").asString()).isEqualTo("init-1");
      opening.await();
      // The opening is done and wrote its one answer; nothing else may have been answered.
      assertThat(client.unread()).as("only the initialize is answered before the gateway").isFalse();

      client.serve(config(), options());
      Map<Integer, JsonNode> answers = new HashMap<>();
      for (int i = 0; i < 2; i++) {
        JsonNode answer = StdioClient.JSON.readTree(client.readLine());
        answers.put(answer.path("id").asInt(), answer);
      }
      assertThat(answers.get(2).path("error").path("code").asInt()).as("%s", answers).isEqualTo(-32012);
      assertThat(answers.get(3).path("result").isObject()).as("%s", answers).isTrue();
      assertThat(client.stop()).isZero(); // the audit trail is flushed when the gateway stops
      assertThat(Files.readString(dir.resolve("audit.jsonl"))).contains("\"tiny__add\"", "\"DENIED\"");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{not json",
      "[" + INITIALIZE + "]",
      "{\"jsonrpc\":\"2.0\",\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\"}}",
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
      "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}",
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"_meta\":"
          + "{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}",
      "   ",
  })
  void aFirstMessageThatIsNotACleanInitialize_isLeftToTheGateway(String first) throws Exception {
    String expected = withoutAhead(first);
    try (StdioClient client = new StdioClient()) {
      StdioOpening opening = openAhead(client, config());
      client.sendLine(first);
      assertThat(opening.await().answered()).isNull();
      assertThat(client.unread()).isFalse();
      client.serve(config(), options());
      client.sendLine(PING);
      assertThat(client.readLine()).isEqualTo(expected);
    }
  }

  /**
   * The gateway's first answer to the line and a ping after it, without an opening: its answer
   * to the line, or the ping's when it answers none (a blank line, a notification).
   */
  private String withoutAhead(String first) throws Exception {
    try (StdioClient client = new StdioClient(config(), options())) {
      client.sendLine(first);
      client.sendLine(PING);
      return client.readLine();
    }
  }

  @Test
  void aFirstLineOverTheOpeningsBound_isLeftToTheGateway_whichAnswersItAsBefore() throws Exception {
    String padded = INITIALIZE.replace("\"early\"", "\"" + "e".repeat(StdioOpening.MAX_FIRST_LINE) + "\"");
    try (StdioClient client = new StdioClient()) {
      StdioOpening opening = openAhead(client, config());
      client.sendLine(padded);
      assertThat(opening.await().answered()).isNull();
      assertThat(client.unread()).isFalse();
      client.serve(config(), options());
      JsonNode answer = StdioClient.JSON.readTree(client.readLine());
      assertThat(answer.path("id").asString()).isEqualTo("init-1");
      assertThat(answer.path("result").path("protocolVersion").asString()).isEqualTo("2025-06-18");
    }
  }

  /** The config's frame limits hold for the early line as for every other. */
  @Test
  void anInitializeOverTheConfigsLimits_isLeftToTheGateway_whichRefusesItAsBefore() throws Exception {
    GatewayConfig tight = config(", max_message_bytes: 120");
    String expected;
    try (StdioClient client = new StdioClient(tight, options())) {
      client.sendLine(INITIALIZE);
      expected = client.readLine();
    }
    assertThat(StdioClient.JSON.readTree(expected).path("error").path("code").asInt()).isEqualTo(-32600);
    try (StdioClient client = new StdioClient()) {
      StdioOpening opening = openAhead(client, tight);
      client.sendLine(INITIALIZE);
      assertThat(opening.await().answered()).isNull();
      assertThat(client.unread()).isFalse();
      client.serve(tight, options());
      assertThat(client.readLine()).isEqualTo(expected);
    }
  }

  @Test
  void endOfInputBeforeAnyLine_endsTheGatewayCleanly() throws Exception {
    StdioClient client = new StdioClient();
    StdioOpening opening = client.openAhead();
    client.serve(config(), options());
    assertThat(client.stop()).isZero();
    assertThat(opening.await().answered()).isNull();
  }

  /**
   * The early answer is the one a gateway whose backends start in the background gives while
   * none is up: the same capabilities, server name and version.
   */
  @Test
  void theEarlyAnswer_isWhatTheGatewayAnswersWhileItsBackendsStart() throws Exception {
    GatewayConfig gated = GatewayConfig.parse("backends:\n"
        + StdioClient.backend("slow", "-Dtiny.gate=" + dir.resolve("never.up"))
        + "policy: { rules: [ { id: all, allow: {} } ] }\n"
        + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n", "sentinel.yaml", dir, Map.of());
    JsonNode request = StdioClient.JSON.readTree(INITIALIZE);
    JsonNode ahead = InitializeAnswer.ahead(gated).apply(request);
    try (StdioClient client = new StdioClient(gated, options())) {
      client.sendLine(INITIALIZE);
      JsonNode late = StdioClient.JSON.readTree(client.readLine());
      assertThat(ahead).isEqualTo(late);
    }
  }
}
