package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** MCP 2026-07-28 clients: no initialize, {@code _meta} on every request, on one long-lived session (stdio). */
class StatelessClientTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private GatewayFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private GatewayFixture start(ScriptedServer... servers) {
    fixture = new GatewayFixture(List.of(servers), builder -> {});
    return fixture;
  }

  /** Params with the per-request fields a 2026-07-28 client sends. */
  static ObjectNode params(String version) {
    ObjectNode params = NODES.objectNode();
    ObjectNode meta = params.putObject("_meta");
    meta.put(StatelessMeta.PROTOCOL_VERSION, version);
    meta.putObject(StatelessMeta.CLIENT_CAPABILITIES);
    meta.putObject(StatelessMeta.CLIENT_INFO).put("name", "modern").put("version", "2.0");
    return params;
  }

  static ObjectNode params() {
    return params("2026-07-28");
  }

  private static List<String> names(JsonNode items) {
    List<String> names = new ArrayList<>();
    items.forEach(item -> names.add(item.path("name").asString()));
    return names;
  }

  private List<AuditEvent> refusals(String rule) {
    List<AuditEvent> found = new ArrayList<>();
    for (AuditEvent event : fixture.trail()) {
      if (event.rules() != null && event.rules().contains(rule)) {
        found.add(event);
      }
    }
    return found;
  }

  @Test
  void request_withMetaAndNoInitialize_isServedWithResultTypeServerInfoAndCachingHints() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    start(alpha);
    ScriptedClient client = fixture.client();

    JsonRpcMessage list = client.call("tools/list", params());
    ObjectNode call = params().put("name", "alpha__echo");
    call.putObject("arguments");
    JsonRpcMessage result = client.call("tools/call", call);

    assertThat(list.kind()).as("%s", list.raw()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(names(list.result().path("tools"))).containsExactly("alpha__echo");
    assertThat(list.result().path("resultType").asString()).isEqualTo("complete");
    assertThat(list.result().path("ttlMs").asLong(-1)).isZero();
    assertThat(list.result().path("cacheScope").asString()).isEqualTo("private");
    assertThat(list.result().path("_meta").path(StatelessMeta.SERVER_INFO).path("name").asString())
        .isEqualTo("sentinel-test");
    assertThat(result.result().path("resultType").asString()).isEqualTo("complete");
    assertThat(result.result().path("content").get(0).path("text").asString()).isEqualTo("alpha:echo");
    assertThat(result.result().has("ttlMs")).isFalse();
    assertThat(client.session.protocolVersion()).isNull();
  }

  @Test
  void call_forwardsNoneOfTheClientHopsMetaToTheBackend() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    start(alpha);
    ScriptedClient client = fixture.client();
    ObjectNode call = params().put("name", "alpha__echo");
    call.putObject("arguments");
    ((ObjectNode) call.get("_meta")).put("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

    client.call("tools/call", call);

    JsonNode forwarded = alpha.received("tools/call").get(0).params().path("_meta");
    assertThat(forwarded.has(StatelessMeta.PROTOCOL_VERSION)).isFalse();
    assertThat(forwarded.has(StatelessMeta.CLIENT_CAPABILITIES)).isFalse();
    assertThat(forwarded.has(StatelessMeta.CLIENT_INFO)).isFalse();
    assertThat(forwarded.path("traceparent").asString()).startsWith("00-0af7");
  }

  @Test
  void list_forStatelessClients_isSortedWhileOlderClientsKeepTheBackendsOrder() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("zeta", "beta", "alpha");
    start(alpha);
    ScriptedClient modern = fixture.client();
    ScriptedClient legacy = fixture.client();
    legacy.initialize();

    JsonRpcMessage sorted = modern.call("tools/list", params());
    JsonRpcMessage asListed = legacy.call("tools/list", NODES.objectNode());

    assertThat(names(sorted.result().path("tools"))).containsExactly("alpha__alpha", "alpha__beta", "alpha__zeta");
    assertThat(names(asListed.result().path("tools"))).containsExactly("alpha__zeta", "alpha__beta", "alpha__alpha");
    assertThat(asListed.result().has("resultType")).isFalse();
    assertThat(asListed.result().has("cacheScope")).isFalse();
  }

  @Test
  void discover_showsTheVersionsAndOnlyWhatThePrincipalMayUse() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    alpha.instructions = "alpha's instructions";
    ScriptedServer beta = new ScriptedServer("beta").withTools("echo");
    beta.capability("prompts");
    beta.prompts.add(NODES.objectNode().put("name", "greet"));
    beta.instructions = "beta's instructions";
    fixture = new GatewayFixture(String.join("\n",
        "roles:", "  user: {}", "rules:", "  - id: alpha-only", "    allow: { tools: [\"alpha__*\"] }", ""),
        List.of(alpha, beta), builder -> {});
    ScriptedClient client = fixture.client();

    JsonRpcMessage discovered = client.call("server/discover", params());

    JsonNode result = discovered.result();
    assertThat(discovered.kind()).as("%s", discovered.raw()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(result.path("supportedVersions").get(0).asString()).isEqualTo("2026-07-28");
    assertThat(result.path("supportedVersions").toString()).contains("2025-11-25", "2024-11-05");
    assertThat(result.path("capabilities").has("tools")).isTrue();
    assertThat(result.path("capabilities").has("prompts")).isFalse();
    assertThat(result.path("capabilities").path("tools").has("listChanged")).isFalse();
    assertThat(result.path("instructions").asString()).contains("alpha's").doesNotContain("beta's");
    assertThat(result.path("resultType").asString()).isEqualTo("complete");
    assertThat(result.path("cacheScope").asString()).isEqualTo("private");
    assertThat(result.has("ttlMs")).isTrue();
  }

  @Test
  void request_withUnsupportedVersion_isRefusedWithMinus32022AndRecorded_nothingForwarded() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    start(alpha);
    ScriptedClient client = fixture.client();
    ObjectNode call = params("1900-01-01").put("name", "alpha__echo");

    JsonRpcMessage answer = client.call("tools/call", call);

    assertThat(answer.error().path("code").asInt()).isEqualTo(-32022);
    assertThat(answer.error().path("data").path("requested").asString()).isEqualTo("1900-01-01");
    assertThat(answer.error().path("data").path("supported").get(0).asString()).isEqualTo("2026-07-28");
    assertThat(alpha.received("tools/call")).isEmpty();
    List<AuditEvent> refused = refusals(StatelessMeta.RULE);
    assertThat(refused).hasSize(1);
    assertThat(refused.get(0).outcome()).isEqualTo(Outcome.DENIED);
    assertThat(refused.get(0).method()).isEqualTo("tools/call");
  }

  @Test
  void request_withMalformedMeta_isRefusedWithMinus32602AndRecorded() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    start(alpha);
    ScriptedClient client = fixture.client();
    ObjectNode noCapabilities = params();
    ((ObjectNode) noCapabilities.get("_meta")).remove(StatelessMeta.CLIENT_CAPABILITIES);
    ObjectNode badLevel = params();
    ((ObjectNode) badLevel.get("_meta")).put(StatelessMeta.LOG_LEVEL, "loud");
    ObjectNode badInfo = params();
    ((ObjectNode) badInfo.get("_meta")).put(StatelessMeta.CLIENT_INFO, 7);

    for (ObjectNode bad : List.of(noCapabilities, badLevel, badInfo)) {
      JsonRpcMessage answer = client.call("tools/list", bad);
      assertThat(answer.error().path("code").asInt()).as("%s", bad).isEqualTo(-32602);
    }

    assertThat(alpha.received("tools/list")).isEmpty();
    assertThat(refusals(StatelessMeta.RULE)).hasSize(3);
  }

  @Test
  void initialize_afterAStatelessRequest_orCarryingMeta_isRefusedAndRecorded() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    start(alpha);
    ScriptedClient mixed = fixture.client();
    ObjectNode initialize = params().put("protocolVersion", "2025-11-25");
    initialize.putObject("capabilities");
    initialize.putObject("clientInfo").put("name", "x").put("version", "1");
    ScriptedClient after = fixture.client();
    after.call("tools/list", params());
    ObjectNode plain = initialize.deepCopy();
    plain.remove("_meta");

    JsonRpcMessage withMeta = mixed.call("initialize", initialize);
    JsonRpcMessage late = after.call("initialize", plain);

    // initialize carrying 2026-07-28 _meta is a method that revision removed; a plain one after
    // stateless requests is a request that does not fit the connection.
    assertThat(withMeta.error().path("code").asInt()).isEqualTo(-32601);
    assertThat(late.error().path("code").asInt()).isEqualTo(-32600);
    assertThat(mixed.session.protocolVersion()).isNull();
    assertThat(after.session.protocolVersion()).isNull();
    assertThat(refusals(StatelessMeta.RULE)).hasSize(2);
  }

  @Test
  void removedMethods_forStatelessClients_areNotFound() {
    start(new ScriptedServer("alpha").withTools("echo"));
    ScriptedClient client = fixture.client();

    for (String method : List.of("ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe")) {
      JsonRpcMessage answer = client.call(method, params());
      assertThat(answer.error().path("code").asInt()).as(method).isEqualTo(-32601);
    }
  }

  @Test
  void request_withoutMetaOrInitialize_getsWhatItGotBefore() {
    start(new ScriptedServer("alpha").withTools("echo"));
    ScriptedClient client = fixture.client();

    JsonRpcMessage answer = client.call("tools/list", NODES.objectNode());

    assertThat(answer.error().path("code").asInt()).isEqualTo(-32600);
    assertThat(answer.error().path("message").asString()).contains("not initialized");
  }

  @Test
  void legacySession_ignoresStatelessMeta_andAnswersAsBefore() {
    start(new ScriptedServer("alpha").withTools("echo"));
    ScriptedClient client = fixture.client();
    client.initialize();

    JsonRpcMessage answer = client.call("tools/list", params());
    JsonRpcMessage discover = client.call("server/discover", params());
    JsonRpcMessage listen = client.call("subscriptions/listen", params());

    assertThat(names(answer.result().path("tools"))).containsExactly("alpha__echo");
    assertThat(answer.result().has("resultType")).isFalse();
    assertThat(discover.error().path("code").asInt()).isEqualTo(-32601);
    assertThat(listen.error().path("code").asInt()).isEqualTo(-32601);
  }

  @Test
  void resourceNotFound_isMinus32602ForStatelessClients_andMinus32002ForOlderOnes() {
    ScriptedServer alpha = new ScriptedServer("alpha");
    alpha.capability("resources");
    alpha.resources.add(NODES.objectNode().put("uri", "res://gone").put("name", "gone"));
    alpha.handlers.put("resources/read", message ->
        JsonRpc.error(message.id(), -32002, "Resource not found", null));
    start(alpha);
    ScriptedClient modern = fixture.client();
    ScriptedClient legacy = fixture.client();
    legacy.initialize();
    modern.call("resources/list", params());
    legacy.call("resources/list", NODES.objectNode());

    JsonRpcMessage stateless = modern.call("resources/read", params().put("uri", "res://gone"));
    JsonRpcMessage older = legacy.call("resources/read", NODES.objectNode().put("uri", "res://gone"));

    assertThat(stateless.error().path("code").asInt()).as("%s", stateless.raw()).isEqualTo(-32602);
    assertThat(older.error().path("code").asInt()).isEqualTo(-32002);
  }

  @Test
  void logMessages_reachAStatelessRequestOnlyWhenItAskedForTheirLevel() throws Exception {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo", "quiet");
    alpha.capability("logging");
    alpha.handlers.put("tools/call", message -> {
      alpha.send(JsonRpc.notification("notifications/message",
          NODES.objectNode().put("level", "info").put("data", "for " + message.params().path("name").asString())));
      alpha.send(JsonRpc.notification("notifications/message",
          NODES.objectNode().put("level", "debug").put("data", "too low")));
      return alpha.standard(alpha.handlingConnection(), message);
    });
    start(alpha);
    ScriptedClient client = fixture.client();
    ObjectNode asks = params().put("name", "alpha__echo");
    asks.putObject("arguments");
    ((ObjectNode) asks.get("_meta")).put(StatelessMeta.LOG_LEVEL, "info");
    ObjectNode silent = params().put("name", "alpha__quiet");
    silent.putObject("arguments");

    client.call("tools/call", silent);
    client.call("tools/call", asks);

    List<JsonRpcMessage> logs = client.notifications("notifications/message");
    assertThat(logs).hasSize(1);
    assertThat(logs.get(0).params().path("data").asString()).isEqualTo("for echo");
    assertThat(alpha.received("logging/setLevel")).hasSize(1);
  }

  @Test
  void backendNeedingACapabilityTheClientDidNotDeclare_answersMinus32021_andTheBackendGetsAnError() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("think");
    java.util.concurrent.CompletableFuture<JsonRpcMessage> sampling = new java.util.concurrent.CompletableFuture<>();
    alpha.handlers.put("tools/call", request -> {
      alpha.request("sampling/createMessage", NODES.objectNode().put("maxTokens", 5)).thenAccept(answer -> {
        sampling.complete(answer);
        alpha.send(JsonRpc.result(request.id(), NODES.objectNode().put("text", "without sampling")));
      });
      return null;
    });
    start(alpha);
    ScriptedClient client = fixture.client();
    ObjectNode call = params().put("name", "alpha__think");
    call.putObject("arguments");

    JsonRpcMessage answer = client.call("tools/call", call);

    assertThat(answer.error().path("code").asInt()).as("%s", answer.raw()).isEqualTo(-32021);
    assertThat(answer.error().path("data").path("requiredCapabilities").has("sampling")).isTrue();
    assertThat(ScriptedClient.await(sampling).error().path("code").asInt()).isEqualTo(-32601);
    assertThat(client.requests).isEmpty();
  }

  @Test
  void backendAskingForRootsDuringACall_orAnythingDuringAList_doesNotFailTheRequestWithMinus32021() {
    // Servers ask for roots on their own (server-everything does once initialized), and a list
    // never needs a client capability: neither is a sign that the request in flight needs one.
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    java.util.concurrent.CompletableFuture<JsonRpcMessage> roots = new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.CompletableFuture<JsonRpcMessage> sampling = new java.util.concurrent.CompletableFuture<>();
    alpha.handlers.put("tools/call", request -> {
      alpha.request("roots/list", NODES.objectNode()).thenAccept(answer -> {
        roots.complete(answer);
        ObjectNode result = NODES.objectNode();
        result.putArray("content").addObject().put("type", "text").put("text", "echoed");
        alpha.send(JsonRpc.result(request.id(), result));
      });
      return null;
    });
    alpha.handlers.put("prompts/list", request -> {
      alpha.request("sampling/createMessage", NODES.objectNode().put("maxTokens", 5)).thenAccept(answer -> {
        sampling.complete(answer);
        alpha.send(JsonRpc.result(request.id(), NODES.objectNode().set("prompts", NODES.arrayNode())));
      });
      return null;
    });
    alpha.capability("prompts");
    start(alpha);
    ScriptedClient client = fixture.client();
    ObjectNode call = params().put("name", "alpha__echo");
    call.putObject("arguments").put("text", "hi");

    JsonRpcMessage called = client.call("tools/call", call);
    JsonRpcMessage listed = client.call("prompts/list", params());

    assertThat(called.raw().has("error")).as("%s", called.raw()).isFalse();
    assertThat(called.raw().path("result").path("content").get(0).path("text").asString()).isEqualTo("echoed");
    assertThat(listed.raw().has("error")).as("%s", listed.raw()).isFalse();
    assertThat(ScriptedClient.await(roots).error().path("code").asInt()).isEqualTo(-32601);
    assertThat(ScriptedClient.await(sampling).error().path("code").asInt()).isEqualTo(-32601);
  }

  @Test
  void listen_isAcknowledged_thenCarriesOnlyTheListChangesAskedFor_untilCancelled() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    alpha.capability("prompts");
    start(alpha);
    ScriptedClient client = fixture.client();
    client.call("tools/list", params());
    ObjectNode listen = params();
    listen.putObject("notifications").put("toolsListChanged", true).putArray("resourceSubscriptions").add("x://y");
    java.util.concurrent.CompletableFuture<JsonRpcMessage> answer = client.request(NODES.stringNode("sub-1"),
        "subscriptions/listen", listen);
    dev.sentinel.core.testing.Conditions.await("the subscription is acknowledged",
        () -> !client.notifications("notifications/subscriptions/acknowledged").isEmpty());

    alpha.send(JsonRpc.notification("notifications/prompts/list_changed", null));
    alpha.send(JsonRpc.notification("notifications/tools/list_changed", null));
    dev.sentinel.core.testing.Conditions.await("the tool list change arrives",
        () -> !client.notifications("notifications/tools/list_changed").isEmpty());
    client.send(JsonRpc.notification("notifications/cancelled", NODES.objectNode().put("requestId", "sub-1")));
    client.call("tools/list", params());
    alpha.send(JsonRpc.notification("notifications/tools/list_changed", null));
    client.call("tools/list", params());

    JsonRpcMessage ack = client.notifications("notifications/subscriptions/acknowledged").get(0);
    assertThat(ack.params().path("_meta").path(StatelessMeta.SUBSCRIPTION_ID).asString()).isEqualTo("sub-1");
    assertThat(ack.params().path("notifications").path("toolsListChanged").asBoolean()).isTrue();
    assertThat(ack.params().path("notifications").has("resourceSubscriptions")).isFalse();
    List<JsonRpcMessage> changes = client.notifications("notifications/tools/list_changed");
    assertThat(changes).hasSize(1);
    assertThat(changes.get(0).params().path("_meta").path(StatelessMeta.SUBSCRIPTION_ID).asString()).isEqualTo("sub-1");
    assertThat(client.notifications("notifications/prompts/list_changed")).isEmpty();
    assertThat(answer).isNotDone();
  }

  @Test
  void listen_withResourceSubscriptions_subscribesAtTheBackend_andCarriesOnlyThoseUpdates() {
    ScriptedServer alpha = new ScriptedServer("alpha");
    alpha.capabilities.putObject("resources").put("subscribe", true);
    alpha.resources.add(NODES.objectNode().put("uri", "res://a").put("name", "a"));
    alpha.resources.add(NODES.objectNode().put("uri", "res://b").put("name", "b"));
    start(alpha);
    ScriptedClient client = fixture.client();
    client.call("resources/list", params());
    ObjectNode listen = params();
    listen.putObject("notifications").putArray("resourceSubscriptions").add("res://a").add("nowhere://x");
    client.request(NODES.numberNode(77), "subscriptions/listen", listen);
    dev.sentinel.core.testing.Conditions.await("the subscription is acknowledged",
        () -> !client.notifications("notifications/subscriptions/acknowledged").isEmpty());

    alpha.send(JsonRpc.notification("notifications/resources/updated", NODES.objectNode().put("uri", "res://b")));
    alpha.send(JsonRpc.notification("notifications/resources/updated", NODES.objectNode().put("uri", "res://a")));
    dev.sentinel.core.testing.Conditions.await("the update arrives",
        () -> !client.notifications("notifications/resources/updated").isEmpty());
    client.call("resources/list", params());

    JsonNode agreed = client.notifications("notifications/subscriptions/acknowledged").get(0).params().path("notifications");
    assertThat(agreed.path("resourceSubscriptions").toString()).isEqualTo("[\"res://a\"]");
    // nowhere://x is routed to the one backend too, which does not know it: left out.
    assertThat(alpha.received("resources/subscribe")).extracting(message -> message.params().path("uri").asString())
        .containsExactly("res://a", "nowhere://x");
    List<JsonRpcMessage> updates = client.notifications("notifications/resources/updated");
    assertThat(updates).hasSize(1);
    assertThat(updates.get(0).params().path("uri").asString()).isEqualTo("res://a");
    assertThat(updates.get(0).params().path("_meta").path(StatelessMeta.SUBSCRIPTION_ID).asInt()).isEqualTo(77);
  }
}
