package dev.sentinel.runner.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.testing.Conditions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code sentinel stdio} answers {@code initialize} before its backends are up: they come up in
 * the background and are announced by {@code notifications/tools/list_changed}; a call for one
 * that is not up yet (still starting, or failed to start) is answered at once with the
 * retryable {@code -32019}. The slow backend is {@link TinyMcpServer} behind a gate file that
 * the test opens: it does not answer {@code initialize} until then, however long that is (the
 * gateway's {@code start_timeout} of 5 s included). The policy names tools, as real ones do: a
 * backend that comes up is announced to a session whose policy allows only some of its tools.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StdioBackgroundStartTest {
  private static final String REST = "policy:\n"
      + "  rules:\n"
      + "    - id: echoes\n"
      + "      allow: { tools: [\"*__echo\"] }\n"
      + "gateway: { start_timeout: 5s }\n"
      + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n";

  @TempDir Path dir;

  private GatewayConfig config(String backends) {
    return GatewayConfig.parse("backends:\n" + backends + REST, "sentinel.yaml", dir, Map.of());
  }

  private String gated(String name, String isolation) {
    return StdioClient.backend(name, "-Dtiny.gate=" + dir.resolve(name + ".up"))
        + (isolation == null ? "" : "    isolation: " + isolation + "\n");
  }

  private void open(String name) throws IOException {
    Files.createFile(dir.resolve(name + ".up"));
  }

  @Test
  void initialize_whileABackendIsStarting_isAnsweredAndTheBackendAnnouncedWhenUp() throws Exception {
    try (StdioClient client = new StdioClient(config(gated("slow", null)), Clock.system())) {
      // The backend cannot be up: its gate is closed. The answer must not wait for it.
      JsonNode init = client.initializeAtOnce();
      assertThat(init.path("result").path("capabilities").path("tools").path("listChanged").asBoolean())
          .as("tools are declared while the backend starts: %s", init).isTrue();
      assertThat(tools(client)).isEmpty();

      open("slow");
      client.awaitNotification("notifications/tools/list_changed");
      assertThat(tools(client)).containsExactly("slow__echo");
      assertThat(client.callTool("slow__echo", "hi").path("result").path("content").path(0).path("text")
          .asString()).isEqualTo("hi");
    }
  }

  @Test
  void call_racingTheStart_isAnsweredAtOnceWithARetryableError() throws Exception {
    try (StdioClient client = new StdioClient(config(gated("slow", null)), Clock.system())) {
      client.initializeAtOnce();
      JsonNode early = client.callTool("slow__echo", "too soon");
      assertThat(early.path("error").path("code").asInt()).as("%s", early).isEqualTo(-32019);
      assertThat(early.path("error").path("message").asString())
          .isEqualTo("backend slow is starting; try again shortly");
      assertThat(early.path("error").path("data").path("retryAfterMs").asLong()).isPositive();

      open("slow");
      client.awaitNotification("notifications/tools/list_changed");
      assertThat(client.callTool("slow__echo", "now").path("result").path("content").path(0).path("text")
          .asString()).isEqualTo("now");
    }
  }

  @Test
  void toolsList_beforeOneBackendIsUp_showsTheOthersAndTheClientIsToldOfTheChange() throws Exception {
    String backends = StdioClient.backend("fast") + gated("slow", "shared");
    try (StdioClient client = new StdioClient(config(backends), Clock.system())) {
      client.initializeAtOnce();
      Conditions.await("the fast backend lists its tool", () -> tools(client).contains("fast__echo"));
      assertThat(tools(client)).containsExactly("fast__echo");
      JsonNode early = client.callTool("slow__echo", "too soon");
      assertThat(early.path("error").path("code").asInt()).as("%s", early).isEqualTo(-32019);

      open("slow");
      client.awaitNotification("notifications/tools/list_changed");
      Conditions.await("both backends list their tools",
          () -> tools(client).containsAll(List.of("fast__echo", "slow__echo")));
      assertThat(client.callTool("slow__echo", "up").path("result").path("content").path(0).path("text")
          .asString()).isEqualTo("up");
    }
  }

  /**
   * A client that lists once right after {@code initialize} (the MCP Inspector's CLI does) sees a
   * backend that comes up within the first list's wait; one slower than that is left out.
   */
  @Test
  void aListRightAfterInitialize_waitsBrieflyForBackendsStillStarting() throws Exception {
    String backends = StdioClient.backend("fast") + gated("slow", "shared");
    try (StdioClient client = new StdioClient(config(backends), Clock.system())) {
      client.initializeAtOnce();
      // No waiting here: the list itself waits for the fast backend, up to its bound.
      assertThat(tools(client)).containsExactly("fast__echo");
      open("slow");
    }
  }

  /**
   * A 2026-07-28 client learns the capabilities from {@code server/discover}; told there are no
   * tools, the TypeScript SDK 2.x never lists them.
   */
  @Test
  void discover_whileABackendIsStarting_showsTheListsItMayBring() throws Exception {
    try (StdioClient client = new StdioClient(config(gated("slow", null)), Clock.system())) {
      tools.jackson.databind.node.ObjectNode params = StdioClient.JSON.createObjectNode();
      tools.jackson.databind.node.ObjectNode meta = params.putObject("_meta");
      meta.put("io.modelcontextprotocol/protocolVersion", "2026-07-28");
      meta.putObject("io.modelcontextprotocol/clientCapabilities");
      JsonNode discovered = client.request("server/discover", params);
      assertThat(discovered.path("result").path("capabilities").has("tools")).as("%s", discovered).isTrue();
      open("slow");
    }
  }

  @Test
  void call_forABackendThatNeverStarts_isRefusedRetryablyAndTheGatewayStopsCleanly() throws Exception {
    String backends = StdioClient.backend("broken", "-Dtiny.fail=true") + StdioClient.backend("fast");
    StdioClient client = new StdioClient(config(backends), Clock.system());
    JsonNode init = client.initializeAtOnce();
    assertThat(init.has("result")).isTrue();
    Conditions.await("the failed start is what a call is told", () -> message(client, "broken__echo")
        .equals("backend broken failed to start and is being retried; try again later"));
    JsonNode refused = client.callTool("broken__echo", "x");
    assertThat(refused.path("error").path("code").asInt()).isEqualTo(-32019);
    assertThat(refused.path("error").path("message").asString()).doesNotContain("status 3", "tiny");
    Conditions.await("the working backend serves", () -> tools(client).contains("fast__echo"));
    assertThat(tools(client)).doesNotContain("broken__echo");
    assertThat(client.stop()).isZero();
  }

  private static List<String> tools(StdioClient client) {
    try {
      List<String> names = new ArrayList<>();
      client.request("tools/list", null).path("result").path("tools")
          .forEach(tool -> names.add(tool.path("name").asString()));
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String message(StdioClient client, String tool) {
    try {
      return client.callTool(tool, "x").path("error").path("message").asString("");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
