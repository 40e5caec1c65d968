package dev.sentinel.mcp.engine;

import static dev.sentinel.mcp.engine.ScriptedClient.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.config.BackendOptions;
import dev.sentinel.core.config.Isolation;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

class McpGatewayTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private GatewayFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private GatewayFixture start(Consumer<McpGateway.Builder> options, ScriptedServer... servers) {
    fixture = new GatewayFixture(List.of(servers), options);
    return fixture;
  }

  private GatewayFixture start(ScriptedServer... servers) {
    return start(builder -> {}, servers);
  }

  private static ObjectNode toolCall(String name, ObjectNode arguments) {
    ObjectNode params = NODES.objectNode().put("name", name);
    params.set("arguments", arguments == null ? NODES.objectNode() : arguments);
    return params;
  }

  private static List<String> names(JsonNode items) {
    List<String> names = new ArrayList<>();
    items.forEach(item -> names.add(item.path("name").asString()));
    return names;
  }

  // ---- initialize -------------------------------------------------------------------------

  static Stream<Arguments> revisionPairs() {
    List<Arguments> pairs = new ArrayList<>();
    for (McpRevision client : McpRevision.all()) {
      for (McpRevision backend : McpRevision.all()) {
        pairs.add(Arguments.of(client.version(), backend.version()));
      }
    }
    return pairs.stream();
  }

  @ParameterizedTest(name = "client {0}, backend {1}")
  @MethodSource("revisionPairs")
  void initialize_anyClientRevisionReachesAnyBackendRevision(String clientVersion, String backendVersion) {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    alpha.protocolVersion = backendVersion;
    start(alpha);
    ScriptedClient client = fixture.client();

    JsonNode result = client.initialize(clientVersion, null);

    assertThat(result.path("protocolVersion").asString()).isEqualTo(clientVersion);
    assertThat(client.session.protocolVersion()).isEqualTo(clientVersion);
    assertThat(fixture.gateway.backends().get("alpha").protocolVersion()).isEqualTo(backendVersion);
    assertThat(alpha.received("initialize").get(0).params().path("protocolVersion").asString())
        .isEqualTo(McpRevision.latest().version());
    JsonRpcMessage call = client.call("tools/call", toolCall("alpha__echo", null));
    assertThat(call.result().path("content").get(0).path("text").asString()).isEqualTo("alpha:echo");
  }

  @Test
  void initialize_unknownClientRevisionGetsLatest() {
    start(new ScriptedServer("alpha"));
    JsonNode result = fixture.client().initialize("2099-01-01", null);
    assertThat(result.path("protocolVersion").asString()).isEqualTo(McpRevision.latest().version());
  }

  @Test
  void initialize_backendAnsweringUnsupportedRevisionIsDown() {
    ScriptedServer old = new ScriptedServer("old");
    old.protocolVersion = "2023-01-01";
    start(old, new ScriptedServer("alpha"));
    assertThat(fixture.gateway.backends().get("old").state()).isEqualTo(BackendStatus.State.DOWN);
    assertThat(fixture.gateway.backends().get("old").lastError()).contains("unsupported protocol version '2023-01-01'");
    assertThat(fixture.gateway.backends().get("alpha").state()).isEqualTo(BackendStatus.State.UP);
  }

  @Test
  void initialize_mergesCapabilitiesServerInfoAndInstructions() {
    ScriptedServer alpha = new ScriptedServer("alpha").capability("logging").capability("completions");
    alpha.instructions = "use alpha for echoes";
    ScriptedServer beta = new ScriptedServer("beta").capability("prompts");
    beta.capabilities.putObject("resources").put("subscribe", true);
    beta.instructions = "beta knows prompts";
    start(alpha, beta);

    JsonNode result = fixture.client().initialize();
    JsonNode caps = result.path("capabilities");

    assertThat(caps.path("tools").path("listChanged").asBoolean()).isTrue();
    assertThat(caps.path("prompts").path("listChanged").asBoolean()).isTrue();
    assertThat(caps.path("resources").path("subscribe").asBoolean()).isTrue();
    assertThat(caps.path("resources").path("listChanged").asBoolean()).isTrue();
    assertThat(caps.has("logging")).isTrue();
    assertThat(caps.has("completions")).isTrue();
    assertThat(result.path("serverInfo").path("name").asString()).isEqualTo("sentinel-test");
    assertThat(result.path("serverInfo").path("version").asString()).isEqualTo("1.2.3");
    assertThat(result.path("instructions").asString())
        .isEqualTo("alpha: use alpha for echoes\n\nbeta: beta knows prompts");
  }

  @Test
  void initialize_completionsCapabilityNotShownTo20241105Clients() {
    start(new ScriptedServer("alpha").capability("completions"));
    JsonNode result = fixture.client().initialize("2024-11-05", null);
    assertThat(result.path("capabilities").has("completions")).isFalse();
  }

  @Test
  void initialize_backendNotificationBeforeInitializeReplyIsAccepted() {
    ScriptedServer eager = new ScriptedServer("eager").withTools("t");
    eager.notifyBeforeInitializeReply = true;
    start(eager);
    assertThat(fixture.gateway.backends().get("eager").state()).isEqualTo(BackendStatus.State.UP);
    ScriptedClient client = fixture.client();
    client.initialize();
    assertThat(names(client.call("tools/list", null).result().path("tools"))).containsExactly("eager__t");
  }

  @Test
  void request_beforeInitializeIsRejectedButPingIsAnswered() {
    start(new ScriptedServer("alpha").withTools("echo"));
    ScriptedClient client = fixture.client();

    JsonRpcMessage early = client.call("tools/list", null);
    JsonRpcMessage ping = client.call("ping", null);

    assertThat(early.kind()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(early.error().path("code").asInt()).isEqualTo(-32600);
    assertThat(early.error().path("message").asString()).contains("initialize");
    assertThat(ping.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(fixture.servers.get(0).received("tools/list")).isEmpty();
  }

  @Test
  void initialize_secondInitializeIsRejected() {
    start(new ScriptedServer("alpha"));
    ScriptedClient client = fixture.client();
    client.initialize();
    JsonRpcMessage again = client.call("initialize", NODES.objectNode().put("protocolVersion", "2025-06-18"));
    assertThat(again.error().path("code").asInt()).isEqualTo(-32600);
  }

  // ---- invalid input ----------------------------------------------------------------------

  @Test
  void invalidMessages_getInvalidRequestWithIdWhenRecoverable() {
    start(new ScriptedServer("alpha"));
    ScriptedClient client = fixture.client();
    client.initialize();

    CompletableFuture<JsonRpcMessage> noVersion = client.expect(NODES.numberNode(41));
    client.send(NODES.objectNode().put("id", 41).put("method", "tools/list"));
    CompletableFuture<JsonRpcMessage> batch = client.expect(null);
    client.send(NODES.arrayNode().add(JsonRpc.request(NODES.numberNode(42), "ping", null)));

    assertThat(await(noVersion).error().path("code").asInt()).isEqualTo(-32600);
    JsonRpcMessage batchAnswer = await(batch);
    assertThat(batchAnswer.error().path("code").asInt()).isEqualTo(-32600);
    assertThat(batchAnswer.error().path("message").asString()).contains("batch");

    CompletableFuture<JsonRpcMessage> badId = client.expect(null);
    client.send(NODES.objectNode().put("jsonrpc", "2.0").put("method", "ping").put("id", true));
    assertThat(await(badId).error().path("code").asInt()).isEqualTo(-32600);
  }

  /**
   * Ids no peer answers with the same token: Infinity (what a double-reading transport made of
   * {@code 1e999}: ping was answered with id "Infinity", tools/call not at all), the exact
   * decimal {@code 1e999} (what the wire reads now), a fraction, an integer past 64 bits.
   */
  static Stream<Arguments> idsThatCannotRoundTrip() {
    List<JsonNode> ids = List.of(NODES.numberNode(Double.POSITIVE_INFINITY),
        NODES.numberNode(new BigDecimal("1e999")), NODES.numberNode(1.5),
        NODES.numberNode(new BigInteger("18446744073709551617")));
    List<Arguments> cases = new ArrayList<>();
    for (String method : List.of("ping", "initialize", "tools/list", "tools/call")) {
      ids.forEach(id -> cases.add(Arguments.of(method, id)));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} with id {1}")
  @MethodSource("idsThatCannotRoundTrip")
  void request_withIdThatCannotRoundTrip_isInvalidRequestWithNullId(String method, JsonNode id) {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize();

    CompletableFuture<JsonRpcMessage> refused = client.expect(null);
    client.send(JsonRpc.request(id, method, toolCall("alpha__echo", null)));

    JsonRpcMessage answer = await(refused);
    assertThat(answer.raw().get("id").isNull()).isTrue();
    assertThat(answer.error().path("code").asInt()).isEqualTo(-32600);
    assertThat(answer.error().path("message").asString())
        .isEqualTo("invalid request: \"id\" must be a string or an integer of at most 64 bits");
    assertThat(alpha.received("tools/call")).isEmpty();
    assertThat(fixture.trail()).isEmpty();
  }

  @ParameterizedTest(name = "id {0}")
  @ValueSource(longs = {Long.MAX_VALUE, Long.MIN_VALUE, 0, -1})
  void request_withAny64BitId_isAnsweredWithThatId(long id) {
    start(new ScriptedServer("alpha").withTools("echo"));
    ScriptedClient client = fixture.client();
    client.initialize();

    JsonRpcMessage ping = await(client.request(NODES.numberNode(id), "ping", null));
    JsonRpcMessage call = await(client.request(NODES.numberNode(id), "tools/call", toolCall("alpha__echo", null)));

    assertThat(ping.raw().get("id")).isEqualTo(NODES.numberNode(id));
    assertThat(call.raw().get("id")).isEqualTo(NODES.numberNode(id));
    assertThat(call.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
  }

  @Test
  void backendRequest_withIdThatCannotRoundTrip_isInvalidRequestWithNullId() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    start(alpha);
    fixture.client().initialize();

    alpha.send(JsonRpc.request(NODES.numberNode(new BigDecimal("1e999")), "roots/list", null));

    Conditions.await("alpha is refused", () -> alpha.received.stream().anyMatch(m -> m.isResponse()));
    JsonRpcMessage refused = alpha.received.stream().filter(m -> m.isResponse()).findFirst().orElseThrow();
    assertThat(refused.raw().get("id").isNull()).isTrue();
    assertThat(refused.error().path("code").asInt()).isEqualTo(-32600);
  }

  @Test
  void unknownMethod_isMethodNotFound() {
    start(new ScriptedServer("alpha"));
    ScriptedClient client = fixture.client();
    client.initialize();
    JsonRpcMessage answer = client.call("tools/destroy", null);
    assertThat(answer.error().path("code").asInt()).isEqualTo(-32601);
    assertThat(answer.error().path("message").asString()).contains("tools/destroy");
  }

  @Test
  void unknownToolOrPrompt_isInvalidParamsNamingIt() {
    start(new ScriptedServer("alpha").withTools("echo"), new ScriptedServer("beta"));
    ScriptedClient client = fixture.client();
    client.initialize();

    JsonRpcMessage tool = client.call("tools/call", toolCall("gamma__echo", null));
    JsonRpcMessage prompt = client.call("prompts/get", NODES.objectNode().put("name", "nobody"));

    assertThat(tool.error().path("code").asInt()).isEqualTo(-32602);
    assertThat(tool.error().path("message").asString()).isEqualTo("unknown tool: gamma__echo");
    assertThat(prompt.error().path("message").asString()).isEqualTo("unknown prompt: nobody");
  }

  // ---- lists ------------------------------------------------------------------------------

  @Test
  void toolsList_namespacesFiltersAndKeepsDefinitions() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo", "secret");
    alpha.tools.get(0).put("x-vendor", "kept");
    ScriptedServer beta = new ScriptedServer("beta").withTools("echo");
    start(alpha, beta);
    ScriptedClient client = fixture.client();
    client.initialize();

    JsonNode tools = client.call("tools/list", null).result().path("tools");

    assertThat(names(tools)).containsExactly("alpha__echo", "beta__echo");
    assertThat(tools.get(0).path("x-vendor").asString()).isEqualTo("kept");
    assertThat(tools.get(0).path("description").asString()).isEqualTo("the echo tool");
    assertThat(tools.get(0).path("inputSchema").path("type").asString()).isEqualTo("object");
  }

  @Test
  void toolsList_paginatesAcrossBackendsFollowingEachBackendsCursor() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("a1", "a2", "a3");
    alpha.pageSize = 2;
    ScriptedServer beta = new ScriptedServer("beta").withTools("b1", "b2");
    beta.pageSize = 2;
    start(alpha, beta);
    ScriptedClient client = fixture.client();
    client.initialize();

    List<String> all = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    String cursor = null;
    do {
      ObjectNode params = NODES.objectNode();
      if (cursor != null) {
        params.put("cursor", cursor);
      }
      JsonNode page = client.call("tools/list", params).result();
      all.addAll(names(page.path("tools")));
      pageSizes.add(page.path("tools").size());
      cursor = page.path("nextCursor").isString() ? page.get("nextCursor").asString() : null;
    } while (cursor != null);

    assertThat(all).containsExactly("alpha__a1", "alpha__a2", "alpha__a3", "beta__b1", "beta__b2");
    assertThat(pageSizes).containsExactly(2, 3);
    assertThat(alpha.received("tools/list").get(1).params().path("cursor").asString()).isEqualTo("p2");
  }

  @Test
  void toolsList_invalidCursorIsInvalidParams() {
    start(new ScriptedServer("alpha").withTools("a"));
    ScriptedClient client = fixture.client();
    client.initialize();
    JsonRpcMessage answer = client.call("tools/list", NODES.objectNode().put("cursor", "not-ours"));
    assertThat(answer.error().path("code").asInt()).isEqualTo(-32602);
  }

  @Test
  void lists_singleBackendWithoutPrefixShowsOwnNames() {
    start(builder -> builder.namespacing("__", false), new ScriptedServer("alpha").withTools("echo"));
    ScriptedClient client = fixture.client();
    client.initialize();
    assertThat(names(client.call("tools/list", null).result().path("tools"))).containsExactly("echo");
    JsonRpcMessage call = client.call("tools/call", toolCall("echo", null));
    assertThat(call.result().path("received").path("name").asString()).isEqualTo("echo");
  }

  @Test
  void lists_allowedWithoutAListRuleAndRefusedByAnExplicitDeny() {
    String toolsOnly = "rules:\n  - id: tools\n    allow: { tools: [\"*\"] }\n";
    fixture = new GatewayFixture(toolsOnly, List.of(new ScriptedServer("alpha").withTools("echo")), b -> {});
    ScriptedClient client = fixture.client();
    client.initialize();
    assertThat(names(client.call("tools/list", null).result().path("tools"))).containsExactly("alpha__echo");
    fixture.close();

    String noListing = toolsOnly + "  - id: no-listing\n    deny: { methods: [\"tools/list\"] }\n";
    fixture = new GatewayFixture(noListing, List.of(new ScriptedServer("alpha").withTools("echo")), b -> {});
    client = fixture.client();
    client.initialize();
    JsonRpcMessage list = client.call("tools/list", null);
    assertThat(list.error().path("code").asInt()).isEqualTo(-32012);
    assertThat(list.error().path("message").asString()).contains("no-listing");
    assertThat(client.call("tools/call", toolCall("alpha__echo", null)).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
  }

  @Test
  void promptsResourcesAndTemplates_areAggregated() {
    ScriptedServer alpha = new ScriptedServer("alpha").capability("resources").capability("prompts");
    alpha.prompts.add(NODES.objectNode().put("name", "greet"));
    alpha.resources.add(NODES.objectNode().put("uri", "file:///a.txt").put("name", "a"));
    ScriptedServer beta = new ScriptedServer("beta").capability("resources");
    beta.templates.add(NODES.objectNode().put("uriTemplate", "db://rows/{id}").put("name", "row"));
    start(alpha, beta);
    ScriptedClient client = fixture.client();
    client.initialize();

    assertThat(names(client.call("prompts/list", null).result().path("prompts"))).containsExactly("alpha__greet");
    JsonNode resources = client.call("resources/list", null).result().path("resources");
    assertThat(resources.get(0).path("uri").asString()).isEqualTo("file:///a.txt");
    assertThat(resources.get(0).path("name").asString()).isEqualTo("alpha__a");
    JsonNode templates = client.call("resources/templates/list", null).result().path("resourceTemplates");
    assertThat(templates.get(0).path("uriTemplate").asString()).isEqualTo("db://rows/{id}");

    JsonRpcMessage fromTemplate = client.call("resources/read", NODES.objectNode().put("uri", "db://rows/7"));
    JsonRpcMessage listed = client.call("resources/read", NODES.objectNode().put("uri", "file:///a.txt"));
    assertThat(fromTemplate.result().path("server").asString()).isEqualTo("beta");
    assertThat(listed.result().path("server").asString()).isEqualTo("alpha");
    assertThat(alpha.received("resources/read")).hasSize(1);
  }

  @Test
  void resourcesRead_unlistedUriIsRoutedByTheBackendsListsNeverTriedInTurn() {
    ScriptedServer alpha = new ScriptedServer("alpha").capability("resources");
    ScriptedServer beta = new ScriptedServer("beta").capability("resources");
    beta.resources.add(NODES.objectNode().put("uri", "mem://x").put("name", "x"));
    start(alpha, beta);
    ScriptedClient client = fixture.client();
    client.initialize();

    JsonRpcMessage found = client.call("resources/read", NODES.objectNode().put("uri", "mem://x"));
    JsonRpcMessage missing = client.call("resources/read", NODES.objectNode().put("uri", "mem://none"));

    assertThat(found.result().path("server").asString()).isEqualTo("beta");
    assertThat(alpha.received("resources/read")).isEmpty();
    assertThat(beta.received("resources/read")).hasSize(1);
    assertThat(missing.error().path("code").asInt()).isEqualTo(-32012);
    assertThat(missing.error().path("message").asString()).contains("no backend serves resource 'mem://none'");
    assertThat(missing.error().path("data").path("rules").get(0).asString()).isEqualTo("routing");
    assertThat(fixture.trail()).extracting(AuditEvent::backend, AuditEvent::outcome)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("beta", Outcome.ALLOWED),
            org.assertj.core.groups.Tuple.tuple(null, Outcome.DENIED));
  }

  @Test
  void resourcesSubscribe_updatesReachSubscribedClientsOnlyAndSharedLogsReachNoClient() {
    ScriptedServer alpha = new ScriptedServer("alpha");
    alpha.capabilities.putObject("resources").put("subscribe", true);
    alpha.resources.add(NODES.objectNode().put("uri", "file:///a.txt").put("name", "a"));
    start(builder -> builder.backend("alpha", alpha::connect, BackendOptions.of(Isolation.SHARED)));
    ScriptedClient subscriber = fixture.client();
    subscriber.initialize();
    ScriptedClient other = fixture.client();
    other.initialize();
    client(subscriber).call("resources/list", null);

    JsonRpcMessage subscribed = subscriber.call("resources/subscribe", NODES.objectNode().put("uri", "file:///a.txt"));
    alpha.send(JsonRpc.notification("notifications/resources/updated", NODES.objectNode().put("uri", "file:///a.txt")));
    alpha.send(JsonRpc.notification("notifications/message", NODES.objectNode().put("level", "info").put("data", "hi")));

    assertThat(subscribed.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    Conditions.await("the update reaches the subscriber", () -> !subscriber.notifications("notifications/resources/updated").isEmpty());
    Conditions.await("the log message is counted", () -> fixture.gateway.backendLogMessages().get("alpha") == 1);
    assertThat(other.notifications("notifications/resources/updated")).isEmpty();
    assertThat(subscriber.notifications("notifications/message")).isEmpty();
    assertThat(other.notifications("notifications/message")).isEmpty();
  }

  @Test
  void resourcesSubscribe_isMadeAgainWhenTheBackendRestarts_andUpdatesKeepComing() {
    ScriptedServer alpha = new ScriptedServer("alpha");
    alpha.capabilities.putObject("resources").put("subscribe", true);
    alpha.resources.add(NODES.objectNode().put("uri", "file:///a.txt").put("name", "a"));
    alpha.resources.add(NODES.objectNode().put("uri", "file:///b.txt").put("name", "b"));
    start(builder -> builder.restartBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
        .backend("alpha", alpha::connect, BackendOptions.of(Isolation.SHARED)));
    ScriptedClient subscriber = fixture.client();
    subscriber.initialize();
    client(subscriber).call("resources/list", null);
    subscriber.call("resources/subscribe", NODES.objectNode().put("uri", "file:///a.txt"));
    subscriber.call("resources/subscribe", NODES.objectNode().put("uri", "file:///b.txt"));
    subscriber.call("resources/unsubscribe", NODES.objectNode().put("uri", "file:///b.txt"));

    alpha.crash();
    Conditions.await("alpha is down", () -> fixture.gateway.backends().get("alpha").state() == BackendStatus.State.DOWN);
    fixture.clock.advance(Duration.ofSeconds(1));
    Conditions.await("alpha is up again", () -> fixture.gateway.backends().get("alpha").state() == BackendStatus.State.UP);
    Conditions.await("the subscription is made again", () -> alpha.received("resources/subscribe").size() == 3);

    assertThat(alpha.received("resources/subscribe")).extracting(m -> m.params().path("uri").asString())
        .as("a.txt again; b.txt, unsubscribed, not").containsExactly("file:///a.txt", "file:///b.txt", "file:///a.txt");
    alpha.send(JsonRpc.notification("notifications/resources/updated", NODES.objectNode().put("uri", "file:///a.txt")));
    Conditions.await("the update after the restart reaches the subscriber",
        () -> !subscriber.notifications("notifications/resources/updated").isEmpty());
  }

  @ParameterizedTest
  @EnumSource(Isolation.class)
  void aResourceAReloadTookAway_getsNoMoreUpdates_andIsNotSubscribedAgainAfterARestart(Isolation isolation) {
    ScriptedServer alpha = new ScriptedServer("alpha");
    alpha.capabilities.putObject("resources").put("subscribe", true);
    alpha.resources.add(NODES.objectNode().put("uri", "file:///a.txt").put("name", "a"));
    alpha.resources.add(NODES.objectNode().put("uri", "file:///b.txt").put("name", "b"));
    start(builder -> builder.restartBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
        .backend("alpha", alpha::connect, BackendOptions.of(isolation)));
    ScriptedClient subscriber = fixture.client();
    subscriber.initialize();
    subscriber.call("resources/list", null);
    subscriber.call("resources/subscribe", NODES.objectNode().put("uri", "file:///a.txt"));
    subscriber.call("resources/subscribe", NODES.objectNode().put("uri", "file:///b.txt"));

    fixture.sentinel.reconfigure(PolicyEngine.parse(GatewayFixture.POLICY
        + "  - id: not-a\n    deny: { resources: [\"file:///a.txt\"] }\n", "policy.yaml"));
    alpha.send(JsonRpc.notification("notifications/resources/updated", NODES.objectNode().put("uri", "file:///a.txt")));
    alpha.send(JsonRpc.notification("notifications/resources/updated", NODES.objectNode().put("uri", "file:///b.txt")));
    Conditions.await(isolation + ": b's update arrives",
        () -> !subscriber.notifications("notifications/resources/updated").isEmpty());
    assertThat(subscriber.notifications("notifications/resources/updated"))
        .extracting(m -> m.params().path("uri").asString()).as(isolation + ": a's update, sent first, does not")
        .containsExactly("file:///b.txt");

    alpha.crash();
    Conditions.await("alpha is down", () -> fixture.gateway.backends().get("alpha").state() == BackendStatus.State.DOWN);
    fixture.clock.advance(Duration.ofSeconds(1));
    Conditions.await("alpha is up again", () -> fixture.gateway.backends().get("alpha").state() == BackendStatus.State.UP);
    Conditions.await(isolation + ": b is subscribed again", () -> alpha.received("resources/subscribe").size() == 3);
    assertThat(alpha.received("resources/subscribe")).extracting(m -> m.params().path("uri").asString())
        .as(isolation + ": a, which the policy took away, is not asked for again")
        .containsExactly("file:///a.txt", "file:///b.txt", "file:///b.txt");
  }

  @Test
  void perPrincipal_aResourceOnePrincipalLost_reachesOnlyTheOther_andBobsRestartDoesNotAskForIt() {
    ScriptedServer alpha = new ScriptedServer("alpha");
    alpha.capabilities.putObject("resources").put("subscribe", true);
    alpha.resources.add(NODES.objectNode().put("uri", "file:///a.txt").put("name", "a"));
    alpha.resources.add(NODES.objectNode().put("uri", "file:///b.txt").put("name", "b"));
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(), GatewayFixture.twoPrincipals(),
        builder -> builder.restartBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
            .backend("alpha", alpha::connect, BackendOptions.of(Isolation.PER_PRINCIPAL)));
    ScriptedClient alice = fixture.client(dev.sentinel.api.Credentials.bearer("alice"));
    alice.initialize();
    alice.call("resources/subscribe", NODES.objectNode().put("uri", "file:///a.txt"));
    ScriptedClient bob = fixture.client(dev.sentinel.api.Credentials.bearer("bob"));
    bob.initialize();
    bob.call("resources/subscribe", NODES.objectNode().put("uri", "file:///a.txt"));
    bob.call("resources/subscribe", NODES.objectNode().put("uri", "file:///b.txt"));
    assertThat(alpha.open).as("one connection per principal").hasSize(2);
    assertThat(alpha.received("resources/subscribe")).hasSize(3);

    fixture.sentinel.reconfigure(PolicyEngine.parse(GatewayFixture.POLICY
        + "  - id: bob-not-a\n    deny: { principals: [bob], resources: [\"file:///a.txt\"] }\n", "policy.yaml"));
    for (var connection : alpha.open) {
      alpha.send(connection, JsonRpc.notification("notifications/resources/updated",
          NODES.objectNode().put("uri", "file:///a.txt")));
      alpha.send(connection, JsonRpc.notification("notifications/resources/updated",
          NODES.objectNode().put("uri", "file:///b.txt")));
    }
    Conditions.await("alice hears of a", () -> !alice.notifications("notifications/resources/updated").isEmpty());
    Conditions.await("bob hears of b", () -> !bob.notifications("notifications/resources/updated").isEmpty());
    assertThat(alice.notifications("notifications/resources/updated")).extracting(m -> m.params().path("uri").asString())
        .containsExactly("file:///a.txt");
    assertThat(bob.notifications("notifications/resources/updated")).extracting(m -> m.params().path("uri").asString())
        .as("a's update, sent before b's on bob's connection, does not reach bob").containsExactly("file:///b.txt");

    alpha.crash(); // bob's connection, the newest
    Conditions.await("bob's connection restarts after its backoff", () -> {
      fixture.clock.advance(Duration.ofSeconds(1));
      return alpha.connections.get() == 3 && alpha.open.size() == 2;
    });
    Conditions.await("b is subscribed again", () -> alpha.received("resources/subscribe").size() == 4);
    assertThat(alpha.received("resources/subscribe")).extracting(m -> m.params().path("uri").asString())
        .as("only b, on bob's new connection").endsWith("file:///b.txt").hasSize(4);
  }

  private static ScriptedClient client(ScriptedClient client) {
    return client;
  }

  @Test
  void promptsGetAndCompletion_routeToOwningBackendWithBackendName() {
    ScriptedServer alpha = new ScriptedServer("alpha").capability("prompts").capability("completions");
    alpha.prompts.add(NODES.objectNode().put("name", "greet"));
    start(alpha, new ScriptedServer("beta"));
    ScriptedClient client = fixture.client();
    client.initialize();

    ObjectNode get = NODES.objectNode().put("name", "alpha__greet");
    get.putObject("arguments").put("who", "ann");
    JsonRpcMessage prompt = client.call("prompts/get", get);
    ObjectNode complete = NODES.objectNode();
    complete.putObject("ref").put("type", "ref/prompt").put("name", "alpha__greet");
    complete.putObject("argument").put("name", "who").put("value", "a");
    JsonRpcMessage completion = client.call("completion/complete", complete);

    assertThat(prompt.result().path("received").path("name").asString()).isEqualTo("greet");
    assertThat(prompt.result().path("received").path("arguments").path("who").asString()).isEqualTo("ann");
    assertThat(completion.result().path("received").path("ref").path("name").asString()).isEqualTo("greet");
    List<AuditEvent> trail = fixture.trail();
    assertThat(trail).extracting(AuditEvent::name).containsExactly("alpha__greet", "alpha__greet");
    assertThat(trail.get(0).arguments().path("who").asString()).isEqualTo("ann");
  }

  @Test
  void loggingSetLevel_reachesTheSessionsOwnConnectionsWithLogging() {
    ScriptedServer alpha = new ScriptedServer("alpha").capability("logging");
    ScriptedServer beta = new ScriptedServer("beta").capability("logging");
    ScriptedServer gamma = new ScriptedServer("gamma");
    start(alpha, beta, gamma);
    ScriptedClient client = fixture.client();
    client.initialize();
    client.call("tools/list", null); // each backend gives the session its connection

    JsonRpcMessage answer = client.call("logging/setLevel", NODES.objectNode().put("level", "debug"));

    assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    Conditions.await("alpha and beta hear it", () -> alpha.received("logging/setLevel").size() == 1
        && beta.received("logging/setLevel").size() == 1);
    assertThat(gamma.received("logging/setLevel")).isEmpty();
    assertThat(fixture.trail()).filteredOn(event -> event.method().equals("logging/setLevel")).hasSize(1);
  }

  @Test
  void loggingSetLevel_isRememberedForConnectionsMadeLaterAndNeverSentToASharedOne() {
    ScriptedServer alpha = new ScriptedServer("alpha").capability("logging");
    ScriptedServer shared = new ScriptedServer("shared").capability("logging");
    start(builder -> builder.backend("alpha", alpha::connect)
        .backend("shared", shared::connect, BackendOptions.of(Isolation.SHARED)));
    ScriptedClient client = fixture.client();
    client.initialize();

    client.call("logging/setLevel", NODES.objectNode().put("level", "warning"));
    assertThat(alpha.received("logging/setLevel")).isEmpty();
    client.call("tools/list", null);

    Conditions.await("alpha hears the level with its first request", () -> alpha.received("logging/setLevel").size() == 1);
    assertThat(alpha.received("logging/setLevel").get(0).params().path("level").asString()).isEqualTo("warning");
    assertThat(shared.received("logging/setLevel")).isEmpty();
  }

  // ---- calls and governance ---------------------------------------------------------------

  @Test
  void toolsCall_routesStrippedNameAndKeepsUnknownFieldsBothWays() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    ScriptedServer beta = new ScriptedServer("beta").withTools("echo");
    beta.handlers.put("tools/call", request -> {
      ObjectNode response = JsonRpc.result(request.id(), NODES.objectNode().put("x-result-extra", 1));
      response.put("x-top-level", "kept");
      return response;
    });
    start(alpha, beta);
    ScriptedClient client = fixture.client();
    client.initialize();

    ObjectNode params = toolCall("beta__echo", NODES.objectNode().put("text", "hi"));
    params.put("x-param-extra", true);
    params.putObject("_meta").put("x-meta", "m");
    ObjectNode message = JsonRpc.request(NODES.stringNode("req-1"), "tools/call", params);
    message.put("x-envelope", "e");
    CompletableFuture<JsonRpcMessage> answer = client.expect(NODES.stringNode("req-1"));
    client.send(message);
    JsonRpcMessage response = await(answer);

    assertThat(response.id().isString()).isTrue();
    assertThat(response.id().asString()).isEqualTo("req-1");
    assertThat(response.raw().path("x-top-level").asString()).isEqualTo("kept");
    assertThat(response.result().path("x-result-extra").asInt()).isEqualTo(1);
    JsonRpcMessage seen = beta.received("tools/call").get(0);
    assertThat(seen.params().path("name").asString()).isEqualTo("echo");
    assertThat(seen.params().path("x-param-extra").asBoolean()).isTrue();
    assertThat(seen.params().path("_meta").path("x-meta").asString()).isEqualTo("m");
    assertThat(seen.params().path("arguments").path("text").asString()).isEqualTo("hi");
    assertThat(seen.id().isNumber()).isTrue();
    assertThat(alpha.received("tools/call")).isEmpty();
  }

  @Test
  void toolsCall_deniedIsRefusedWithStableErrorAndNeverReachesBackend() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("secret");
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize();

    JsonRpcMessage answer = client.call("tools/call", toolCall("alpha__secret", null));

    JsonNode error = answer.error();
    assertThat(error.path("code").asInt()).isEqualTo(-32012);
    assertThat(error.path("message").asString()).isEqualTo("denied by rule no-secret: secrets stay put");
    assertThat(error.path("data").path("outcome").asString()).isEqualTo("DENIED");
    assertThat(error.path("data").path("rules").get(0).asString()).isEqualTo("no-secret");
    assertThat(error.path("data").path("retryAfterMs").asLong()).isZero();
    assertThat(alpha.received("tools/call")).isEmpty();
    assertThat(fixture.trail()).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.DENIED);
      assertThat(event.name()).isEqualTo("alpha__secret");
      assertThat(event.backend()).isEqualTo("alpha");
      assertThat(event.session()).isNotNull();
      assertThat(event.client()).isEqualTo("test-client");
    });
  }

  @Test
  void toolsCall_backendErrorIsPassedOnAsIsAndAuditedAsFailed() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("broken");
    alpha.handlers.put("tools/call", request -> JsonRpc.error(request.id(), -32099, "backend exploded",
        NODES.objectNode().put("detail", "kept")));
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize();

    JsonRpcMessage answer = client.call("tools/call", toolCall("alpha__broken", null));

    assertThat(answer.error().path("code").asInt()).isEqualTo(-32099);
    assertThat(answer.error().path("message").asString()).isEqualTo("backend exploded");
    assertThat(answer.error().path("data").path("detail").asString()).isEqualTo("kept");
    assertThat(fixture.trail()).singleElement().satisfies(event -> assertThat(event.outcome()).isEqualTo(Outcome.FAILED));
  }

  @Test
  void everyRoutedRequest_isAuditedExactlyOnce() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo", "secret").capability("prompts");
    alpha.prompts.add(NODES.objectNode().put("name", "greet"));
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize();
    client.call("ping", null);

    List<JsonRpcMessage> answers = new ArrayList<>();
    answers.add(client.call("tools/list", null));
    answers.add(client.call("prompts/list", null));
    answers.add(client.call("tools/call", toolCall("alpha__echo", null)));
    answers.add(client.call("tools/call", toolCall("alpha__secret", null)));
    answers.add(client.call("prompts/get", NODES.objectNode().put("name", "alpha__greet")));
    client.call("tools/call", toolCall("nobody__x", null));

    List<AuditEvent> trail = fixture.trail();
    List<String> ids = answers.stream().map(JsonRpcMessage::idText).collect(Collectors.toList());
    assertThat(trail).extracting(AuditEvent::requestId).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(trail).extracting(AuditEvent::method)
        .containsExactly("tools/list", "prompts/list", "tools/call", "tools/call", "prompts/get");
  }

  // ---- ids, progress, cancellation, timeouts ----------------------------------------------

  @Test
  void progress_tokenIsRemappedBothWays() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow");
    alpha.handlers.put("tools/call", request -> {
      JsonNode token = request.params().path("_meta").path("progressToken");
      alpha.send(JsonRpc.notification("notifications/progress",
          NODES.objectNode().set("progressToken", token).put("progress", 1).put("total", 2)));
      return JsonRpc.result(request.id(), NODES.objectNode());
    });
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize();

    ObjectNode params = toolCall("alpha__slow", null);
    params.putObject("_meta").put("progressToken", 77);
    client.call("tools/call", params);

    JsonNode backendToken = alpha.received("tools/call").get(0).params().path("_meta").path("progressToken");
    assertThat(backendToken.isNumber() && backendToken.asInt() == 77).isFalse();
    Conditions.await("the progress notification arrives", () -> !client.notifications("notifications/progress").isEmpty());
    JsonNode progress = client.notifications("notifications/progress").get(0).params();
    assertThat(progress.path("progressToken").isNumber()).isTrue();
    assertThat(progress.path("progressToken").asInt()).isEqualTo(77);
    assertThat(progress.path("total").asInt()).isEqualTo(2);
  }

  /** Progress tokens may be any number (MCP): each is remapped and given back as the same node. */
  @ParameterizedTest(name = "token {0}")
  @ValueSource(strings = {"1e999999", "1.5", "18446744073709551617", "-0.0"})
  void progress_anyNumberToken_isRemappedAndGivenBackExactly(String token) {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow");
    alpha.handlers.put("tools/call", request -> {
      alpha.send(JsonRpc.notification("notifications/progress", NODES.objectNode()
          .put("progress", 1).set("progressToken", request.params().path("_meta").path("progressToken"))));
      return JsonRpc.result(request.id(), NODES.objectNode());
    });
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize();
    JsonNode sent = NODES.numberNode(new BigDecimal(token));

    ObjectNode params = toolCall("alpha__slow", null);
    params.putObject("_meta").set("progressToken", sent);
    client.call("tools/call", params);

    assertThat(alpha.received("tools/call").get(0).params().path("_meta").path("progressToken").isString()).isTrue();
    Conditions.await("the progress notification arrives", () -> !client.notifications("notifications/progress").isEmpty());
    assertThat(client.notifications("notifications/progress").get(0).params().path("progressToken")).isEqualTo(sent);
  }

  @Test
  void progress_manyNotificationsKeepTheBackendsOrder() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow");
    alpha.handlers.put("tools/call", request -> {
      JsonNode token = request.params().path("_meta").path("progressToken");
      for (int step = 1; step <= 50; step++) {
        alpha.send(JsonRpc.notification("notifications/progress",
            NODES.objectNode().set("progressToken", token).put("progress", step).put("total", 50)));
      }
      return JsonRpc.result(request.id(), NODES.objectNode());
    });
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize();

    ObjectNode params = toolCall("alpha__slow", null);
    params.putObject("_meta").put("progressToken", "p");
    client.call("tools/call", params);

    Conditions.await("fifty progress notifications", () -> client.notifications("notifications/progress").size() == 50);
    assertThat(client.notifications("notifications/progress"))
        .extracting(n -> n.params().path("progress").asInt())
        .isSorted()
        .doesNotHaveDuplicates();
  }

  @Test
  void cancellation_fromClientReachesBackendUnderGatewayId() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow");
    alpha.handlers.put("tools/call", request -> null);
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize();

    CompletableFuture<JsonRpcMessage> answer = client.request(NODES.stringNode("c-1"), "tools/call", toolCall("alpha__slow", null));
    Conditions.await("the backend has the call", () -> !alpha.received("tools/call").isEmpty());
    client.send(JsonRpc.notification("notifications/cancelled",
        NODES.objectNode().put("requestId", "c-1").put("reason", "user pressed stop")));

    Conditions.await("the backend hears the cancellation", () -> !alpha.received("notifications/cancelled").isEmpty());
    JsonNode cancelled = alpha.received("notifications/cancelled").get(0).params();
    assertThat(cancelled.path("requestId")).isEqualTo(alpha.received("tools/call").get(0).id());
    Conditions.await("the cancellation is audited", () -> !fixture.trail().isEmpty());
    assertThat(fixture.trail()).singleElement().satisfies(event -> assertThat(event.outcome()).isEqualTo(Outcome.CANCELLED));
    // No answer is due for a cancelled request; a ping afterwards proves the session is alive.
    assertThat(client.call("ping", null).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(answer).isNotDone();
  }

  @Test
  void timeout_cancelsAtBackendAnswersClientAndAuditsTimedOut() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow");
    alpha.handlers.put("tools/call", request -> null);
    start(builder -> builder.requestTimeout(Duration.ofSeconds(5)), alpha);
    ScriptedClient client = fixture.client();
    client.initialize();

    CompletableFuture<JsonRpcMessage> answer = client.request("tools/call", toolCall("alpha__slow", null));
    Conditions.await("the backend has the call", () -> !alpha.received("tools/call").isEmpty());
    fixture.clock.advance(Duration.ofSeconds(6));

    JsonRpcMessage response = await(answer);
    assertThat(response.error().path("code").asInt()).isEqualTo(-32017);
    assertThat(response.error().path("message").asString()).contains("backend alpha did not answer in time");
    Conditions.await("the backend hears the cancellation", () -> !alpha.received("notifications/cancelled").isEmpty());
    assertThat(alpha.received("notifications/cancelled").get(0).params().path("requestId"))
        .isEqualTo(alpha.received("tools/call").get(0).id());
    assertThat(fixture.trail()).singleElement().satisfies(event -> assertThat(event.outcome()).isEqualTo(Outcome.TIMED_OUT));
  }

  /**
   * A forwarded call holds no worker while its backend works: with one worker for the whole
   * gateway, calls still waiting for their backend do not stop the next from being decided,
   * forwarded and answered, and each is answered, and recorded once, when its backend answers.
   */
  @Test
  void forwardedCalls_holdNoWorker_whileTheirBackendWorks() throws Exception {
    ExecutorService oneWorker = Executors.newSingleThreadExecutor();
    try {
      ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow", "echo");
      alpha.handlers.put("tools/call", request -> request.params().path("name").asString().equals("slow") ? null
          : JsonRpc.result(request.id(), NODES.objectNode().put("echoed", true)));
      start(builder -> builder.executor(oneWorker), alpha);
      ScriptedClient client = fixture.client();
      client.initialize();

      List<CompletableFuture<JsonRpcMessage>> slow = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        slow.add(client.request("tools/call", toolCall("alpha__slow", null)));
      }
      Conditions.await("the backend has the slow calls", () -> alpha.received("tools/call").size() == 3);
      JsonRpcMessage quick = client.call("tools/call", toolCall("alpha__echo", null));
      assertThat(quick.result().path("echoed").asBoolean()).isTrue();
      assertThat(slow).noneMatch(CompletableFuture::isDone);

      // The backend answers the slow calls last, in another order: each reaches its own caller.
      List<JsonRpcMessage> held = alpha.received("tools/call").stream()
          .filter(request -> request.params().path("name").asString().equals("slow")).collect(Collectors.toList());
      for (int i = held.size() - 1; i >= 0; i--) {
        alpha.send(JsonRpc.result(held.get(i).id(), NODES.objectNode().put("slow", i)));
      }
      for (int i = 0; i < slow.size(); i++) {
        assertThat(await(slow.get(i)).result().path("slow").asInt()).isEqualTo(i);
      }
      Conditions.await("every call is recorded", () -> fixture.trail().size() == 4);
      assertThat(fixture.trail()).extracting(AuditEvent::outcome).containsOnly(Outcome.ALLOWED);
    } finally {
      oneWorker.shutdownNow();
    }
  }

  /** A resource read waiting for its backend holds no worker either, and is answered when it answers. */
  @Test
  void resourceRead_holdsNoWorker_whileItsBackendWorks() throws Exception {
    ExecutorService oneWorker = Executors.newSingleThreadExecutor();
    try {
      ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo").capability("resources");
      alpha.resources.add(NODES.objectNode().put("uri", "mem://slow").put("name", "slow"));
      alpha.handlers.put("resources/read", request -> null);
      start(builder -> builder.executor(oneWorker), alpha);
      ScriptedClient client = fixture.client();
      client.initialize();

      CompletableFuture<JsonRpcMessage> read = client.request("resources/read",
          NODES.objectNode().put("uri", "mem://slow"));
      Conditions.await("the backend has the read", () -> alpha.received("resources/read").size() == 1);
      assertThat(client.call("tools/call", toolCall("alpha__echo", null)).kind())
          .isEqualTo(JsonRpcMessage.Kind.RESULT);
      assertThat(read).isNotDone();

      ObjectNode contents = NODES.objectNode();
      contents.putArray("contents").addObject().put("uri", "mem://slow").put("text", "at last");
      alpha.send(JsonRpc.result(alpha.received("resources/read").get(0).id(), contents));
      assertThat(await(read).result().at("/contents/0/text").asString()).isEqualTo("at last");
      Conditions.await("both calls are recorded", () -> fixture.trail().size() == 2);
      assertThat(fixture.trail()).extracting(AuditEvent::method).containsExactlyInAnyOrder("tools/call",
          "resources/read");
    } finally {
      oneWorker.shutdownNow();
    }
  }

  @Test
  void tooManyPending_isRefusedAtOnce() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow");
    alpha.handlers.put("tools/call", request -> null);
    start(builder -> builder.maxPendingRequests(2), alpha);
    ScriptedClient client = fixture.client();
    client.initialize();

    client.request("tools/call", toolCall("alpha__slow", null));
    client.request("tools/call", toolCall("alpha__slow", null));
    Conditions.await("both calls reached the backend", () -> alpha.received("tools/call").size() == 2);
    JsonRpcMessage third = client.call("tools/call", toolCall("alpha__slow", null));

    assertThat(third.error().path("code").asInt()).isEqualTo(-32000);
    assertThat(third.error().path("message").asString()).contains("too many pending requests");
    assertThat(client.call("ping", null).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
  }

  @Test
  void duplicateInFlightId_isRejected() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow");
    alpha.handlers.put("tools/call", request -> null);
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize();
    client.request(NODES.numberNode(5), "tools/call", toolCall("alpha__slow", null));
    Conditions.await("the call reached the backend", () -> alpha.received("tools/call").size() == 1);
    JsonRpcMessage duplicate = await(client.request(NODES.numberNode(5), "tools/list", null));
    assertThat(duplicate.error().path("code").asInt()).isEqualTo(-32600);
  }

  // ---- before start -----------------------------------------------------------------------

  /** The fixture's pipeline, for a gateway the test builds itself (and closes). */
  private static Sentinel pipeline() {
    return Sentinel.builder()
        .clock(new ManualClock())
        .instance("test")
        .authenticator(Authenticator.fixed(Principal.of("ann", "user")))
        .policy(PolicyEngine.parse(GatewayFixture.POLICY, "policy.yaml"))
        .audit(AuditDispatcher.builder().sink(new RecordingSink()).build())
        .build();
  }

  /** A gateway over one shared backend, built and not started. */
  private static McpGateway unstarted(Sentinel sentinel, ScriptedServer server) {
    return McpGateway.builder().sentinel(sentinel)
        .backend(server.name, server::connect, BackendOptions.of(Isolation.SHARED))
        .build();
  }

  @Test
  void backends_sharedBackendBeforeStartIsStartingThenDownOnceClosed() {
    try (Sentinel sentinel = pipeline(); McpGateway gateway = unstarted(sentinel, new ScriptedServer("alpha"))) {
      BackendStatus alpha = gateway.backends().get("alpha");
      assertThat(alpha.state()).isEqualTo(BackendStatus.State.STARTING);
      assertThat(alpha.protocolVersion()).isNull();
      assertThat(alpha.connections()).isZero();

      gateway.close();

      assertThat(gateway.backends().get("alpha").state()).isEqualTo(BackendStatus.State.DOWN);
    }
  }

  @Test
  void call_toSharedBackendOfGatewayNotStartedIsAnsweredUnavailable() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    try (Sentinel sentinel = pipeline(); McpGateway gateway = unstarted(sentinel, alpha)) {
      ScriptedClient client = new ScriptedClient(gateway, Credentials.launch());
      client.initialize();

      JsonRpcMessage call = client.call("tools/call", toolCall("alpha__echo", null));

      assertThat(call.error().path("code").asInt()).isEqualTo(-32603);
      assertThat(call.error().path("message").asString()).isEqualTo("backend alpha is unavailable");
      assertThat(alpha.received("tools/call")).isEmpty();
    }
  }

  // ---- backend failures -------------------------------------------------------------------

  @Test
  void backendCrash_failsInFlightHidesToolsAndRestartsWithBackoff() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow");
    alpha.handlers.put("tools/call", request -> null);
    ScriptedServer beta = new ScriptedServer("beta").withTools("echo");
    start(builder -> builder.restartBackoff(Duration.ofSeconds(1), Duration.ofSeconds(8)), alpha, beta);
    ScriptedClient client = fixture.client();
    client.initialize();

    CompletableFuture<JsonRpcMessage> inFlight = client.request("tools/call", toolCall("alpha__slow", null));
    Conditions.await("the backend has the call", () -> !alpha.received("tools/call").isEmpty());
    alpha.crash();

    JsonRpcMessage failed = await(inFlight);
    assertThat(failed.error().path("code").asInt()).isEqualTo(-32603);
    assertThat(failed.error().path("message").asString()).isEqualTo("backend alpha failed");
    Conditions.await("alpha is down", () -> fixture.gateway.backends().get("alpha").state() == BackendStatus.State.DOWN);
    Conditions.await("clients hear the list changed", () -> !client.notifications("notifications/tools/list_changed").isEmpty());
    assertThat(names(client.call("tools/list", null).result().path("tools"))).containsExactly("beta__echo");
    assertThat(client.call("tools/call", toolCall("beta__echo", null)).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    JsonRpcMessage whileDown = client.call("tools/call", toolCall("alpha__slow", null));
    assertThat(whileDown.error().path("code").asInt()).isEqualTo(-32603);
    assertThat(whileDown.error().path("message").asString()).contains("backend alpha is unavailable");

    alpha.handlers.remove("tools/call");
    fixture.clock.advance(Duration.ofSeconds(1));
    Conditions.await("alpha is up again", () -> fixture.gateway.backends().get("alpha").state() == BackendStatus.State.UP);

    assertThat(fixture.gateway.backends().get("alpha").restarts()).isEqualTo(1);
    assertThat(alpha.connections).hasValue(2);
    assertThat(client.call("tools/call", toolCall("alpha__slow", null)).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    Conditions.await("clients hear the list changed again",
        () -> client.notifications("notifications/tools/list_changed").size() >= 2);
  }

  @Test
  void backendFailingAtStart_isDownAndRetried() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
    fixture = new GatewayFixture(List.of(), builder -> builder
        .restartBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
        .backend("alpha", () -> {
          if (attempts.incrementAndGet() == 1) {
            throw new IllegalStateException("no such command");
          }
          return alpha.connect();
        }));
    Map<String, BackendStatus> statuses = fixture.gateway.backends();
    assertThat(statuses.get("alpha").state()).isEqualTo(BackendStatus.State.DOWN);
    assertThat(statuses.get("alpha").lastError()).contains("no such command");

    fixture.clock.advance(Duration.ofSeconds(1));
    Conditions.await("alpha is up", () -> fixture.gateway.backends().get("alpha").state() == BackendStatus.State.UP);
  }

  @Test
  void backendFailureDetail_goesToTheTrailNeverToTheClient() {
    fixture = new GatewayFixture(List.of(), builder -> builder
        .backend("alpha", () -> {
          throw new IllegalStateException("cannot run /opt/tools/server --token=tok_9f8e7d6c5b4a3f2e1d0c");
        }));
    ScriptedClient client = fixture.client();
    client.initialize();

    JsonRpcMessage answer = client.call("tools/call", toolCall("alpha__anything", null));

    assertThat(answer.error().path("code").asInt()).isEqualTo(-32603);
    assertThat(answer.error().path("message").asString()).isEqualTo("backend alpha is unavailable");
    assertThat(answer.raw().toString()).doesNotContain("/opt/tools").doesNotContain("tok_9f8e");
    assertThat(fixture.trail()).singleElement().satisfies(event -> {
      assertThat(event.errorMessage()).contains("cannot connect: cannot run /opt/tools/server")
          .doesNotContain("tok_9f8e7d6c5b4a3f2e1d0c");
    });
    assertThat(fixture.gateway.backends().get("alpha").lastError()).contains("cannot run");
  }

  // ---- server-to-client requests ----------------------------------------------------------

  @Test
  void sampling_isRelayedToTheCallingClientAndAnsweredBack() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("think");
    alpha.handlers.put("tools/call", request -> {
      alpha.request(NODES.stringNode("s-1"), "sampling/createMessage", NODES.objectNode().put("maxTokens", 5))
          .thenAccept(answer -> alpha.send(JsonRpc.result(request.id(), NODES.objectNode().set("sampled", answer.raw()))));
      return null;
    });
    start(alpha);
    ScriptedClient client = fixture.client();
    ObjectNode caps = NODES.objectNode();
    caps.putObject("sampling");
    client.initialize("2025-06-18", caps);
    client.onRequest = request -> {
      ObjectNode result = NODES.objectNode().put("role", "assistant").put("model", "m");
      result.putObject("content").put("type", "text").put("text", "sampled " + request.params().path("maxTokens").asInt());
      return JsonRpc.result(request.id(), result);
    };

    JsonRpcMessage answer = client.call("tools/call", toolCall("alpha__think", null));

    JsonNode sampled = answer.result().path("sampled");
    assertThat(sampled.path("id").asString()).isEqualTo("s-1");
    assertThat(sampled.path("result").path("content").path("text").asString()).isEqualTo("sampled 5");
    assertThat(client.requests.get(0).id().isNumber()).isTrue();
    assertThat(fixture.trail()).extracting(AuditEvent::method).containsExactlyInAnyOrder("sampling/createMessage", "tools/call");
  }

  @Test
  void sampling_refusedByPolicyIsAnErrorToTheBackend() {
    ScriptedServer beta = new ScriptedServer("beta").withTools("think");
    CompletableFuture<JsonRpcMessage> sampling = new CompletableFuture<>();
    beta.handlers.put("tools/call", request -> {
      beta.request("sampling/createMessage", NODES.objectNode()).thenAccept(answer -> {
        sampling.complete(answer);
        beta.send(JsonRpc.result(request.id(), NODES.objectNode()));
      });
      return null;
    });
    start(beta);
    ScriptedClient client = fixture.client();
    ObjectNode caps = NODES.objectNode();
    caps.putObject("sampling");
    client.initialize("2025-11-25", caps);

    client.call("tools/call", toolCall("beta__think", null));

    JsonRpcMessage refused = await(sampling);
    assertThat(refused.error().path("code").asInt()).isEqualTo(-32012);
    assertThat(refused.error().path("message").asString()).isEqualTo("denied by rule no-sampling-from-beta: beta may not sample");
    assertThat(client.requests).isEmpty();
  }

  @Test
  void elicitation_toClientWithoutCapabilityIsAnErrorToTheBackend() {
    ScriptedServer alpha = new ScriptedServer("alpha");
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize("2025-06-18", null);

    JsonRpcMessage answer = await(alpha.request("elicitation/create", NODES.objectNode().put("message", "name?")));

    assertThat(answer.error().path("code").asInt()).isEqualTo(-32601);
    assertThat(answer.error().path("message").asString()).contains("elicitation/create");
    assertThat(client.requests).isEmpty();
  }

  @Test
  void rootsList_isRelayedAndCancellationFromBackendReachesClient() {
    ScriptedServer alpha = new ScriptedServer("alpha");
    start(alpha);
    ScriptedClient client = fixture.client();
    ObjectNode caps = NODES.objectNode();
    caps.putObject("roots").put("listChanged", true);
    client.initialize("2024-11-05", caps);
    client.onRequest = request -> null;
    client.call("tools/list", null); // the session claims its connection to alpha

    alpha.request(NODES.numberNode(9), "roots/list", null);
    Conditions.await("the client has the request", () -> !client.requests.isEmpty());
    alpha.send(JsonRpc.notification("notifications/cancelled", NODES.objectNode().put("requestId", 9)));

    Conditions.await("the client hears the cancellation", () -> !client.notifications("notifications/cancelled").isEmpty());
    assertThat(client.notifications("notifications/cancelled").get(0).params().path("requestId"))
        .isEqualTo(client.requests.get(0).id());
    Conditions.await("the relay is audited", () -> fixture.trail().size() == 2);
    assertThat(fixture.trail()).filteredOn(event -> !event.method().equals("tools/list")).singleElement().satisfies(event -> {
      assertThat(event.method()).isEqualTo("roots/list");
      assertThat(event.outcome()).isEqualTo(Outcome.CANCELLED);
    });
  }

  @Test
  void listChanged_fromBackendIsForwardedAndRootsListChangedReachesBackends() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("t");
    start(alpha);
    ScriptedClient client = fixture.client();
    ObjectNode caps = NODES.objectNode();
    caps.putObject("roots").put("listChanged", true);
    client.initialize("2025-11-25", caps);
    client.call("tools/list", null); // the session claims its connection to alpha

    alpha.send(JsonRpc.notification("notifications/prompts/list_changed", null));
    client.send(JsonRpc.notification("notifications/roots/list_changed", null));

    Conditions.await("the client hears it", () -> !client.notifications("notifications/prompts/list_changed").isEmpty());
    Conditions.await("the backend hears it", () -> !alpha.received("notifications/roots/list_changed").isEmpty());
  }

  @Test
  void rootsListChanged_fromAClientWithoutRoots_neverReachesBackends() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("t");
    start(alpha);
    ScriptedClient client = fixture.client();
    client.initialize("2025-11-25", NODES.objectNode());

    client.send(JsonRpc.notification("notifications/roots/list_changed", null));
    client.call("tools/call", toolCall("alpha__t", null));

    // Forwarding is synchronous on the client's delivery, so it would have preceded the call.
    assertThat(alpha.received("tools/call")).hasSize(1);
    assertThat(alpha.received("notifications/roots/list_changed")).isEmpty();
  }

  @Test
  void close_endsSessionsAndBackends() {
    start(new ScriptedServer("alpha"));
    ScriptedClient client = fixture.client();
    client.initialize();
    fixture.gateway.close();
    assertThat(client.session.closed()).isCompleted();
    assertThat(fixture.gateway.backends().get("alpha").state()).isEqualTo(BackendStatus.State.DOWN);
  }
}
