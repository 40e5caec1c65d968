package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.core.config.BackendOptions;
import dev.sentinel.core.config.Validation;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.transport.InProcessTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Arguments checked against the tool's {@code inputSchema} before the policy decides, tried as
 * an attacker would: a deny rule on {@code /sql} walked around with an alias key, a number sent
 * as a string the backend would coerce, a schema that asks the gateway to fetch a URL, a schema
 * swapped after it was listed, a schema built to exhaust the gateway, a tool nobody listed.
 */
class SchemaValidationTest {
  private static final String POLICY = String.join("\n",
      "roles:",
      "  user: {}",
      "rules:",
      "  - id: everything",
      "    allow: {}",
      "  - id: no-destructive-sql",
      "    deny: { tools: [\"db__query\"], when: { \"/sql\": { regex: \"(?i)\\\\b(drop|delete)\\\\b\" } } }",
      "    reason: destructive SQL is not allowed",
      "  - id: small-payments",
      "    deny: { tools: [\"db__pay\"], when: { \"/amount\": { gt: 1000 } } }",
      "    reason: payments over 1000 need a human",
      "");
  private static final String QUERY = "{\"type\":\"object\",\"properties\":{\"sql\":{\"type\":\"string\"}},"
      + "\"required\":[\"sql\"],\"additionalProperties\":false}";
  private static final String PAY = "{\"type\":\"object\",\"properties\":{\"amount\":{\"type\":\"number\"},"
      + "\"to\":{\"type\":\"string\"},\"payment\":{\"type\":\"object\",\"properties\":{\"amount\":{\"type\":\"number\"}}}},"
      + "\"required\":[\"amount\",\"to\"],\"additionalProperties\":false}";

  private GatewayFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private ScriptedClient start(ScriptedServer server, BackendOptions options) {
    return start(POLICY, server, options);
  }

  private ScriptedClient start(String policy, ScriptedServer server, BackendOptions options) {
    Consumer<McpGateway.Builder> none = builder -> builder.backend(server.name, server::connect, options);
    fixture = new GatewayFixture(policy, List.of(), none);
    fixture.servers.add(server);
    ScriptedClient client = fixture.client();
    client.initialize();
    return client;
  }

  private static ScriptedServer db() {
    return new ScriptedServer("db").withTool("query", QUERY).withTool("pay", PAY).withTool("refund", PAY);
  }

  private static ObjectNode call(String tool, String arguments) {
    ObjectNode params = ScriptedClient.NODES.objectNode().put("name", tool);
    params.set("arguments", JsonMapper.shared().readTree(arguments));
    return params;
  }

  private static String message(JsonRpcMessage answer) {
    return answer.error().path("message").asString("");
  }

  private AuditEvent lastCall() {
    List<AuditEvent> trail = fixture.trail();
    return trail.stream().filter(e -> "tools/call".equals(e.method())).reduce((a, b) -> b).orElseThrow();
  }

