package dev.sentinel.mcp.engine;

import static dev.sentinel.mcp.engine.ScriptedClient.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Authenticator;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.approval.ApprovalConfirmer;
import dev.sentinel.core.approval.RoutingConfirmer;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.policy.ConfirmSettings.By;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.WatchedApprovalStore;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Confirm rules answered by the caller through MCP elicitation, end to end through the engine:
 * the question reaches the session that made the call, only that session's answer to that
 * question counts, and anything but accept keeps the call from the backend.
 */
class CallerConfirmationTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String POLICY = String.join("\n",
      "rules:",
      "  - id: everything",
      "    allow: {}",
      "  - id: refunds",
      "    confirm: { tools: [\"alpha__refund\"] }",
      "    reason: refunds move money",
      "    by: caller",
      "    wait: 30s",
      "  - id: wires",
      "    confirm: { tools: [\"alpha__wire\"] }",
      "    reason: wires need a second person",
      "    by: operator",
      "    wait: 5m",
      "");

  private final WatchedApprovalStore approvals = new WatchedApprovalStore();
  private final ScriptedServer alpha = new ScriptedServer("alpha").withTools("refund", "wire", "read");
  private GatewayFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  /** The gateway with the stock confirmers: by the rules' {@code by:}, else {@code fallback}. */
  private GatewayFixture start(By fallback) {
    fixture = new GatewayFixture(POLICY, List.of(alpha), Authenticator.fixed(Principal.of("ann", "user")),
        (pipeline, f) -> {
          ApprovalConfirmer operators = ApprovalConfirmer.create(approvals, f.clock,
              () -> f.sentinel.policy(), () -> f.sentinel.revision(), Redactor.defaults())
              .polling(Duration.ofMillis(5));
          pipeline.confirmer(RoutingConfirmer.create(operators, () -> f.sentinel.policy(),
              () -> f.sentinel.revision(), fallback, Redactor.defaults()));
        },
        builder -> {});
    return fixture;
  }

  @Test
  void aCallerThatAccepts_hasItsCallRun_andTheQuestionNamesTheCall() {
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    client.initialize("2025-11-25", elicitation());
    client.onRequest = request -> answer(request, "accept");

    JsonRpcMessage result = client.call("tools/call", toolCall("alpha__refund"));

    assertThat(result.kind()).as(result.raw().toString()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(backendCalls("refund")).isEqualTo(1);
    assertThat(client.requests).singleElement().satisfies(question -> {
      assertThat(question.method()).isEqualTo("elicitation/create");
      assertThat(question.params().path("message").asString())
          .contains("tools/call: alpha__refund (backend alpha)", "\"amount\":40",
              "refunds move money")
          .doesNotContain("hunter2");
      assertThat(question.params().path("requestedSchema").path("properties").isEmpty()).isTrue();
    });
    assertThat(fixture.trail()).filteredOn(e -> "tools/call".equals(e.method())).singleElement()
        .satisfies(e -> {
          assertThat(e.outcome()).isEqualTo(Outcome.ALLOWED);
          assertThat(e.reason()).isEqualTo("confirmed by the caller ann");
        });
    assertThat(approvals.list(10)).isEmpty();
  }

  @Test
  void aCallerThatDeclinesOrDismisses_isRefusedWithMinus32015_andTheBackendNeverSeesTheCall() {
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    client.initialize("2025-11-25", elicitation());
    for (String action : List.of("decline", "cancel", "maybe")) {
      client.onRequest = request -> answer(request, action);
      JsonRpcMessage refused = client.call("tools/call", toolCall("alpha__refund"));
      assertThat(refused.kind()).as(action).isEqualTo(JsonRpcMessage.Kind.ERROR);
      assertThat(refused.error().path("code").asInt()).as(action).isEqualTo(-32015);
    }
    client.onRequest = request -> JsonRpc.error(request.id(), dev.sentinel.mcp.jsonrpc.ErrorCode.INTERNAL_ERROR, "the client broke");
    assertThat(client.call("tools/call", toolCall("alpha__refund")).error().path("code").asInt())
        .isEqualTo(-32015);
    assertThat(backendCalls("refund")).isZero();
    assertThat(fixture.trail()).filteredOn(e -> "tools/call".equals(e.method()))
        .extracting(AuditEvent::reason)
        .containsExactly(
            "the caller declined to confirm this call",
            "the caller dismissed the confirmation of this call",
            "the caller could not be asked to confirm this call: its session ended or its client failed to answer",
            "the caller could not be asked to confirm this call: its session ended or its client failed to answer");
  }

  @Test
  void aClientThatDidNotDeclareElicitation_isNeverAsked_andRefused() {
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    client.initialize("2025-11-25", NODES.objectNode());
    client.onRequest = request -> answer(request, "accept");

    JsonRpcMessage refused = client.call("tools/call", toolCall("alpha__refund"));

    assertThat(refused.error().path("code").asInt()).isEqualTo(-32015);
    assertThat(refused.error().path("message").asString()).contains("the client cannot be asked");
    assertThat(client.requests).isEmpty();
    assertThat(backendCalls("refund")).isZero();
  }

  @Test
  void aClientThatDeclaredOnlyUrlElicitation_isNotAskedAForm() {
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    ObjectNode capabilities = NODES.objectNode();
    capabilities.putObject("elicitation").putObject("url");
    client.initialize("2025-11-25", capabilities);
    client.onRequest = request -> answer(request, "accept");

    assertThat(client.call("tools/call", toolCall("alpha__refund")).error().path("code").asInt())
        .isEqualTo(-32015);
    assertThat(client.requests).isEmpty();
  }

  @Test
  void anotherSessionsAnswer_toTheQuestionsId_confirmsNothing() {
    start(By.OPERATOR);
    ScriptedClient asked = fixture.client();
    asked.initialize("2025-11-25", elicitation());
    CompletableFuture<JsonRpcMessage> question = new CompletableFuture<>();
    asked.onRequest = request -> {
      question.complete(request);
      return null;
    };
    ScriptedClient other = fixture.client();
    other.initialize("2025-11-25", elicitation());

    CompletableFuture<JsonRpcMessage> call = asked.request("tools/call", toolCall("alpha__refund"));
    JsonRpcMessage sent = await(question);
    // Another session answers accept under the question's id, and under its neighbours'.
    for (long id = sent.id().asLong() - 2; id <= sent.id().asLong() + 2; id++) {
      other.send(JsonRpc.result(NODES.numberNode(id), NODES.objectNode().put("action", "accept")));
    }
    // The asked session's own answers, to ids it was not asked, are no answer either.
    asked.send(JsonRpc.result(NODES.numberNode(sent.id().asLong() + 1), NODES.objectNode().put("action", "accept")));
    asked.send(JsonRpc.result(NODES.stringNode(sent.id().asString()), NODES.objectNode().put("action", "accept")));
    // Then the asked human declines: had any answer above counted, the call would have run.
    asked.send(answer(sent, "decline"));

    assertThat(await(call).error().path("code").asInt()).isEqualTo(-32015);
    assertThat(backendCalls("refund")).isZero();
  }

  @Test
  void aCallerThatNeverAnswers_isRefusedAtTheRulesWait_andTheQuestionIsWithdrawn() {
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    client.initialize("2025-11-25", elicitation());
    client.onRequest = request -> null;

    CompletableFuture<JsonRpcMessage> call = client.request("tools/call", toolCall("alpha__refund"));
    Conditions.await("the question is asked", () -> !client.requests.isEmpty());
    fixture.clock.advance(Duration.ofSeconds(31));

    JsonRpcMessage refused = await(call);
    assertThat(refused.error().path("code").asInt()).isEqualTo(-32015);
    assertThat(refused.error().path("message").asString()).contains("did not confirm this call within 30 s");
    Conditions.await("the question is withdrawn", () -> client.notifications("notifications/cancelled").stream()
        .anyMatch(n -> n.params().path("requestId").equals(client.requests.get(0).id())));
    // A late accept changes nothing.
    client.send(answer(client.requests.get(0), "accept"));
    assertThat(backendCalls("refund")).isZero();
  }

  @Test
  void aCallCancelledWhileItsCallerIsAsked_withdrawsTheQuestion_andNeverRuns() {
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    client.initialize("2025-11-25", elicitation());
    client.onRequest = request -> null;

    client.request(NODES.stringNode("call-1"), "tools/call", toolCall("alpha__refund"));
    Conditions.await("the question is asked", () -> !client.requests.isEmpty());
    client.send(JsonRpc.notification("notifications/cancelled",
        NODES.objectNode().put("requestId", "call-1").put("reason", "the user left")));

    Conditions.await("the question is withdrawn", () -> client.notifications("notifications/cancelled").stream()
        .anyMatch(n -> n.params().path("requestId").equals(client.requests.get(0).id())));
    client.send(answer(client.requests.get(0), "accept"));
    Conditions.await("the refusal is in the trail",
        () -> fixture.trail().stream().anyMatch(e -> "tools/call".equals(e.method())));
    assertThat(fixture.trail()).filteredOn(e -> "tools/call".equals(e.method())).singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(Outcome.UNCONFIRMED));
    assertThat(backendCalls("refund")).isZero();
  }

  @Test
  void byOperator_theWaitingCallerHearsProgress_underItsOwnToken_andRunsOnceApproved() {
    start(By.EITHER);
    ScriptedClient client = fixture.client();
    client.initialize("2025-11-25", elicitation());
    client.onRequest = request -> answer(request, "accept");

    ObjectNode params = toolCall("alpha__wire");
    params.putObject("_meta").put("progressToken", "p-7");
    CompletableFuture<JsonRpcMessage> call = client.request("tools/call", params);
    Conditions.await("the call is queued", () -> !approvals.list(10).isEmpty());
    String id = approvals.list(10).get(0).id();
    // Time moves once the call waits (its first look at the approval).
    Conditions.await("the call waits", () -> approvals.finds() > 0);
    fixture.clock.advance(Duration.ofSeconds(6));
    Conditions.await("the caller hears that it waits", () -> !client.notifications("notifications/progress").isEmpty());
    JsonRpcMessage progress = client.notifications("notifications/progress").get(0);
    assertThat(progress.params().path("progressToken").asString()).isEqualTo("p-7");
    assertThat(progress.params().path("message").asString()).startsWith("waiting for an operator to approve " + id);

    Operations.builder().approvalStore(approvals).clock(fixture.clock).build().approvals().approve(id, "bob");

    JsonRpcMessage ran = await(call);
    assertThat(ran.kind()).as(ran.raw().toString()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(client.requests).as("an operator rule never asks the caller").isEmpty();
    assertThat(backendCalls("wire")).isEqualTo(1);
  }

  @Test
  void byDefault_stdiosEither_asksACallerThatCanBeAsked() {
    start(By.EITHER);
    ScriptedClient client = fixture.client();
    client.initialize("2025-06-18", elicitation());
    client.onRequest = request -> answer(request, "accept");
    // Unconfirmed tools run as before.
    assertThat(client.call("tools/call", toolCall("alpha__read")).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(client.requests).isEmpty();
    assertThat(client.call("tools/call", toolCall("alpha__refund")).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(client.requests).hasSize(1);
  }

  // ---- stateless clients (MCP 2026-07-28): the question as an input_required result ---------

  /** A 2026-07-28 tools/call, declaring elicitation for forms when {@code asks}. */
  private static ObjectNode statelessCall(String tool, int amount, boolean asks) {
    ObjectNode params = StatelessClientTest.params();
    if (asks) {
      ((ObjectNode) params.get("_meta").get(StatelessMeta.CLIENT_CAPABILITIES))
          .putObject("elicitation").putObject("form");
    }
    params.put("name", tool);
    params.putObject("arguments").put("amount", amount).put("password", "hunter2");
    return params;
  }

  private static ObjectNode answered(ObjectNode call, String action, String state) {
    ObjectNode retry = call.deepCopy();
    retry.putObject("inputResponses").putObject(SessionCaller.INPUT_KEY).put("action", action)
        .putObject("content");
    retry.put("requestState", state);
    return retry;
  }

  @Test
  void aStatelessClient_isAskedInAnInputRequiredResult_andItsAnswerRunsTheCallOnce() {
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    ObjectNode call = statelessCall("alpha__refund", 40, true);

    JsonRpcMessage asked = client.call("tools/call", call);

    assertThat(asked.kind()).as(asked.raw().toString()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    JsonNode result = asked.result();
    assertThat(result.path("resultType").asString()).isEqualTo("input_required");
    JsonNode question = result.path("inputRequests").path(SessionCaller.INPUT_KEY);
    assertThat(question.path("method").asString()).isEqualTo("elicitation/create");
    assertThat(question.path("params").path("mode").asString()).isEqualTo("form");
    assertThat(question.path("params").path("message").asString())
        .contains("tools/call: alpha__refund (backend alpha)", "refunds move money").doesNotContain("hunter2");
    String state = result.path("requestState").asString();
    assertThat(state).startsWith("sentinel1.");
    assertThat(backendCalls("refund")).isZero();

    JsonRpcMessage ran = client.call("tools/call", answered(call, "accept", state));

    assertThat(ran.kind()).as(ran.raw().toString()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(ran.result().path("resultType").asString()).isEqualTo("complete");
    assertThat(backendCalls("refund")).isEqualTo(1);
    // The backend never sees the answer meant for the gateway.
    JsonNode forwarded = alpha.received("tools/call").get(0).params();
    assertThat(forwarded.has("inputResponses")).isFalse();
    assertThat(forwarded.has("requestState")).isFalse();

    // The same answer again: used once, so it confirms nothing more.
    JsonRpcMessage replayed = client.call("tools/call", answered(call, "accept", state));
    assertThat(replayed.error().path("code").asInt()).isEqualTo(-32015);
    assertThat(replayed.error().path("message").asString()).contains("does not confirm it");
    assertThat(backendCalls("refund")).isEqualTo(1);
    assertThat(fixture.trail()).filteredOn(e -> "tools/call".equals(e.method()))
        .extracting(AuditEvent::outcome)
        .containsExactly(Outcome.UNCONFIRMED, Outcome.ALLOWED, Outcome.UNCONFIRMED);
  }

  @Test
  void aConfirmedStatelessCall_whoseBackendThenAsks_isNotConfirmedAgain_andRunsOnce() {
    alpha.handlers.put("tools/call", request -> {
      ObjectNode question = NODES.objectNode().put("message", "Which account?");
      question.putObject("requestedSchema").put("type", "object").putObject("properties");
      alpha.request("elicitation/create", question).thenAccept(answer -> {
        ObjectNode result = NODES.objectNode();
        result.putArray("content").addObject().put("type", "text")
            .put("text", "refunded: " + answer.raw().path("result").path("action").asString());
        alpha.send(JsonRpc.result(request.id(), result));
      });
      return null;
    });
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    ObjectNode call = statelessCall("alpha__refund", 40, true);
    String confirmState = client.call("tools/call", call).result().path("requestState").asString();

    JsonNode backendAsks = client.call("tools/call", answered(call, "accept", confirmState)).result();

    assertThat(backendAsks.path("resultType").asString()).as("%s", backendAsks).isEqualTo("input_required");
    assertThat(backendAsks.path("inputRequests").has("elicitation_1")).isTrue();
    ObjectNode retry = call.deepCopy();
    retry.putObject("inputResponses").putObject("elicitation_1").put("action", "accept").putObject("content");
    retry.put("requestState", backendAsks.path("requestState").asString());

    JsonRpcMessage done = client.call("tools/call", retry);

    assertThat(done.result().path("content").get(0).path("text").asString()).as("%s", done.raw())
        .isEqualTo("refunded: accept");
    assertThat(backendCalls("refund")).isEqualTo(1);
    assertThat(approvals.list(10)).isEmpty();
    assertThat(fixture.trail()).filteredOn(e -> "tools/call".equals(e.method()))
        .extracting(AuditEvent::outcome, AuditEvent::reason)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Outcome.UNCONFIRMED, "the caller was asked to confirm this call"
                + " (input required); its client answers by sending the call again"),
            org.assertj.core.groups.Tuple.tuple(Outcome.ALLOWED, "confirmed by the caller ann"),
            org.assertj.core.groups.Tuple.tuple(Outcome.ALLOWED, "continues a call confirmed when it was"
                + " forwarded: this request answers the backend's questions"));
  }

  @Test
  void aStatelessAnswer_withAnAlteredForeignOrExpiredState_confirmsNothing() {
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    ObjectNode call = statelessCall("alpha__refund", 40, true);
    String state = client.call("tools/call", call).result().path("requestState").asString();
    String other = client.call("tools/call", statelessCall("alpha__refund", 41, true)).result()
        .path("requestState").asString();

    char last = state.charAt(state.length() - 1);
    String altered = state.substring(0, state.length() - 1) + (last == 'A' ? 'B' : 'A');
    // An oversized state is refused before any MAC is computed over it.
    String huge = "sentinel1." + "A".repeat(100_000) + "." + "A".repeat(43);
    for (String bad : List.of(altered, other, "sentinel1.e30.e30", "not a state", "", huge)) {
      JsonRpcMessage refused = client.call("tools/call", answered(call, "accept", bad));
      assertThat(refused.error().path("code").asInt()).as(bad).isEqualTo(-32015);
    }
    // A state that is not a string, beside an answer.
    ObjectNode numeric = answered(call, "accept", "x");
    numeric.put("requestState", 7);
    assertThat(client.call("tools/call", numeric).error().path("code").asInt()).isEqualTo(-32015);
    // The rule's wait is the state's life.
    fixture.clock.advance(Duration.ofSeconds(31));
    JsonRpcMessage late = client.call("tools/call", answered(call, "accept", state));
    assertThat(late.error().path("code").asInt()).isEqualTo(-32015);
    assertThat(backendCalls("refund")).isZero();
  }

  @Test
  void aStatelessDecline_refuses_andAClientWithoutElicitation_isNeverAsked() {
    start(By.OPERATOR);
    ScriptedClient client = fixture.client();
    ObjectNode call = statelessCall("alpha__refund", 40, true);
    String state = client.call("tools/call", call).result().path("requestState").asString();

    JsonRpcMessage declined = client.call("tools/call", answered(call, "decline", state));
    assertThat(declined.error().path("code").asInt()).isEqualTo(-32015);
    assertThat(declined.error().path("message").asString()).contains("declined");

    JsonRpcMessage unaskable = client.call("tools/call", statelessCall("alpha__refund", 40, false));
    assertThat(unaskable.error().path("code").asInt()).isEqualTo(-32015);
    assertThat(unaskable.error().path("message").asString()).contains("cannot be asked");
    assertThat(backendCalls("refund")).isZero();
  }

  private static ObjectNode toolCall(String name) {
    ObjectNode params = NODES.objectNode().put("name", name);
    params.putObject("arguments").put("amount", 40).put("password", "hunter2");
    return params;
  }

  private static ObjectNode elicitation() {
    ObjectNode capabilities = NODES.objectNode();
    capabilities.putObject("elicitation").putObject("form");
    return capabilities;
  }

  private static ObjectNode answer(JsonRpcMessage request, String action) {
    return JsonRpc.result(request.id(), NODES.objectNode().put("action", action));
  }

  private long backendCalls(String tool) {
    return alpha.received.stream()
        .filter(m -> "tools/call".equals(m.method()) && tool.equals(m.params().path("name").asString("")))
        .count();
  }
}
