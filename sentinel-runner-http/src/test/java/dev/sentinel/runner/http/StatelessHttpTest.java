package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.core.testing.Conditions;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.modern.McpException;
import io.modelcontextprotocol.modern.McpSchema;
import io.modelcontextprotocol.modern.client.McpClient;
import io.modelcontextprotocol.modern.client.McpSyncClient;
import io.modelcontextprotocol.modern.client.transport.HttpClientMcpTransport;
import io.modelcontextprotocol.modern.client.transport.McpHttpRequestCustomizer;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * MCP 2026-07-28 clients on {@code sentinel http}: no session, {@code _meta} and mirrored headers
 * on every POST. The official Java SDK's 2026-07-28 client proves the wire format; hand-written
 * requests cover every hostile case: each gets its status and code, is recorded, and reaches no
 * backend, while other clients go on being served.
 */
class StatelessHttpTest {
  private static final String VERSION = "2026-07-28";

  @TempDir static Path dir;
  static Fixture fixture;
  static HttpGateway gateway;
  static final List<AuditEvent> trail = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    fixture = new Fixture(dir, Fixture.backend()
        + "policy:\n"
        + "  rules:\n"
        + "    - id: fixture-tools\n"
        + "      allow: { tools: [\"fx__*\"] }\n"
        + "    - id: no-announcements\n"
        + "      deny: { principals: [alice], tools: [\"fx__changed\"] }\n"
        + "      reason: announcements are off\n"
        + "    - id: no-secrets\n"
        + "      deny: { tools: [\"fx__echo\"], when: { \"/text\": { regex: \"secret\" } } }\n"
        + "      reason: no secrets in echoes\n"
        + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n", authenticator -> authenticator);
    fixture.runtime.addListener(trail::add);
    gateway = fixture.start(fixture.gateway());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private static URI endpoint() {
    return URI.create("http://127.0.0.1:" + gateway.port() + "/mcp");
  }

  private static McpSyncClient modernClient(String key) {
    HttpClientMcpTransport transport = HttpClientMcpTransport.builder(endpoint())
        .jsonMapper(new JacksonMcpJsonMapper(JsonMapper.builder().build()))
        .requestCustomizer(McpHttpRequestCustomizer.fromSync((request, headers, context) -> headers.set("X-API-Key", key)))
        .build();
    return McpClient.sync(transport)
        .clientInfo(McpSchema.Implementation.builder("modern-test", "1.0").build())
        .build();
  }

  /** A 2026-07-28 request body: {@code params} plus the per-request {@code _meta}. */
  private static ObjectNode body(int id, String method, ObjectNode params, String version) {
    ObjectNode body = Client.JSON.createObjectNode().put("jsonrpc", "2.0").put("id", id).put("method", method);
    ObjectNode withMeta = params == null ? Client.JSON.createObjectNode() : params;
    ObjectNode meta = withMeta.putObject("_meta");
    meta.put("io.modelcontextprotocol/protocolVersion", version);
    meta.putObject("io.modelcontextprotocol/clientCapabilities");
    meta.putObject("io.modelcontextprotocol/clientInfo").put("name", "raw").put("version", "1");
    body.set("params", withMeta);
    return body;
  }

  private static ObjectNode call(int id, String tool, String text) {
    ObjectNode params = Client.JSON.createObjectNode().put("name", tool);
    params.putObject("arguments").put("text", text);
    return body(id, "tools/call", params, VERSION);
  }

  private static HttpResponse<String> post(JsonNode body, String... headers) {
    return new Client(endpoint(), fixture.alice.secret()).post(body.toString(), headers);
  }

  private static JsonNode json(HttpResponse<String> response) {
    return Client.JSON.readTree(response.body());
  }

  private static List<AuditEvent> refusedWith(String text) {
    assertThat(fixture.runtime.sentinel().audit().flush(java.time.Duration.ofSeconds(30))).isTrue();
    List<AuditEvent> found = new ArrayList<>();
    for (AuditEvent event : trail) {
      if (event.rules() != null && event.rules().contains("protocol") && event.reason() != null
          && event.reason().contains(text)) {
        found.add(event);
      }
    }
    return found;
  }

  private static long calls(String tool, String text) {
    assertThat(fixture.runtime.sentinel().audit().flush(java.time.Duration.ofSeconds(30))).isTrue();
    return trail.stream().filter(event -> "tools/call".equals(event.method()) && tool.equals(event.name())
        && event.outcome() == Outcome.ALLOWED && String.valueOf(event.arguments()).contains(text)).count();
  }

  // ---- the real 2026-07-28 client ---------------------------------------------------------

  @Test
  void sdkModernClient_discoversListsAndCallsTools_andADenialCarriesItsCode() {
    McpSyncClient client = modernClient(fixture.alice.secret());

    McpSchema.DiscoverResult discovered = client.discover();
    McpSchema.ListToolsResult tools = client.tools().list();
    McpSchema.CallToolResult echo = client.tool("fx__echo").arguments(Map.of("text", "modern hello")).call();

    assertThat(discovered.supportedVersions()).contains(VERSION);
    assertThat(discovered.capabilities().tools()).isNotNull();
    assertThat(tools.tools()).extracting(McpSchema.Tool::name).contains("fx__echo", "fx__progress");
    assertThat(tools.cacheScope()).isEqualTo(McpSchema.CacheScope.PRIVATE);
    assertThat(tools.ttlMs()).isNotNull();
    assertThat(((McpSchema.TextContent) echo.content().get(0)).text()).isEqualTo("modern hello");
    assertThat(tools.tools()).extracting(McpSchema.Tool::name).doesNotContain("fx__changed");
    assertThatThrownBy(() -> client.tool("fx__echo").arguments(Map.of("text", "a secret")).call())
        .isInstanceOfSatisfying(McpException.class, e -> {
          assertThat(e.error().code()).isEqualTo(-32012);
          assertThat(e.error().message()).contains("no secrets in echoes");
        });
  }

  @Test
  void sdkModernClient_getsProgressOnTheRequestsOwnStream() {
    McpSyncClient client = modernClient(fixture.bob.secret());
    List<McpSchema.ProgressParams> progress = new CopyOnWriteArrayList<>();

    McpSchema.CallToolResult result = client.tool("fx__progress").arguments(Map.of()).progress(progress::add).call();

    assertThat(((McpSchema.TextContent) result.content().get(0)).text()).isEqualTo("progressed");
    Conditions.await("both progress notifications reach the client", () -> progress.size() == 2);
  }

  // ---- headers against the body -----------------------------------------------------------

  @Test
  void headerNamesOneTool_bodyAnother_isRefusedWithMinus32020_andNeitherIsCalled() {
    HttpResponse<String> response = post(call(1, "fx__changed", "hostile-1"),
        "MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call", "Mcp-Name", "fx__echo");
    HttpResponse<String> reverse = post(call(2, "fx__echo", "hostile-2"),
        "MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call", "Mcp-Name", "fx__changed");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).path("error").path("code").asInt()).isEqualTo(-32020);
    assertThat(json(response).path("id").asInt()).isEqualTo(1);
    assertThat(reverse.statusCode()).isEqualTo(400);
    assertThat(json(reverse).path("error").path("code").asInt()).isEqualTo(-32020);
    assertThat(calls("fx__echo", "hostile-")).isZero();
    assertThat(calls("fx__changed", "hostile-")).isZero();
    assertThat(refusedWith("Mcp-Name header does not match params.name")).hasSizeGreaterThanOrEqualTo(2);
  }

  @Test
  void matchingHeaders_theBodyDecides_allowedIsServedAndDeniedIsDenied() {
    HttpResponse<String> allowed = post(call(3, "fx__echo", "decided by the body"),
        "MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call", "Mcp-Name", "fx__echo");
    HttpResponse<String> denied = post(call(4, "fx__changed", "x"),
        "MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call", "Mcp-Name", "fx__changed");

    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.headers().firstValue("Mcp-Session-Id")).isEmpty();
    JsonNode result = json(allowed).path("result");
    assertThat(result.path("content").get(0).path("text").asString()).isEqualTo("decided by the body");
    assertThat(result.path("resultType").asString()).isEqualTo("complete");
    assertThat(result.path("_meta").path("io.modelcontextprotocol/serverInfo").path("name").asString()).isNotEmpty();
    assertThat(denied.statusCode()).isEqualTo(200);
    assertThat(json(denied).path("error").path("code").asInt()).isEqualTo(-32012);
  }

  @Test
  void missingOrDoubledHeaders_areRefusedWithMinus32020() {
    ObjectNode echo = call(5, "fx__echo", "missing-headers");
    List<String[]> cases = List.of(
        new String[] {"Mcp-Method", "tools/call", "Mcp-Name", "fx__echo"},
        new String[] {"MCP-Protocol-Version", VERSION, "Mcp-Name", "fx__echo"},
        new String[] {"MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call"},
        new String[] {"MCP-Protocol-Version", "2025-11-25", "Mcp-Method", "tools/call", "Mcp-Name", "fx__echo"},
        new String[] {"MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/list", "Mcp-Name", "fx__echo"},
        new String[] {"MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call", "Mcp-Name", "fx__echo",
            "Mcp-Name", "fx__echo"},
        new String[] {"MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call", "Mcp-Name", "=?base64?!!!?="},
        // "fx__echo" in Base64 without its padding (ZnhfX2VjaG8=): the specification's table refuses it.
        new String[] {"MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call", "Mcp-Name", "=?base64?ZnhfX2VjaG8?="});

    for (String[] headers : cases) {
      HttpResponse<String> response = post(echo, headers);
      assertThat(response.statusCode()).as(String.join(" ", headers)).isEqualTo(400);
      assertThat(json(response).path("error").path("code").asInt()).as(String.join(" ", headers)).isEqualTo(-32020);
    }
    assertThat(calls("fx__echo", "missing-headers")).isZero();
  }

  @Test
  void base64Name_isDecodedBeforeItIsCompared() {
    String encoded = "=?base64?" + Base64.getEncoder().encodeToString("fx__echo".getBytes(StandardCharsets.UTF_8)) + "?=";

    HttpResponse<String> response = post(call(6, "fx__echo", "encoded name"),
        "MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call", "Mcp-Name", encoded);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).path("result").path("content").get(0).path("text").asString()).isEqualTo("encoded name");
  }

  // ---- subscriptions/listen --------------------------------------------------------------

  @Test
  void sdkModernClient_listensForToolListChanges_andGetsThemOnItsSubscription() {
    McpSyncClient client = modernClient(fixture.bob.secret());
    List<io.modelcontextprotocol.modern.client.SubscriptionEvent> events = new CopyOnWriteArrayList<>();
    McpSyncClient.Listening listening = client.listen().toolsChanged().open(events::add);
    try {
      Conditions.await("the subscription is acknowledged", () -> events.stream()
          .anyMatch(event -> event instanceof io.modelcontextprotocol.modern.client.SubscriptionEvent.Subscribed));

      client.tool("fx__changed").arguments(Map.of("text", "x")).call();

      Conditions.await("the tool list change reaches the subscription", () -> events.stream()
          .anyMatch(event -> event instanceof io.modelcontextprotocol.modern.client.SubscriptionEvent.ToolsListChanged));
    } finally {
      listening.close();
    }
  }

  @Test
  void listen_withoutSse_isNotAcceptable() {
    ObjectNode listen = body(30, "subscriptions/listen", null, VERSION);
    ((ObjectNode) listen.get("params")).putObject("notifications").put("toolsListChanged", true);

    HttpResponse<String> response = post(listen, "MCP-Protocol-Version", VERSION, "Mcp-Method",
        "subscriptions/listen", "Accept", "application/json");

    assertThat(response.statusCode()).isEqualTo(406);
  }

  // ---- Mcp-Param-* headers ----------------------------------------------------------------

  private static ObjectNode region(int id, String region, Integer count) {
    ObjectNode params = Client.JSON.createObjectNode().put("name", "fx__region");
    ObjectNode arguments = params.putObject("arguments").put("region", region);
    if (count != null) {
      arguments.put("count", count);
    }
    return body(id, "tools/call", params, VERSION);
  }

  private static String[] regionHeaders(String... more) {
    List<String> headers = new ArrayList<>(List.of("MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call",
        "Mcp-Name", "fx__region"));
    headers.addAll(List.of(more));
    return headers.toArray(new String[0]);
  }

  @Test
  void sdkModernClient_mirrorsXMcpHeaderArguments_andTheGatewayAcceptsThem() {
    McpSyncClient client = modernClient(fixture.alice.secret());
    client.tools().list();

    McpSchema.CallToolResult result = client.tool("fx__region").arguments(Map.of("region", "us-west1", "count", 42))
        .call();

    assertThat(((McpSchema.TextContent) result.content().get(0)).text()).isEqualTo("region us-west1 count 42");
  }

  @Test
  void paramHeaderDisagreeingWithItsArgument_orMissing_isRefusedWithMinus32020_andNotForwarded() {
    HttpResponse<String> other = post(region(20, "param-eu-west1", 1), regionHeaders("Mcp-Param-Region", "us-west1",
        "Mcp-Param-Count", "1"));
    HttpResponse<String> missing = post(region(21, "param-us-west1", 1), regionHeaders("Mcp-Param-Count", "1"));
    HttpResponse<String> withoutArgument = post(region(22, "param-us-west1", null),
        regionHeaders("Mcp-Param-Region", "param-us-west1", "Mcp-Param-Count", "7"));

    for (HttpResponse<String> response : List.of(other, missing, withoutArgument)) {
      assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
      assertThat(json(response).path("error").path("code").asInt()).isEqualTo(-32020);
    }
    assertThat(calls("fx__region", "param-")).isZero();
    assertThat(refusedWith("Mcp-Param-region header does not match")).isNotEmpty();
  }

  @Test
  void paramHeaders_inBase64AndAsEqualNumbers_match() {
    String encoded = "=?base64?" + Base64.getEncoder().encodeToString(" zürich ".getBytes(StandardCharsets.UTF_8)) + "?=";

    HttpResponse<String> response = post(region(23, " zürich ", 42),
        regionHeaders("Mcp-Param-Region", encoded, "mcp-param-count", "42.0"));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(json(response).path("result").path("content").get(0).path("text").asString())
        .isEqualTo("region  zürich  count 42");
  }

  // ---- bad input --------------------------------------------------------------------------

  @Test
  void unknownVersion_isRefusedWithMinus32022ListingTheSupportedOnes_andRecorded() {
    HttpResponse<String> response = post(body(7, "tools/list", null, "1900-01-01"),
        "MCP-Protocol-Version", "1900-01-01", "Mcp-Method", "tools/list");

    assertThat(response.statusCode()).isEqualTo(400);
    JsonNode error = json(response).path("error");
    assertThat(error.path("code").asInt()).isEqualTo(-32022);
    assertThat(error.path("data").path("supported").toString()).contains(VERSION, "2025-11-25");
    assertThat(error.path("data").path("requested").asString()).isEqualTo("1900-01-01");
    assertThat(refusedWith("1900-01-01")).isNotEmpty();
  }

  @Test
  void versionHeaderDisagreeingWithMeta_isMinus32020_evenWhenTheMetaNamesAnUnknownVersion() {
    HttpResponse<String> response = post(body(14, "tools/list", null, "v999.0.0"),
        "MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/list");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).path("error").path("code").asInt()).isEqualTo(-32020);
    assertThat(json(response).path("id").asInt()).isEqualTo(14);
    assertThat(refusedWith("MCP-Protocol-Version header does not match")).isNotEmpty();
  }

  @Test
  void malformedOrMissingMeta_isRefusedWithMinus32602_andRecorded() {
    ObjectNode stringMeta = body(8, "tools/list", null, VERSION);
    ((ObjectNode) stringMeta.get("params")).put("_meta", "not an object");
    ObjectNode noCapabilities = body(9, "tools/list", null, VERSION);
    ((ObjectNode) noCapabilities.get("params").get("_meta")).remove("io.modelcontextprotocol/clientCapabilities");
    ObjectNode noVersion = body(10, "tools/list", null, VERSION);
    ((ObjectNode) noVersion.get("params").get("_meta")).remove("io.modelcontextprotocol/protocolVersion");

    for (ObjectNode bad : List.of(stringMeta, noCapabilities, noVersion)) {
      HttpResponse<String> response = post(bad, "MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/list");
      assertThat(response.statusCode()).as("%s", bad).isEqualTo(400);
      assertThat(json(response).path("error").path("code").asInt()).as("%s", bad).isEqualTo(-32602);
    }
    assertThat(refusedWith("invalid params: params._meta")).hasSizeGreaterThanOrEqualTo(3);
  }

  @Test
  void statelessRequestOnASessionId_isRefused_andTheSessionIsStillServed() {
    Client legacy = new Client(endpoint(), fixture.alice.secret());
    legacy.initialize();

    HttpResponse<String> response = legacy.post(call(11, "fx__echo", "on a session").toString(),
        "MCP-Protocol-Version", VERSION, "Mcp-Method", "tools/call", "Mcp-Name", "fx__echo");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).path("error").path("code").asInt()).isEqualTo(-32600);
    assertThat(calls("fx__echo", "on a session")).isZero();
    assertThat(refusedWith("has no session")).isNotEmpty();
    legacy.assertStillServed();
  }

  @Test
  void initializeMixedIntoAStatelessExchange_isRefused_andOpensNoSession() {
    ObjectNode params = Client.JSON.createObjectNode().put("protocolVersion", "2025-11-25");
    params.putObject("capabilities");
    params.putObject("clientInfo").put("name", "mixed").put("version", "1");

    HttpResponse<String> response = post(body(12, "initialize", params, VERSION),
        "MCP-Protocol-Version", VERSION, "Mcp-Method", "initialize");

    // 2026-07-28 removed initialize: like every method a server does not implement, 404 and -32601.
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(json(response).path("error").path("code").asInt()).isEqualTo(-32601);
    assertThat(response.headers().firstValue("Mcp-Session-Id")).isEmpty();
    assertThat(refusedWith("initialize is not part of MCP 2026-07-28")).isNotEmpty();
  }

  @Test
  void removedMethods_areNotFound404() {
    for (String method : List.of("ping", "logging/setLevel", "resources/subscribe")) {
      HttpResponse<String> response = post(body(13, method, null, VERSION),
          "MCP-Protocol-Version", VERSION, "Mcp-Method", method);
      assertThat(response.statusCode()).as(method).isEqualTo(404);
      assertThat(json(response).path("error").path("code").asInt()).as(method).isEqualTo(-32601);
    }
  }

  @Test
  void taskOperations_mirrorTheirTaskIdInMcpName_andATaskNotTheCallers_isAnUnknownTask() {
    ObjectNode get = body(21, "tasks/get", Client.JSON.createObjectNode().put("taskId", "sentinel-task-forged"), VERSION);
    ((ObjectNode) get.path("params").path("_meta").path("io.modelcontextprotocol/clientCapabilities"))
        .putObject("extensions").putObject("io.modelcontextprotocol/tasks");

    HttpResponse<String> mismatched = post(get, "MCP-Protocol-Version", VERSION, "Mcp-Method", "tasks/get",
        "Mcp-Name", "sentinel-task-other");
    HttpResponse<String> missing = post(get, "MCP-Protocol-Version", VERSION, "Mcp-Method", "tasks/get");
    HttpResponse<String> matching = post(get, "MCP-Protocol-Version", VERSION, "Mcp-Method", "tasks/get",
        "Mcp-Name", "sentinel-task-forged");

    for (HttpResponse<String> refused : List.of(mismatched, missing)) {
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
      assertThat(json(refused).path("error").path("code").asInt()).isEqualTo(-32020);
    }
    assertThat(json(matching).path("error").path("code").asInt()).as(matching.body()).isEqualTo(-32602);
    assertThat(json(matching).path("error").path("message").asString()).startsWith("unknown task");
    assertThat(refusedWith("Mcp-Name header does not match params.taskId")).isNotEmpty();
    // The extension's second revision removed these: not found, as any method Sentinel does not serve.
    for (String method : List.of("tasks/result", "tasks/list")) {
      HttpResponse<String> response = post(body(22, method, null, VERSION),
          "MCP-Protocol-Version", VERSION, "Mcp-Method", method);
      assertThat(response.statusCode()).as(method).isEqualTo(404);
      assertThat(json(response).path("error").path("code").asInt()).as(method).isEqualTo(-32601);
    }
  }

  @Test
  void legacyRequestWithoutSession_getsWhatItGotBefore() {
    HttpResponse<String> response = new Client(endpoint(), fixture.alice.secret())
        .post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).path("error").path("code").asInt()).isEqualTo(-32600);
    assertThat(json(response).path("error").path("message").asString()).contains("Mcp-Session-Id");
  }
}
