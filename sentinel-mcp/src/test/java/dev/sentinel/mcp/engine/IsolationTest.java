package dev.sentinel.mcp.engine;

import static dev.sentinel.mcp.engine.ScriptedClient.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.core.config.BackendOptions;
import dev.sentinel.core.config.Isolation;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.transport.InProcessTransport;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The trust rules of the engine, tried as an attacker would, with two principals (alice and bob)
 * wherever the rule is about isolation: every request is decided with the backend that will serve
 * it; nothing one principal causes reaches another; no principal exhausts what others need.
 */
class IsolationTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String ALLOW_ALL = "roles:\n  user: {}\nrules:\n  - id: everything\n    allow: {}\n";

  private GatewayFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private GatewayFixture start(String policy, Consumer<McpGateway.Builder> options) {
    fixture = new GatewayFixture(policy, List.of(), GatewayFixture.twoPrincipals(), options);
    return fixture;
  }

  private ScriptedClient alice() {
    return initialized(fixture.client(Credentials.bearer("alice")), null);
  }

  private ScriptedClient bob() {
    return initialized(fixture.client(Credentials.bearer("bob")), null);
  }

  private static ScriptedClient initialized(ScriptedClient client, ObjectNode capabilities) {
    client.initialize(McpRevision.latest().version(), capabilities);
    return client;
  }

  private static ObjectNode sampling() {
    ObjectNode caps = NODES.objectNode();
    caps.putObject("sampling");
    return caps;
  }

  private static ObjectNode toolCall(String name) {
    ObjectNode params = NODES.objectNode().put("name", name);
    params.putObject("arguments");
    return params;
  }

  private static ObjectNode uri(String uri) {
    return NODES.objectNode().put("uri", uri);
  }

  private static int code(JsonRpcMessage answer) {
    return answer.error().path("code").asInt();
  }

  // ---- route first, decide second ----------------------------------------------------------

  private static ScriptedServer resources(String name, String template) {
    ScriptedServer server = new ScriptedServer(name).capability("resources");
    server.templates.add(NODES.objectNode().put("uriTemplate", template).put("name", name));
    return server;
  }

  @ParameterizedTest
  @ValueSource(strings = {"resources/read", "resources/subscribe"})
  void resourceOfAnUnlistedUri_isStoppedByTheKillSwitchOnTheBackendThatServesIt(String method) {
    ScriptedServer open = resources("open", "open://{id}");
    ScriptedServer secret = resources("secret", "secret://{id}");
    start(ALLOW_ALL, builder -> builder.backend("open", open::connect).backend("secret", secret::connect));
    fixture.sentinel.killSwitch().disableBackend("secret", "incident 42");
    ScriptedClient alice = alice();

    JsonRpcMessage answer = alice.call(method, uri("secret://payroll"));

    assertThat(code(answer)).isEqualTo(-32013);
    assertThat(secret.received(method)).isEmpty();
    assertThat(open.received(method)).isEmpty();
    assertThat(fixture.trail()).singleElement().satisfies(event -> {
      assertThat(event.backend()).isEqualTo("secret");
      assertThat(event.outcome()).isEqualTo(Outcome.DISABLED);
    });
  }

  @Test
  void resourceOfAnUnlistedUri_isDeniedByABackendRule() {
    ScriptedServer open = resources("open", "open://{id}");
    ScriptedServer secret = resources("secret", "secret://{id}");
    String policy = ALLOW_ALL + "  - id: no-secret\n    deny: { backends: [secret] }\n    reason: not through the gateway\n";
    start(policy, builder -> builder.backend("open", open::connect).backend("secret", secret::connect));
    ScriptedClient alice = alice();

    JsonRpcMessage denied = alice.call("resources/read", uri("secret://payroll"));
    JsonRpcMessage allowed = alice.call("resources/read", uri("open://readme"));

    assertThat(code(denied)).isEqualTo(-32012);
    assertThat(denied.error().path("message").asString()).contains("no-secret");
    assertThat(secret.received("resources/read")).isEmpty();
    assertThat(allowed.result().path("server").asString()).isEqualTo("open");
    assertThat(fixture.trail()).extracting(AuditEvent::backend).containsExactly("secret", "open");
  }

  @Test
  void resourceClaimedByTwoBackends_isRefusedAsAmbiguousAndSentToNeither() {
    ScriptedServer one = new ScriptedServer("one").capability("resources");
    ScriptedServer two = new ScriptedServer("two").capability("resources");
    one.resources.add(NODES.objectNode().put("uri", "mem://x").put("name", "x"));
    two.templates.add(NODES.objectNode().put("uriTemplate", "mem://{key}").put("name", "any"));
    start(ALLOW_ALL, builder -> builder.backend("one", one::connect).backend("two", two::connect));
    ScriptedClient alice = alice();

    JsonRpcMessage answer = alice.call("resources/read", uri("mem://x"));

    assertThat(code(answer)).isEqualTo(-32012);
    assertThat(answer.error().path("message").asString()).contains("ambiguous").contains("one").contains("two");
    assertThat(one.received("resources/read")).isEmpty();
    assertThat(two.received("resources/read")).isEmpty();
    assertThat(fixture.trail()).singleElement().satisfies(event -> assertThat(event.rules()).containsExactly("routing"));
  }

  @Test
  void configuredPrefixes_routeWithoutListingAndABackendCannotClaimAnothersUris() {
    ScriptedServer hostile = new ScriptedServer("hostile").capability("resources");
    hostile.resources.add(NODES.objectNode().put("uri", "vault://keys").put("name", "decoy"));
    ScriptedServer vault = new ScriptedServer("vault").capability("resources");
    vault.templates.add(NODES.objectNode().put("uriTemplate", "vault://{name}").put("name", "entry"));
    start(ALLOW_ALL, builder -> builder.backend("hostile", hostile::connect)
        .backend("vault", vault::connect, BackendOptions.DEFAULTS.withResourcePrefixes(List.of("vault://"))));
    ScriptedClient alice = alice();

    JsonNode listed = alice.call("resources/list", null).result().path("resources");
    JsonRpcMessage read = alice.call("resources/read", uri("vault://keys"));

    assertThat(listed).isEmpty();
    assertThat(read.result().path("server").asString()).isEqualTo("vault");
    assertThat(hostile.received("resources/read")).isEmpty();
  }

  @Test
  void completionOfAPromptThePrincipalMayNotUse_isRefusedAndNeverForwarded() {
    ScriptedServer alpha = new ScriptedServer("alpha").capability("prompts").capability("completions");
    alpha.prompts.add(NODES.objectNode().put("name", "secret_prompt"));
    String policy = "roles:\n  user: {}\nrules:\n  - id: everything-but-prompts\n"
        + "    allow: { methods: [\"tools/call\", \"completion/complete\"] }\n";
    start(policy, builder -> builder.backend("alpha", alpha::connect));
    ScriptedClient alice = alice();
    ObjectNode complete = NODES.objectNode();
    complete.putObject("ref").put("type", "ref/prompt").put("name", "alpha__secret_prompt");
    complete.putObject("argument").put("name", "who").put("value", "a");

    JsonRpcMessage answer = alice.call("completion/complete", complete);

    assertThat(code(answer)).isEqualTo(-32012);
    assertThat(alpha.received("completion/complete")).isEmpty();
    assertThat(fixture.trail()).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.DENIED);
      assertThat(event.backend()).isEqualTo("alpha");
      assertThat(event.name()).isEqualTo("alpha__secret_prompt");
    });
  }

  @Test
  void builder_refusesBackendNamesThatMakeQualifiedNamesAmbiguous() {
    ScriptedServer b = new ScriptedServer("b");
    ScriptedServer bUnderscore = new ScriptedServer("b_");
    McpGateway.Builder builder = McpGateway.builder()
        .sentinel(dev.sentinel.core.Sentinel.builder().authenticator(GatewayFixture.twoPrincipals()).build())
        .backend("b", b::connect).backend("b_", bUnderscore::connect);

    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'b' and 'b_' are ambiguous");
  }

  // ---- server-initiated requests reach only the session that caused them -------------------

  /** A backend whose tool {@code think} asks the client to sample, and whose {@code wait} never answers. */
  private static ScriptedServer sampler(String name, CompletableFuture<JsonRpcMessage> samplingAnswer) {
    ScriptedServer server = new ScriptedServer(name).withTools("think", "wait");
    server.handlers.put("tools/call", request -> {
      if (request.params().path("name").asString().equals("wait")) {
        return null;
      }
      server.request("sampling/createMessage", NODES.objectNode().put("maxTokens", 5)).thenAccept(answer -> {
        samplingAnswer.complete(answer);
        server.send(JsonRpc.result(request.id(), NODES.objectNode().set("sampled", answer.raw())));
      });
      return null;
    });
    return server;
  }

  private static void answerSampling(ScriptedClient client, String text) {
    client.onRequest = request -> {
      ObjectNode result = NODES.objectNode().put("role", "assistant").put("model", "m");
      result.putObject("content").put("type", "text").put("text", text);
      return JsonRpc.result(request.id(), result);
    };
  }

  @Test
  void sampling_onASharedConnection_isRefusedAndReachesNoClient() {
    CompletableFuture<JsonRpcMessage> sampled = new CompletableFuture<>();
    ScriptedServer alpha = sampler("alpha", sampled);
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect, BackendOptions.of(Isolation.SHARED)));
    ScriptedClient alice = initialized(fixture.client(Credentials.bearer("alice")), sampling());
    ScriptedClient bob = initialized(fixture.client(Credentials.bearer("bob")), sampling());
    answerSampling(alice, "alice's answer");
    answerSampling(bob, "bob's answer");
    bob.request("tools/call", toolCall("alpha__wait"));
    Conditions.await("bob's call is in flight", () -> alpha.received("tools/call").size() == 1);

    JsonRpcMessage answer = alice.call("tools/call", toolCall("alpha__think"));

    assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(await(sampled).error().path("code").asInt()).isEqualTo(-32601);
    assertThat(alice.requests).isEmpty();
    assertThat(bob.requests).isEmpty();
  }

  @Test
  void sampling_perSession_reachesOnlyTheCallersSession_evenWithAnotherPrincipalsCallInFlight() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("think", "wait");
    alpha.handlers.put("tools/call", request -> {
      if (request.params().path("name").asString().equals("wait")) {
        return null;
      }
      InProcessTransport mine = alpha.handlingConnection();
      // Asks only once bob's call is in flight too: a guess by "the most recent request to the
      // backend" would pick bob.
      new Thread(() -> {
        Conditions.await("bob's call is in flight", () -> alpha.received("tools/call").size() == 2);
        alpha.request(mine, "sampling/createMessage", NODES.objectNode().put("maxTokens", 5)).thenAccept(answer ->
            alpha.send(JsonRpc.result(request.id(), NODES.objectNode().set("sampled", answer.raw()))));
      }, "think").start();
      return null;
    });
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect));
    ScriptedClient alice = initialized(fixture.client(Credentials.bearer("alice")), sampling());
    ScriptedClient bob = initialized(fixture.client(Credentials.bearer("bob")), sampling());
    answerSampling(alice, "alice's answer");
    answerSampling(bob, "bob's answer");
    CompletableFuture<JsonRpcMessage> aliceCall = alice.request("tools/call", toolCall("alpha__think"));
    Conditions.await("alice's call is in flight", () -> alpha.received("tools/call").size() == 1);
    bob.request("tools/call", toolCall("alpha__wait"));

    JsonRpcMessage answer = await(aliceCall);

    assertThat(answer.result().path("sampled").path("result").path("content").path("text").asString())
        .isEqualTo("alice's answer");
    assertThat(alice.requests).hasSize(1);
    assertThat(bob.requests).isEmpty();
    assertThat(alpha.connections).hasValue(2);
    assertThat(fixture.trail()).filteredOn(event -> event.method().equals("sampling/createMessage"))
        .singleElement().satisfies(event -> assertThat(event.principal()).isEqualTo("alice"));
  }

  @Test
  void perPrincipal_relaysToThePrincipalsOneSessionWithACallInFlight_andRefusesWhenThereAreSeveral() {
    CompletableFuture<JsonRpcMessage> first = new CompletableFuture<>();
    ScriptedServer alpha = sampler("alpha", first);
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect, BackendOptions.of(Isolation.PER_PRINCIPAL)));
    ScriptedClient aliceOne = initialized(fixture.client(Credentials.bearer("alice")), sampling());
    ScriptedClient aliceTwo = initialized(fixture.client(Credentials.bearer("alice")), sampling());
    ScriptedClient bob = initialized(fixture.client(Credentials.bearer("bob")), sampling());
    answerSampling(aliceOne, "one");
    answerSampling(aliceTwo, "two");
    answerSampling(bob, "bob");

    JsonRpcMessage answer = aliceOne.call("tools/call", toolCall("alpha__think"));
    assertThat(answer.result().path("sampled").path("result").path("content").path("text").asString()).isEqualTo("one");

    aliceTwo.request("tools/call", toolCall("alpha__wait"));
    Conditions.await("alice's second session waits on the connection", () -> alpha.received("tools/call").size() == 2);
    JsonRpcMessage oneWaiting = await(alpha.request("sampling/createMessage", NODES.objectNode()));
    aliceOne.request("tools/call", toolCall("alpha__wait"));
    Conditions.await("both of alice's sessions wait", () -> alpha.received("tools/call").size() == 3);
    JsonNode twoWaiting = await(alpha.request("sampling/createMessage", NODES.objectNode())).error();

    assertThat(oneWaiting.result().path("content").path("text").asString()).isEqualTo("two");
    assertThat(twoWaiting.path("code").asInt()).isEqualTo(-32601);
    assertThat(bob.requests).isEmpty();
    assertThat(alpha.connections).hasValue(1); // bob never used alpha: one connection, alice's
  }

  @Test
  void rootsListChanged_neverReachesASharedConnection() {
    ScriptedServer shared = new ScriptedServer("shared").withTools("t");
    ScriptedServer own = new ScriptedServer("own").withTools("t");
    start(ALLOW_ALL, builder -> builder.backend("shared", shared::connect, BackendOptions.of(Isolation.SHARED))
        .backend("own", own::connect));
    ObjectNode caps = NODES.objectNode();
    caps.putObject("roots").put("listChanged", true);
    ScriptedClient alice = initialized(fixture.client(Credentials.bearer("alice")), caps);
    alice.call("tools/list", null);

    alice.send(JsonRpc.notification("notifications/roots/list_changed", null));
    alice.call("tools/call", toolCall("own__t"));
    alice.call("tools/call", toolCall("shared__t"));

    assertThat(own.received("notifications/roots/list_changed")).hasSize(1);
    assertThat(shared.received("notifications/roots/list_changed")).isEmpty();
  }

  // ---- notifications reach only those entitled to them -------------------------------------

  @Test
  void logs_fromAPerSessionConnection_reachOnlyItsSession() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("t");
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect));
    ScriptedClient alice = alice();
    ScriptedClient bob = bob();
    alice.call("tools/call", toolCall("alpha__t"));
    bob.call("tools/call", toolCall("alpha__t"));
    InProcessTransport alicesConnection = alpha.open.get(0);

    alpha.send(alicesConnection, JsonRpc.notification("notifications/message",
        NODES.objectNode().put("level", "info").put("data", "alice's file list")));
    bob.call("ping", null);

    Conditions.await("alice hears her backend", () -> !alice.notifications("notifications/message").isEmpty());
    alice.call("ping", null);
    assertThat(bob.notifications("notifications/message")).isEmpty();
  }

  @Test
  void progress_withAnotherConnectionsToken_isDropped() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("wait", "t");
    alpha.handlers.put("tools/call", request ->
        request.params().path("name").asString().equals("wait") ? null : JsonRpc.result(request.id(), NODES.objectNode()));
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect));
    ScriptedClient alice = alice();
    ScriptedClient bob = bob();
    ObjectNode params = toolCall("alpha__wait");
    params.putObject("_meta").put("progressToken", "alice-progress");
    alice.request("tools/call", params);
    Conditions.await("alice's call is in flight", () -> alpha.received("tools/call").size() == 1);
    JsonNode gatewayToken = alpha.received("tools/call").get(0).params().path("_meta").path("progressToken");
    bob.call("tools/call", toolCall("alpha__t"));
    InProcessTransport bobsConnection = alpha.open.get(1);
    InProcessTransport alicesConnection = alpha.open.get(0);

    alpha.send(bobsConnection, JsonRpc.notification("notifications/progress",
        NODES.objectNode().set("progressToken", gatewayToken).put("progress", 99)));
    alpha.send(alicesConnection, JsonRpc.notification("notifications/progress",
        NODES.objectNode().set("progressToken", gatewayToken).put("progress", 1)));

    Conditions.await("alice hears her own backend's progress", () -> !alice.notifications("notifications/progress").isEmpty());
    assertThat(alice.notifications("notifications/progress")).extracting(n -> n.params().path("progress").asInt())
        .containsExactly(1);
  }

  @Test
  void resourceUpdates_fromASharedConnection_reachOnlySubscribersWhoMayStillReadIt() {
    ScriptedServer alpha = new ScriptedServer("alpha");
    alpha.capabilities.putObject("resources").put("subscribe", true);
    alpha.resources.add(NODES.objectNode().put("uri", "file:///plan.txt").put("name", "plan"));
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect, BackendOptions.of(Isolation.SHARED)));
    ScriptedClient alice = alice();
    ScriptedClient bob = bob();
    alice.call("resources/subscribe", uri("file:///plan.txt"));
    bob.call("resources/subscribe", uri("file:///plan.txt"));
    String noBob = ALLOW_ALL + "  - id: not-bob\n    deny: { principals: [bob], resources: [\"file:///*\"] }\n";
    fixture.sentinel.reconfigure(PolicyEngine.parse(noBob, "policy.yaml"), Limits.none(), "r2");

    alpha.send(JsonRpc.notification("notifications/resources/updated", uri("file:///plan.txt")));

    Conditions.await("alice hears the update", () -> !alice.notifications("notifications/resources/updated").isEmpty());
    bob.call("ping", null);
    assertThat(bob.notifications("notifications/resources/updated")).isEmpty();
  }

  @Test
  void unsubscribe_byOneClient_doesNotEndAnothersSubscriptionOnASharedConnection() {
    ScriptedServer alpha = new ScriptedServer("alpha");
    alpha.capabilities.putObject("resources").put("subscribe", true);
    alpha.resources.add(NODES.objectNode().put("uri", "file:///plan.txt").put("name", "plan"));
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect, BackendOptions.of(Isolation.SHARED)));
    ScriptedClient alice = alice();
    ScriptedClient bob = bob();

    alice.call("resources/subscribe", uri("file:///plan.txt"));
    bob.call("resources/subscribe", uri("file:///plan.txt"));
    bob.call("resources/unsubscribe", uri("file:///plan.txt"));
    bob.call("resources/unsubscribe", uri("file:///plan.txt"));

    assertThat(alpha.received("resources/subscribe")).hasSize(1);
    assertThat(alpha.received("resources/unsubscribe")).isEmpty();
    alice.call("resources/unsubscribe", uri("file:///plan.txt"));
    assertThat(alpha.received("resources/unsubscribe")).hasSize(1);
  }

  @Test
  void listChanged_fromASharedConnection_reachesOnlyPrincipalsWhoMayUseTheBackend() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("t");
    String policy = "roles:\n  user: {}\nrules:\n  - id: alice-on-alpha\n    allow: { principals: [alice], backends: [alpha] }\n";
    start(policy, builder -> builder.backend("alpha", alpha::connect, BackendOptions.of(Isolation.SHARED)));
    ScriptedClient alice = alice();
    ScriptedClient bob = bob();

    alpha.send(JsonRpc.notification("notifications/tools/list_changed", null));

    Conditions.await("alice hears it", () -> !alice.notifications("notifications/tools/list_changed").isEmpty());
    bob.call("ping", null);
    assertThat(bob.notifications("notifications/tools/list_changed")).isEmpty();
  }

  // ---- bounded resources per principal -----------------------------------------------------

  @Test
  void inFlightPerPrincipal_refusesTheExcessAndRecordsItWhileOthersAreServed() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("wait", "t");
    alpha.handlers.put("tools/call", request ->
        request.params().path("name").asString().equals("wait") ? null : JsonRpc.result(request.id(), NODES.objectNode()));
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect).maxInFlightPerPrincipal(2));
    ScriptedClient aliceOne = alice();
    ScriptedClient aliceTwo = alice();
    ScriptedClient bob = bob();
    aliceOne.request("tools/call", toolCall("alpha__wait"));
    aliceTwo.request("tools/call", toolCall("alpha__wait"));
    Conditions.await("alice's two calls are in flight", () -> alpha.received("tools/call").size() == 2);

    JsonRpcMessage third = aliceTwo.call("tools/call", toolCall("alpha__t"));
    JsonRpcMessage bobs = bob.call("tools/call", toolCall("alpha__t"));

    assertThat(code(third)).isEqualTo(-32014);
    assertThat(third.error().path("message").asString()).contains("max_in_flight_per_principal: 2");
    assertThat(third.error().path("data").path("retryAfterMs").asLong()).isPositive();
    assertThat(bobs.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(fixture.trail()).filteredOn(event -> event.outcome() == Outcome.LIMITED).singleElement()
        .satisfies(event -> {
          assertThat(event.principal()).isEqualTo("alice");
          assertThat(event.rules()).containsExactly("max_in_flight_per_principal");
        });
  }

  private static ScriptedServer waiting(String name) {
    ScriptedServer server = new ScriptedServer(name).withTools("wait", "t");
    server.handlers.put("tools/call", request ->
        request.params().path("name").asString().equals("wait") ? null : JsonRpc.result(request.id(), NODES.objectNode()));
    return server;
  }

  @Test
  void perSessionConnections_busyOnesAreBoundedPerPrincipalAndInTotal() {
    ScriptedServer alpha = waiting("alpha");
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect,
        BackendOptions.DEFAULTS.withMaxConnections(3, 2)));
    ScriptedClient aliceOne = alice();
    ScriptedClient aliceTwo = alice();
    ScriptedClient aliceThree = alice();
    ScriptedClient bobOne = bob();
    ScriptedClient bobTwo = bob();
    aliceOne.request("tools/call", toolCall("alpha__wait"));
    aliceTwo.request("tools/call", toolCall("alpha__wait"));
    Conditions.await("alice's two connections are busy", () -> alpha.received("tools/call").size() == 2);

    JsonRpcMessage third = aliceThree.call("tools/call", toolCall("alpha__t"));
    bobOne.request("tools/call", toolCall("alpha__wait"));
    Conditions.await("bob's connection is busy", () -> alpha.received("tools/call").size() == 3);
    JsonRpcMessage fourth = bobTwo.call("tools/call", toolCall("alpha__t"));

    assertThat(code(third)).isEqualTo(-32014);
    assertThat(third.error().path("message").asString()).contains("max_connections_per_principal: 2");
    assertThat(code(fourth)).isEqualTo(-32014);
    assertThat(fourth.error().path("message").asString()).contains("max_connections: 3");
    aliceOne.session.close();
    Conditions.await("alice's first connection is closed with her session", () -> alpha.open.size() == 2);
    assertThat(aliceThree.call("tools/call", toolCall("alpha__t")).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
  }

  @Test
  void aPrincipalAtItsBound_givesUpItsLeastRecentlyUsedIdleConnection_notAnothersBusyOne() {
    ScriptedServer alpha = waiting("alpha");
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect,
        BackendOptions.DEFAULTS.withMaxConnections(8, 2)));
    ScriptedClient aliceOne = alice();
    ScriptedClient aliceTwo = alice();
    ScriptedClient aliceThree = alice();
    ScriptedClient bob = bob();
    bob.request("tools/call", toolCall("alpha__wait"));
    assertThat(aliceOne.call("tools/call", toolCall("alpha__t")).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    fixture.clock.advance(Duration.ofSeconds(1));
    aliceTwo.request("tools/call", toolCall("alpha__wait"));
    Conditions.await("bob's and alice's second calls are in flight", () -> alpha.received("tools/call").size() == 3);

    // A session alice stopped using (the conformance suite never says DELETE) gives way.
    JsonRpcMessage third = aliceThree.call("tools/call", toolCall("alpha__t"));

    assertThat(third.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(alpha.open).hasSize(3);
    assertThat(aliceOne.call("tools/call", toolCall("alpha__t")).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
  }

  @Test
  void aSession_isBoundToItsPrincipal() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("t");
    start(ALLOW_ALL, builder -> builder.backend("alpha", alpha::connect));
    ScriptedClient alice = alice();
    assertThat(alice.call("tools/call", toolCall("alpha__t")).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);

    alice.session.present(Credentials.bearer("bob"));
    JsonRpcMessage asBob = alice.call("tools/call", toolCall("alpha__t"));

    assertThat(code(asBob)).isEqualTo(-32011);
    assertThat(alpha.received("tools/call")).hasSize(1);
  }

  // ---- restarts ----------------------------------------------------------------------------

  @Test
  void aBackendThatDiesRightAfterEachInitialize_isRestartedEverMoreSlowly() {
    ScriptedServer flaky = new ScriptedServer("flaky").withTools("t");
    start(ALLOW_ALL, builder -> builder.restartBackoff(Duration.ofSeconds(1), Duration.ofSeconds(60))
        .backend("flaky", () -> {
          dev.sentinel.api.Transport transport = flaky.connect();
          InProcessTransport mine = flaky.open.get(flaky.open.size() - 1);
          flaky.afterInitialize = mine::close; // exits right after a successful initialize
          return transport;
        }, BackendOptions.of(Isolation.SHARED)));
    Conditions.await("the first connection died", () -> flaky.connections.get() == 1 && flaky.open.isEmpty()
        && fixture.gateway.backends().get("flaky").state() == BackendStatus.State.DOWN);

    // Waits of 1 s, then 2 s, then 4 s: each new attempt comes only after the doubled wait.
    int[] expected = {2, 2, 3, 3, 3, 3, 4};
    for (int second = 0; second < expected.length; second++) {
      fixture.clock.advance(Duration.ofSeconds(1));
      long ticked = fixture.gateway.ticks();
      // A whole tick after the advance: a reconnection due now has begun (the state left DOWN).
      Conditions.await("the ticker saw the new time", () -> fixture.gateway.ticks() >= ticked + 2);
      int connections = expected[second];
      Conditions.await("attempt " + connections + " at +" + (second + 1) + " s",
          () -> flaky.connections.get() == connections && flaky.open.isEmpty()
              && fixture.gateway.backends().get("flaky").state() == BackendStatus.State.DOWN);
    }
    assertThat(flaky.connections).hasValue(4);
  }
}
