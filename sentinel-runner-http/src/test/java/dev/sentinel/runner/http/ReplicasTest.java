package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.jdbc.EmbeddedPostgresServer;
import dev.sentinel.jdbc.JdbcStores;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Two {@code sentinel http} replicas on one real PostgreSQL, an MCP 2026-07-28 client switching
 * between them request by request: lists and calls need no session; a confirmation asked by one
 * replica is answered through the other and counts once between them; a call whose backend asks
 * the client something continues only on the replica where it runs, and the other refuses the
 * retry without forwarding it or using its state up.
 */
class ReplicasTest {
  private static final String VERSION = "2026-07-28";
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  @TempDir Path dir;
  private Fixture first;
  private Fixture second;
  private URI a;
  private URI b;

  @BeforeEach
  void startReplicas() {
    String url = postgres.newDatabase();
    String yaml = Fixture.backend()
        + "database: { url: \"" + url + "\" }\n"
        + "policy:\n"
        + "  rules:\n"
        + "    - id: fixture-tools\n"
        + "      allow: { tools: [\"fx__*\"] }\n"
        + "    - id: sampling\n"
        + "      allow: { methods: [\"sampling/createMessage\"] }\n"
        + "    - id: echoes-confirmed\n"
        + "      confirm: { tools: [\"fx__echo\"] }\n"
        + "      reason: echoes need a yes\n"
        + "      by: caller\n"
        + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n";
    first = Fixture.onStores(dir, yaml, stores(url));
    second = first.replica(stores(url));
    a = endpoint(first.start(first.gateway()));
    b = endpoint(second.start(second.gateway()));
  }

  @AfterEach
  void stopReplicas() {
    if (second != null) {
      second.close();
    }
    if (first != null) {
      first.close();
    }
  }

  private static JdbcStores stores(String url) {
    return JdbcStores.open(new DatabaseSettings(url, null, null, true, Duration.ofSeconds(5)), Clock.system());
  }

  private static URI endpoint(HttpGateway gateway) {
    return URI.create("http://127.0.0.1:" + gateway.port() + "/mcp");
  }

  @Test
  void aConfirmationAskedByOneReplica_isAnsweredThroughTheOther_andCountsOnceBetweenThem() {
    JsonNode listed = post(a, request(1, "tools/list", null, "sampling"), "tools/list", null);
    assertThat(listed.path("result").path("tools").toString()).contains("fx__echo", "fx__sample");

    ObjectNode echo = request(2, "tools/call", echo("hello"), "elicitation");
    JsonNode asked = post(b, echo, "tools/call", "fx__echo").path("result");
    assertThat(asked.path("resultType").asString()).as("%s", asked).isEqualTo("input_required");

    ObjectNode answered = echo.deepCopy().put("id", 3);
    ObjectNode params = (ObjectNode) answered.get("params");
    params.putObject("inputResponses").putObject("sentinel_confirm").put("action", "accept");
    params.put("requestState", asked.path("requestState").asString());
    JsonNode ran = post(a, answered, "tools/call", "fx__echo");
    JsonNode replayed = post(b, answered.deepCopy().put("id", 4), "tools/call", "fx__echo");

    assertThat(ran.path("result").path("content").get(0).path("text").asString()).as("%s", ran).isEqualTo("hello");
    assertThat(replayed.path("error").path("code").asInt()).as("%s", replayed).isEqualTo(-32015);
  }

  @Test
  void aCallWhoseBackendAsks_continuesOnlyOnTheReplicaWhereItRuns() {
    ObjectNode sample = request(1, "tools/call", sample(), "sampling");
    JsonNode asked = post(a, sample, "tools/call", "fx__sample").path("result");
    assertThat(asked.path("resultType").asString()).as("%s", asked).isEqualTo("input_required");
    assertThat(asked.path("inputRequests").path("sampling_1").path("method").asString())
        .isEqualTo("sampling/createMessage");

    ObjectNode retry = sample.deepCopy().put("id", 2);
    ObjectNode params = (ObjectNode) retry.get("params");
    ObjectNode sampled = params.putObject("inputResponses").putObject("sampling_1")
        .put("role", "assistant").put("model", "test-model");
    sampled.putObject("content").put("type", "text").put("text", "hi there");
    params.put("requestState", asked.path("requestState").asString());

    JsonNode elsewhere = post(b, retry, "tools/call", "fx__sample");
    JsonNode where = post(a, retry.deepCopy().put("id", 3), "tools/call", "fx__sample");

    assertThat(elsewhere.path("error").path("message").asString()).as("%s", elsewhere).contains("another gateway");
    assertThat(where.path("result").path("content").get(0).path("text").asString()).as("%s", where)
        .isEqualTo("sampled: hi there");
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** A 2026-07-28 request declaring {@code capability}. */
  private static ObjectNode request(int id, String method, ObjectNode params, String capability) {
    ObjectNode body = Client.JSON.createObjectNode().put("jsonrpc", "2.0").put("id", id).put("method", method);
    ObjectNode withMeta = params == null ? Client.JSON.createObjectNode() : params;
    ObjectNode meta = withMeta.putObject("_meta");
    meta.put("io.modelcontextprotocol/protocolVersion", VERSION);
    meta.putObject("io.modelcontextprotocol/clientCapabilities").putObject(capability);
    meta.putObject("io.modelcontextprotocol/clientInfo").put("name", "replicas").put("version", "1");
    body.set("params", withMeta);
    return body;
  }

  private static ObjectNode echo(String text) {
    ObjectNode params = Client.JSON.createObjectNode().put("name", "fx__echo");
    params.putObject("arguments").put("text", text);
    return params;
  }

  private static ObjectNode sample() {
    ObjectNode params = Client.JSON.createObjectNode().put("name", "fx__sample");
    params.putObject("arguments").put("text", "x");
    return params;
  }

  private JsonNode post(URI endpoint, ObjectNode body, String method, String name) {
    HttpResponse<String> response = name == null
        ? new Client(endpoint, first.alice.secret()).post(body.toString(), "MCP-Protocol-Version", VERSION,
            "Mcp-Method", method)
        : new Client(endpoint, first.alice.secret()).post(body.toString(), "MCP-Protocol-Version", VERSION,
            "Mcp-Method", method, "Mcp-Name", name);
    String text = response.body();
    if (text.startsWith("event:") || text.startsWith("data:")) {
      // An SSE answer: the last data line is the response.
      String[] lines = text.split("\n");
      for (int i = lines.length - 1; i >= 0; i--) {
        if (lines[i].startsWith("data:")) {
          return Client.JSON.readTree(lines[i].substring(5).trim());
        }
      }
    }
    return Client.JSON.readTree(text);
  }
}
