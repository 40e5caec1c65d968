package dev.sentinel.mcp.engine;

import static dev.sentinel.mcp.engine.RoundTripMessages.accept;
import static dev.sentinel.mcp.engine.RoundTripMessages.call;
import static dev.sentinel.mcp.engine.RoundTripMessages.question;
import static dev.sentinel.mcp.engine.RoundTripMessages.retry;
import static dev.sentinel.mcp.engine.RoundTripMessages.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Backends that speak MCP 2026-07-28: found by the {@code server/discover} probe (an older
 * backend is initialized after it), reached with stateless requests that declare the client's
 * capabilities, and their questions ({@code input_required} results) governed on the way to
 * the client: passed to a 2026-07-28 client under the backend's keys with a state the gateway
 * signs around the backend's, and asked of an older client as requests of its session.
 */
class ModernBackendTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final ScriptedServer alpha = new ScriptedServer("alpha").withTools("greet", "echo");
  private final ScriptedServer beta = new ScriptedServer("beta").withTools("think");
  private GatewayFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private GatewayFixture start(Consumer<McpGateway.Builder> options) {
    alpha.modern = true;
    beta.modern = true;
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(alpha, beta), GatewayFixture.twoPrincipals(), options);
    return fixture;
  }

  /**
   * alpha's {@code greet} asks for a name under its own key {@code user_name}, with its own
   * state; given an answer and that state, it greets; it reports what it received.
   */
  private void greetAsks() {
    alpha.handlers.put("tools/call", request -> {
      JsonNode params = request.params();
      JsonNode answer = params.path("inputResponses").path("user_name");
      if (answer.isMissingNode()) {
        ObjectNode result = NODES.objectNode().put("resultType", "input_required");
        ObjectNode asked = result.putObject("inputRequests").putObject("user_name");
        asked.put("method", "elicitation/create");
        asked.set("params", question("Your name?"));
        result.put("requestState", "alpha-state-1");
        return JsonRpc.result(request.id(), result);
      }
      ObjectNode result = text(answer.path("action").asString() + ": " + answer.path("content").path("name").asString()
          + " (state " + params.path("requestState").asString("none") + ")");
      result.put("resultType", "complete");
      return JsonRpc.result(request.id(), result);
    });
  }

  @Test
  void aBackendThatAnswersDiscover_isNeverInitialized_andEachRequestDeclaresItsClientsCapabilities() {
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode capabilities = NODES.objectNode();
    capabilities.putObject("elicitation");
    client.initialize(McpRevision.V2025_11_25.version(), capabilities);

    JsonRpcMessage answer = client.call("tools/call", NODES.objectNode().put("name", "alpha__echo"));

    assertThat(alpha.received("initialize")).isEmpty();
    assertThat(alpha.received("server/discover")).isNotEmpty();
    JsonNode meta = alpha.received("tools/call").get(0).params().path("_meta");
    assertThat(meta.path(StatelessMeta.PROTOCOL_VERSION).asString()).isEqualTo("2026-07-28");
    assertThat(meta.path(StatelessMeta.CLIENT_INFO).path("name").asString()).isEqualTo("sentinel-test");
    assertThat(meta.path(StatelessMeta.CLIENT_CAPABILITIES).has("elicitation")).isTrue();
    assertThat(meta.path(StatelessMeta.CLIENT_CAPABILITIES).has("sampling"))
        .as("the client did not declare sampling, so the backend may not ask for it").isFalse();
    assertThat(answer.result().path("content").get(0).path("text").asString()).isEqualTo("alpha:echo");
    assertThat(fixture.gateway.backends().get("alpha").protocolVersion()).isEqualTo("2026-07-28");
  }

  @Test
  void traceContextInMeta_reachesAModernBackend_andAnMcpAppsUiResource_isReadUnderPolicy() {
    alpha.resources.add(NODES.objectNode().put("uri", "ui://weather/card").put("name", "card")
        .put("mimeType", "text/html;profile=mcp-app"));
    alpha.resources.add(NODES.objectNode().put("uri", "ui://admin/panel").put("name", "panel"));
    alpha.capability("resources");
    String policy = GatewayFixture.POLICY + "  - id: no-admin-ui\n    deny: { resources: [\"ui://admin/*\"] }\n"
        + "    reason: admin panels stay put\n";
    alpha.modern = true;
    fixture = new GatewayFixture(policy, List.of(alpha), GatewayFixture.twoPrincipals(), builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode call = call("alpha__echo");
    ((ObjectNode) call.get("_meta")).put("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

    client.call("tools/call", call);
    ObjectNode card = StatelessClientTest.params().put("uri", "ui://weather/card");
    JsonRpcMessage read = client.call("resources/read", card);
    JsonRpcMessage denied = client.call("resources/read", StatelessClientTest.params().put("uri", "ui://admin/panel"));

    assertThat(alpha.received("tools/call").get(0).params().path("_meta").path("traceparent").asString())
        .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(read.result().path("received").path("uri").asString()).as("%s", read.raw()).isEqualTo("ui://weather/card");
    assertThat(denied.error().path("message").asString()).as("%s", denied.raw()).contains("admin panels stay put");
    assertThat(alpha.received("resources/read")).hasSize(1);
  }

  @Test
  void anOlderClientsResourceSubscription_joinsTheModernBackendsStreamOfChanges_andItsUpdatesReachTheClient() {
    alpha.resources.add(NODES.objectNode().put("uri", "file:///notes.txt").put("name", "notes"));
    alpha.capability("resources");
    alpha.handlers.put("subscriptions/listen", request -> null); // open until cancelled
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    client.initialize();

    JsonRpcMessage subscribed = client.call("resources/subscribe", NODES.objectNode().put("uri", "file:///notes.txt"));

    assertThat(subscribed.kind()).as("%s", subscribed.raw()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(alpha.received("resources/subscribe")).as("2026-07-28 has no such method").isEmpty();
    // The backend's copy of the stream arrives on its own thread.
    Conditions.await("a stream with the resource", () -> latestListen().path("notifications")
        .path("resourceSubscriptions").path(0).asString("").equals("file:///notes.txt"));
    List<JsonRpcMessage> listens = alpha.received("subscriptions/listen");
    JsonRpcMessage latest = listens.get(listens.size() - 1);
    assertThat(latest.params().path("notifications").path("toolsListChanged").asBoolean()).isTrue();
    Conditions.await("the replaced stream cancelled", () -> !alpha.received("notifications/cancelled").isEmpty());
    assertThat(alpha.received("notifications/cancelled")).as("the stream it replaced is cancelled")
        .anySatisfy(c -> assertThat(c.params().path("requestId").asLong())
            .isEqualTo(listens.get(listens.size() - 2).id().asLong()));

    ObjectNode updated = NODES.objectNode().put("uri", "file:///notes.txt");
    updated.putObject("_meta").set(StatelessMeta.SUBSCRIPTION_ID, latest.id());
    alpha.send(JsonRpc.notification("notifications/resources/updated", updated));
    Conditions.await("the update reaches the client",
        () -> !client.notifications("notifications/resources/updated").isEmpty());

    assertThat(client.notifications("notifications/resources/updated").get(0).params().has("_meta"))
        .as("the gateway's own stream id is not the client's business").isFalse();
    client.call("resources/unsubscribe", NODES.objectNode().put("uri", "file:///notes.txt"));
    Conditions.await("a stream without the resource",
        () -> !latestListen().path("notifications").has("resourceSubscriptions"));
  }

  @Test
  void aModernBackendThatRestarts_hearsTheResourceSubscriptionsInItsNewStream() {
    alpha.resources.add(NODES.objectNode().put("uri", "file:///notes.txt").put("name", "notes"));
    alpha.capability("resources");
    alpha.handlers.put("subscriptions/listen", request -> null); // open until cancelled
    start(builder -> builder.restartBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1)));
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    client.initialize();
    client.call("resources/subscribe", NODES.objectNode().put("uri", "file:///notes.txt"));
    Conditions.await("a stream with the resource", () -> latestListen().path("notifications")
        .path("resourceSubscriptions").path(0).asString("").equals("file:///notes.txt"));
    int before = alpha.received("subscriptions/listen").size();

    alpha.crash();
    Conditions.await("alpha is down", () -> fixture.gateway.backends().get("alpha").state() == BackendStatus.State.DOWN);
    fixture.clock.advance(Duration.ofSeconds(1));
    Conditions.await("a new stream on the new connection", () -> alpha.received("subscriptions/listen").size() > before);

    assertThat(latestListen().path("notifications").path("resourceSubscriptions"))
        .extracting(JsonNode::asString).containsExactly("file:///notes.txt");
    assertThat(alpha.connections).hasValue(2);
  }

  @Test
  void aSubscriptionOfASessionThatEndedWhileTheBackendWasDown_isNotListenedForAgain() {
    alpha.modern = true;
    alpha.resources.add(NODES.objectNode().put("uri", "file:///notes.txt").put("name", "notes"));
    alpha.capability("resources");
    alpha.handlers.put("subscriptions/listen", request -> null); // open until cancelled
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(), GatewayFixture.twoPrincipals(),
        builder -> builder.restartBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
            .backend("alpha", alpha::connect, dev.sentinel.core.config.BackendOptions.of(
                dev.sentinel.core.config.Isolation.SHARED)));
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    client.initialize();
    client.call("resources/subscribe", NODES.objectNode().put("uri", "file:///notes.txt"));
    Conditions.await("a stream with the resource", () -> latestListen().path("notifications")
        .path("resourceSubscriptions").path(0).asString("").equals("file:///notes.txt"));

    alpha.crash();
    Conditions.await("alpha is down", () -> fixture.gateway.backends().get("alpha").state() == BackendStatus.State.DOWN);
    client.session.close();
    int before = alpha.received("subscriptions/listen").size();
    fixture.clock.advance(Duration.ofSeconds(1));
    Conditions.await("a new stream", () -> alpha.received("subscriptions/listen").size() > before);

    assertThat(latestListen().path("notifications").has("resourceSubscriptions"))
        .as("nobody subscribes to notes.txt any more").isFalse();
  }

  /** The params of the newest {@code subscriptions/listen} alpha received. */
  private JsonNode latestListen() {
    List<JsonRpcMessage> listens = alpha.received("subscriptions/listen");
    return listens.isEmpty() ? NODES.objectNode() : listens.get(listens.size() - 1).params();
  }

  @Test
  void anOlderBackend_answersTheProbeWithAnError_andIsInitialized_itsRequestsCarryNoStatelessMeta() {
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(alpha), GatewayFixture.twoPrincipals(), b -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    client.initialize();

    client.call("tools/call", NODES.objectNode().put("name", "alpha__echo"));

    assertThat(alpha.received.get(0).method()).isEqualTo("server/discover");
    assertThat(alpha.received("initialize")).hasSize(1);
    assertThat(StatelessMeta.declared(alpha.received("tools/call").get(0).params())).isFalse();
  }

  @Test
  void aServerThatIgnoresTheProbe_isInitializedAfterThePatience() {
    alpha.handlers.put("server/discover", request -> null); // never answered, as some legacy servers do
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(alpha), GatewayFixture.twoPrincipals(),
        builder -> builder.probePatience(Duration.ofMillis(50)));
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    client.initialize();

    JsonRpcMessage answer = client.call("tools/call", NODES.objectNode().put("name", "alpha__echo"));

    assertThat(answer.result().path("content").get(0).path("text").asString()).isEqualTo("alpha:echo");
    assertThat(fixture.gateway.backends().get("alpha").protocolVersion()).isEqualTo("2025-11-25");
  }

  @Test
  void aDualEraServerThatAnswersTheProbeAfterInitializeWasSent_staysLegacy_sinceInitializeChoseItsEra() {
    java.util.concurrent.CompletableFuture<Void> initializeSeen = new java.util.concurrent.CompletableFuture<>();
    alpha.handlers.put("initialize", request -> {
      initializeSeen.complete(null);
      return alpha.standard(alpha.handlingConnection(), request);
    });
    alpha.handlers.put("server/discover", request -> {
      // Slow to start: it answers the probe only once initialize has arrived too.
      java.util.concurrent.CompletableFuture.runAsync(() -> {
        initializeSeen.join();
        ObjectNode result = NODES.objectNode();
        result.putArray("supportedVersions").add("2026-07-28").add("2025-11-25");
        result.putObject("capabilities").putObject("tools");
        alpha.send(alpha.open.get(0), JsonRpc.result(request.id(), result));
      });
      return null;
    });
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(alpha), GatewayFixture.twoPrincipals(),
        builder -> builder.probePatience(Duration.ofMillis(50)));
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    client.initialize();

    client.call("tools/call", NODES.objectNode().put("name", "alpha__echo"));

    assertThat(fixture.gateway.backends().get("alpha").protocolVersion()).isEqualTo("2025-11-25");
    assertThat(StatelessMeta.declared(alpha.received("tools/call").get(0).params())).isFalse();
  }

  @Test
  void aModernBackendsQuestion_reachesAStatelessClientUnderTheBackendsKey_andTheRetryBringsTheBackendItsState() {
    greetAsks();
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode call = call("alpha__greet", "elicitation");

    JsonNode first = client.call("tools/call", call).result();

    assertThat(first.path("resultType").asString()).as("%s", first).isEqualTo("input_required");
    assertThat(first.path("inputRequests").path("user_name").path("method").asString()).isEqualTo("elicitation/create");
    String state = first.path("requestState").asString();
    assertThat(state).startsWith(RequestStates.RELAY_PREFIX).doesNotContain("alpha-state-1");

    ObjectNode retry = retry(call, first, "user_name", accept("Ada"));
    ((ObjectNode) retry.get("inputResponses")).set("never_asked", accept("Eve"));
    JsonNode done = client.call("tools/call", retry).result();

    assertThat(done.path("resultType").asString()).as("%s", done).isEqualTo("complete");
    assertThat(done.path("content").get(0).path("text").asString()).isEqualTo("accept: Ada (state alpha-state-1)");
    JsonNode forwarded = alpha.received("tools/call").get(1).params();
    assertThat(forwarded.path("requestState").asString()).isEqualTo("alpha-state-1");
    assertThat(forwarded.path("inputResponses").has("never_asked"))
        .as("an answer to a question the gateway never passed on does not reach the backend").isFalse();
    List<AuditEvent> trail = fixture.trail();
    assertThat(trail).filteredOn(e -> "elicitation/create".equals(e.method())).singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(Outcome.ALLOWED));
  }

  @Test
  void aRelayedState_thatIsAltered_replayed_anothersOrForOtherArguments_isRefused_andNothingReachesTheBackend() {
    greetAsks();
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    ScriptedClient bob = fixture.client(Credentials.bearer("bob"));
    ObjectNode call = call("alpha__greet", "elicitation");
    JsonNode first = alice.call("tools/call", call).result();
    String state = first.path("requestState").asString();

    ObjectNode altered = retry(call, first, "user_name", accept("Ada"));
    altered.put("requestState", state.substring(0, state.length() - 2) + (state.endsWith("A") ? "BB" : "AA"));
    ObjectNode otherArguments = retry(call, first, "user_name", accept("Ada"));
    ((ObjectNode) otherArguments.get("arguments")).put("who", "root");

    assertRefused(alice.call("tools/call", altered));
    assertRefused(bob.call("tools/call", retry(call, first, "user_name", accept("Ada"))));
    assertRefused(alice.call("tools/call", otherArguments));
    assertThat(alpha.received("tools/call")).as("only the first call reached the backend").hasSize(1);

    assertThat(alice.call("tools/call", retry(call, first, "user_name", accept("Ada"))).result()
        .path("resultType").asString()).isEqualTo("complete");
    assertRefused(alice.call("tools/call", retry(call, first, "user_name", accept("Ada"))));
    assertThat(alpha.received("tools/call")).as("the replay did not reach the backend").hasSize(2);
  }

  @Test
  void answersSentWithoutAState_neverReachTheBackend_whichAsksAgain() {
    greetAsks();
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode call = call("alpha__greet", "elicitation");
    call.putObject("inputResponses").set("user_name", accept("Mallory"));

    JsonNode answer = client.call("tools/call", call).result();

    assertThat(answer.path("resultType").asString()).isEqualTo("input_required");
    assertThat(alpha.received("tools/call").get(0).params().has("inputResponses")).isFalse();
  }

  @Test
  void aQuestionThePolicyRefuses_neverReachesTheClient_andRefusesTheCall() {
    beta.handlers.put("tools/call", request -> {
      ObjectNode result = NODES.objectNode().put("resultType", "input_required");
      ObjectNode asked = result.putObject("inputRequests").putObject("summary");
      asked.put("method", "sampling/createMessage");
      asked.putObject("params").put("maxTokens", 5);
      return JsonRpc.result(request.id(), result);
    });
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));

    JsonRpcMessage answer = client.call("tools/call", call("beta__think", "sampling"));

    assertThat(answer.kind()).as("%s", answer.raw()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(answer.error().path("message").asString()).contains("beta may not sample");
    assertThat(answer.raw().toString()).doesNotContain("maxTokens");
    assertThat(fixture.trail()).filteredOn(e -> "sampling/createMessage".equals(e.method())).singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(Outcome.DENIED));
  }

  @Test
  void aQuestionForACapabilityTheClientDidNotDeclare_isAnsweredWithMissingCapability() {
    greetAsks();
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));

    JsonRpcMessage answer = client.call("tools/call", call("alpha__greet", "sampling"));

    assertThat(answer.error().path("code").asInt()).as("%s", answer.raw())
        .isEqualTo(ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY.code());
    assertThat(alpha.received("tools/call").get(0).params().path("_meta").path(StatelessMeta.CLIENT_CAPABILITIES)
        .has("elicitation")).isFalse();
  }

  @Test
  void anOlderClient_isAskedTheModernBackendsQuestion_andTheBackendIsRetriedWithItsAnswer() {
    greetAsks();
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode capabilities = NODES.objectNode();
    capabilities.putObject("elicitation");
    client.initialize(McpRevision.V2025_06_18.version(), capabilities);
    client.onRequest = request -> JsonRpc.result(request.id(), accept("Grace"));

    JsonRpcMessage answer = client.call("tools/call", NODES.objectNode().put("name", "alpha__greet"));

    assertThat(answer.result().path("content").get(0).path("text").asString()).as("%s", answer.raw())
        .isEqualTo("accept: Grace (state alpha-state-1)");
    assertThat(answer.result().has("resultType")).as("a 2025-06-18 client gets no resultType").isFalse();
    assertThat(client.requests).singleElement().satisfies(r -> {
      assertThat(r.method()).isEqualTo("elicitation/create");
      assertThat(r.params().path("message").asString()).isEqualTo("Your name?");
    });
    assertThat(alpha.received("tools/call")).hasSize(2);
  }

  @Test
  void aMalformedInputRequiredResult_isAnError_andNothingOfItIsPassedOn() {
    alpha.handlers.put("tools/call", request -> {
      ObjectNode result = NODES.objectNode().put("resultType", "input_required");
      result.putObject("inputRequests").putObject("sneaky").put("method", "tools/call")
          .putObject("params").put("name", "delete_everything");
      return JsonRpc.result(request.id(), result);
    });
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));

    JsonRpcMessage call = client.call("tools/call", call("alpha__echo", "elicitation"));

    assertThat(call.kind()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(call.error().path("message").asString()).contains("malformed input_required");
    assertThat(call.raw().toString()).doesNotContain("delete_everything");
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static void assertRefused(JsonRpcMessage answer) {
    assertThat(answer.kind()).as("%s", answer.raw()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(answer.error().path("data").path("rules").get(0).asString()).isEqualTo(StatelessMeta.RULE);
  }
}