  @Test
  void aliasKey_walkingAroundADenyOnSql_isRefusedAndNeverForwarded() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);

    JsonRpcMessage answer = client.call("tools/call", call("db__query", "{\"SQL\":\"DROP TABLE users\"}"));

    assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(answer.error().path("code").asInt()).isEqualTo(-32012);
    assertThat(message(answer)).contains("'SQL'").contains("additionalProperties");
    assertThat(answer.error().path("data").path("rules").get(0).asString()).isEqualTo("schema");
    assertThat(db.received("tools/call")).isEmpty();
    AuditEvent event = lastCall();
    assertThat(event.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(event.rules()).containsExactly("schema");
    assertThat(event.reason()).contains("arguments of 'db__query'").contains("(additionalProperties)");
  }

  @Test
  void validArguments_reachThePolicyAndTheBackend() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);

    JsonRpcMessage allowed = client.call("tools/call", call("db__query", "{\"sql\":\"select 1\"}"));
    JsonRpcMessage denied = client.call("tools/call", call("db__query", "{\"sql\":\"drop table users\"}"));

    assertThat(allowed.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(message(denied)).contains("destructive SQL");
    assertThat(db.received("tools/call")).hasSize(1);
  }

  @Test
  void numberSentAsAHexString_isRefusedNamingThePointerAndKeyword() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);

    JsonRpcMessage answer = client.call("tools/call", call("db__pay", "{\"amount\":\"0x1388\",\"to\":\"mallory\"}"));

    assertThat(message(answer)).contains("/amount: string found, number expected (type)");
    assertThat(db.received("tools/call")).isEmpty();
    assertThat(lastCall().rules()).containsExactly("schema");
  }

  @Test
  void nestedValue_isNamedByItsFullPointer() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);

    JsonRpcMessage answer = client.call("tools/call",
        call("db__pay", "{\"amount\":1,\"to\":\"bob\",\"payment\":{\"amount\":\"5000\"}}"));

    assertThat(message(answer)).contains("/payment/amount: string found, number expected (type)");
    assertThat(db.received("tools/call")).isEmpty();
  }

  @Test
  void schemaWithAnExternalRef_isNeverFetchedAndItsToolIsRefused() throws IOException {
    try (ServerSocketChannel listener = ServerSocketChannel.open()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      listener.configureBlocking(false);
      int port = listener.socket().getLocalPort();
      ScriptedServer evil = new ScriptedServer("db").withTool("query", "{\"type\":\"object\",\"properties\":"
          + "{\"sql\":{\"$ref\":\"http://127.0.0.1:" + port + "/schema.json\"}}}");
      ScriptedClient client = start(evil, BackendOptions.DEFAULTS);

      JsonRpcMessage answer = client.call("tools/call", call("db__query", "{\"sql\":\"select 1\"}"));

      assertThat(message(answer)).contains("cannot be compiled").contains("not allowed to be loaded");
      assertThat(evil.received("tools/call")).isEmpty();
      assertThat(listener.accept()).as("a connection to the URL the schema names").isNull();
    }
  }

  @Test
  void rugPull_listChangedThenANewSchema_isCheckedAgainstTheNewSchema() {
    ScriptedServer db = new ScriptedServer("db").withTool("refund", "{\"type\":\"object\","
        + "\"properties\":{\"amount\":{\"type\":\"string\"}}}");
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);
    JsonRpcMessage before = client.call("tools/call", call("db__refund", "{\"amount\":\"12\"}"));

    db.replaceSchema("refund", "{\"type\":\"object\",\"properties\":{\"amount\":{\"type\":\"number\"}},"
        + "\"additionalProperties\":false}");
    db.send(JsonRpc.notification("notifications/tools/list_changed", null));
    Conditions.await("the client hears of the change",
        () -> !client.notifications("notifications/tools/list_changed").isEmpty());
    JsonRpcMessage after = client.call("tools/call", call("db__refund", "{\"amount\":\"12\"}"));

    assertThat(before.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(message(after)).contains("/amount: string found, number expected");
    assertThat(db.received("tools/call")).hasSize(1);
    assertThat(db.received("tools/list")).hasSize(2);
  }

  @Test
  void schemaNestedTooDeep_isRefusedWithoutCompiling() {
    StringBuilder deep = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      deep.append("{\"type\":\"object\",\"properties\":{\"a\":");
    }
    deep.append("{\"type\":\"string\"}");
    for (int i = 0; i < 100; i++) {
      deep.append("}}");
    }
    ScriptedServer db = new ScriptedServer("db").withTool("query", deep.toString());
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);

    JsonRpcMessage answer = client.call("tools/call", call("db__query", "{}"));

    assertThat(message(answer)).contains("nests deeper than " + ToolSchema.MAX_DEPTH);
    assertThat(db.received("tools/call")).isEmpty();
  }

  @Test
  void schemaThatExpandsExponentiallyThroughRefs_isRefused() {
    StringBuilder defs = new StringBuilder("{\"type\":\"object\",\"properties\":{\"x\":{\"$ref\":\"#/$defs/d0\"}},\"$defs\":{");
    for (int i = 0; i < 40; i++) {
      defs.append("\"d").append(i).append("\":{\"anyOf\":[{\"$ref\":\"#/$defs/d").append(i + 1)
          .append("\"},{\"$ref\":\"#/$defs/d").append(i + 1).append("\"}]},");
    }
    defs.append("\"d40\":{\"type\":\"string\"}}}");
    ScriptedServer db = new ScriptedServer("db").withTool("query", defs.toString());
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);

    JsonRpcMessage answer = client.call("tools/call", call("db__query", "{\"x\":1}"));

    assertThat(message(answer)).contains("expands to more than");
    assertThat(db.received("tools/call")).isEmpty();
  }

  @Test
  void toolTheBackendDoesNotList_isRefusedUnderEnforceAfterListingAgain() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);

    JsonRpcMessage answer = client.call("tools/call", call("db__shadow", "{}"));

    assertThat(message(answer)).contains("tool 'shadow' is not listed by backend db");
    assertThat(db.received("tools/call")).isEmpty();
    assertThat(db.received("tools/list")).hasSize(1);
    assertThat(lastCall().rules()).containsExactly("schema");
  }

  @Test
  void toolAddedWithoutListChanged_isFoundByListingAgain() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);
    assertThat(client.call("tools/call", call("db__query", "{\"sql\":\"select 1\"}")).kind())
        .isEqualTo(JsonRpcMessage.Kind.RESULT);
    db.withTool("late", "{\"type\":\"object\"}");
    fixture.clock.advance(java.time.Duration.ofSeconds(6));

    JsonRpcMessage answer = client.call("tools/call", call("db__late", "{}"));

    assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(db.received("tools/list")).hasSize(2);
  }

  @Test
  void unknownToolNames_listTheToolsAgainAtMostEveryFewSeconds() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);

    for (int i = 0; i < 5; i++) {
      client.call("tools/call", call("db__guess" + i, "{}"));
    }

    assertThat(db.received("tools/list")).hasSize(1);
  }

  @Test
  void warnMode_forwardsInvalidArgumentsAndRecordsTheFinding() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS.withValidation(Validation.WARN));

    JsonRpcMessage answer = client.call("tools/call", call("db__refund", "{\"amount\":\"0x1388\",\"to\":\"x\"}"));

    assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(db.received("tools/call")).hasSize(1);
    AuditEvent event = lastCall();
    assertThat(event.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(event.errorClass()).isEqualTo("diagnostics");
    assertThat(event.errorMessage()).contains("schema: arguments of 'db__refund'")
        .contains("/amount: string found, number expected (type)");
  }

  @Test
  void warnMode_forwardsCallsOfAToolNobodyListed() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS.withValidation(Validation.WARN));

    JsonRpcMessage answer = client.call("tools/call", call("db__shadow", "{}"));

    assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(lastCall().errorMessage()).contains("not listed");
  }

  @Test
  void offMode_neitherListsNorChecks() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS.withValidation(Validation.OFF));

    JsonRpcMessage answer = client.call("tools/call", call("db__refund", "{\"amount\":\"0x1388\"}"));

    assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(db.received("tools/list")).isEmpty();
  }

  @Test
  void principalWhoMayNotUseTheTool_getsThePolicysRefusalNotTheSchemas() {
    String policy = "roles:\n  user: {}\nrules:\n  - id: only-query\n    allow: { tools: [\"db__query\"] }\n";
    ScriptedServer db = db();
    ScriptedClient client = start(policy, db, BackendOptions.DEFAULTS);

    JsonRpcMessage answer = client.call("tools/call", call("db__pay", "{\"amount\":\"0x1388\"}"));

    assertThat(message(answer)).doesNotContain("amount").doesNotContain("schema");
    assertThat(lastCall().rules()).doesNotContain("schema");
    assertThat(db.received("tools/call")).isEmpty();
  }

  @Test
  void isolatedSessions_areEachCheckedAgainstWhatTheirOwnConnectionListed() {
    ScriptedServer db = new ScriptedServer("db").withTool("refund", "{\"type\":\"object\","
        + "\"properties\":{\"amount\":{\"type\":\"number\"}},\"additionalProperties\":false}");
    ScriptedClient alice = start(db, BackendOptions.DEFAULTS);
    assertThat(alice.call("tools/list", null).result().path("tools")).hasSize(1);
    // The server's next connection lists a looser schema: it must not loosen the first session's checks.
    db.replaceSchema("refund", "{\"type\":\"object\"}");
    ScriptedClient bob = fixture.client(Credentials.launch());
    bob.initialize();

    JsonRpcMessage bobs = bob.call("tools/call", call("db__refund", "{\"amount\":\"1\",\"alias\":true}"));
    JsonRpcMessage alices = alice.call("tools/call", call("db__refund", "{\"amount\":\"1\",\"alias\":true}"));

    assertThat(bobs.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(message(alices)).contains("/amount: string found, number expected");
  }

  @Test
  void listChangedWhileTheGatewayListsForACall_theToolsAreListedAgain() {
    // server-everything says tools/list_changed after it starts, while the gateway may already
    // be listing for a session's first call (no tools/list from the client before). That
    // listing is stale, and the call must be checked against a fresh one, not refused as
    // unlisted (interop: "an API key as a bearer token works too").
    ScriptedServer db = db();
    Set<InProcessTransport> told = ConcurrentHashMap.newKeySet();
    db.handlers.put("tools/list", request -> {
      InProcessTransport connection = db.handlingConnection();
      if (told.add(connection)) {
        db.send(connection, JsonRpc.notification("notifications/tools/list_changed", null));
      }
      return db.standard(connection, request);
    });
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);

    JsonRpcMessage valid = client.call("tools/call", call("db__query", "{\"sql\":\"select 2\"}"));
    JsonRpcMessage invalid = client.call("tools/call", call("db__query", "{\"SQL\":\"drop table t\"}"));

    assertThat(valid.kind()).as(message(valid)).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(message(invalid)).contains("SQL");
    assertThat(db.received("tools/call")).hasSize(1);
    assertThat(db.received("tools/list")).hasSize(2);
  }

  @Test
  void callWithoutArguments_isValidatedAsAnEmptyObject() {
    ScriptedServer db = db();
    ScriptedClient client = start(db, BackendOptions.DEFAULTS);
    ObjectNode params = ScriptedClient.NODES.objectNode().put("name", "db__query");

    JsonRpcMessage answer = client.call("tools/call", params);

    assertThat(message(answer)).contains("required property 'sql' not found (required)");
  }

  static JsonNode json(String text) {
    return JsonMapper.shared().readTree(text);
  }
}
