package dev.sentinel.mcp.engine;

import static dev.sentinel.mcp.engine.ScriptedClient.await;
import static dev.sentinel.mcp.engine.RoundTripMessages.accept;
import static dev.sentinel.mcp.engine.RoundTripMessages.call;
import static dev.sentinel.mcp.engine.RoundTripMessages.question;
import static dev.sentinel.mcp.engine.RoundTripMessages.retry;
import static dev.sentinel.mcp.engine.RoundTripMessages.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Multi round-trip requests between an MCP 2026-07-28 client and an older backend: the backend's
 * elicitation, sampling or roots request during a call reaches the client as an {@code
 * input_required} result with a {@code requestState} the gateway signed, and the client's retry
 * with its answers continues the same backend call. The state is bound to the principal, the
 * call and the policy revision, accepted once, and anything else is refused with nothing sent to
 * the backend.
 */
class MultiRoundTripTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final ScriptedServer alpha = new ScriptedServer("alpha").withTools("greet", "plan", "echo");
  private final ScriptedServer beta = new ScriptedServer("beta").withTools("think");
  private GatewayFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private GatewayFixture start(Consumer<McpGateway.Builder> options) {
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(alpha, beta), GatewayFixture.twoPrincipals(),
        options);
    return fixture;
  }

  /** alpha's {@code greet} asks the client for a name, then greets it. */
  private void greetAsks() {
    alpha.handlers.put("tools/call", request -> {
      if (!"greet".equals(request.params().path("name").asString())) {
        return JsonRpc.result(request.id(), text("echoed"));
      }
      alpha.request("elicitation/create", question("Your name?")).thenAccept(answer -> {
        JsonNode result = answer.raw().path("result");
        alpha.send(JsonRpc.result(request.id(), text(result.path("action").asString() + ": "
            + result.path("content").path("name").asString())));
      });
      return null;
    });
  }

  @Test
  void aBackendsElicitation_reachesTheClientAsInputRequired_andTheRetryContinuesTheSameCall() {
    greetAsks();
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode call = call("alpha__greet", "elicitation");

    JsonNode first = client.call("tools/call", call).raw().path("result");

    assertThat(first.path("resultType").asString()).as("%s", first).isEqualTo("input_required");
    JsonNode asked = first.path("inputRequests").path("elicitation_1");
    assertThat(asked.path("method").asString()).isEqualTo("elicitation/create");
    assertThat(asked.path("params").path("message").asString()).isEqualTo("Your name?");
    assertThat(first.path("requestState").asString()).startsWith(RequestStates.PREFIX);
    assertThat(first.has("ttlMs")).isFalse();

    JsonNode done = client.call("tools/call", retry(call, first, "elicitation_1", accept("Ada"))).raw().path("result");

    assertThat(done.path("resultType").asString()).as("%s", done).isEqualTo("complete");
    assertThat(done.path("content").get(0).path("text").asString()).isEqualTo("accept: Ada");
    assertThat(alpha.received("tools/call")).as("one backend call for both requests").hasSize(1);
    assertThat(client.requests).as("no request reaches a 2026-07-28 client").isEmpty();
    List<AuditEvent> trail = fixture.trail();
    assertThat(trail).filteredOn(e -> "tools/call".equals(e.method())).extracting(AuditEvent::outcome)
        .containsExactly(Outcome.ALLOWED, Outcome.ALLOWED);
    assertThat(trail).filteredOn(e -> "elicitation/create".equals(e.method())).singleElement()
        .satisfies(e -> {
          assertThat(e.outcome()).isEqualTo(Outcome.ALLOWED);
          assertThat(e.principal()).isEqualTo("alice");
        });
    assertThat(fixture.gateway.parkedRoundTrips()).isZero();
  }

  @Test
  void questionsAskedInTurn_eachComeInTheirOwnInputRequired_andAMissingAnswerIsAskedAgain() {
    alpha.handlers.put("tools/call", request -> {
      alpha.request("elicitation/create", question("Which plan?")).thenAccept(plan ->
          alpha.request("sampling/createMessage", NODES.objectNode().put("maxTokens", 5)).thenAccept(sampled ->
              alpha.send(JsonRpc.result(request.id(), text(plan.raw().path("result").path("content")
                  .path("name").asString() + " / " + sampled.raw().path("result").path("model").asString())))));
      return null;
    });
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode call = call("alpha__plan", "elicitation", "sampling");

    JsonNode first = client.call("tools/call", call).raw().path("result");
    JsonNode unanswered = client.call("tools/call", retry(call, first, "something_else", accept("x")))
        .raw().path("result");

    assertThat(unanswered.path("resultType").asString()).isEqualTo("input_required");
    assertThat(unanswered.path("inputRequests").has("elicitation_1")).as("%s", unanswered).isTrue();
    assertThat(unanswered.path("requestState").asString()).isNotEqualTo(first.path("requestState").asString());

    JsonNode second = client.call("tools/call", retry(call, unanswered, "elicitation_1", accept("gold")))
        .raw().path("result");

    assertThat(second.path("resultType").asString()).isEqualTo("input_required");
    assertThat(second.path("inputRequests").path("sampling_2").path("method").asString())
        .as("%s", second).isEqualTo("sampling/createMessage");

    ObjectNode sample = NODES.objectNode().put("role", "assistant").put("model", "m-1");
    sample.putObject("content").put("type", "text").put("text", "ok");
    JsonNode done = client.call("tools/call", retry(call, second, "sampling_2", sample)).raw().path("result");

    assertThat(done.path("content").get(0).path("text").asString()).as("%s", done).isEqualTo("gold / m-1");
    assertThat(alpha.received("tools/call")).hasSize(1);
  }

  @Test
  void aStateAlteredReplayedForOtherArgumentsOrOfAnotherPrincipal_isRefused_andNothingReachesTheBackend() {
    greetAsks();
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    ScriptedClient bob = fixture.client(Credentials.bearer("bob"));
    ObjectNode call = call("alpha__greet", "elicitation");
    JsonNode first = alice.call("tools/call", call).raw().path("result");
    String state = first.path("requestState").asString();

    ObjectNode altered = retry(call, first, "elicitation_1", accept("Mallory"));
    altered.put("requestState", state.substring(0, state.length() - 2) + (state.endsWith("A") ? "BB" : "AA"));
    ObjectNode otherArguments = retry(call, first, "elicitation_1", accept("Mallory"));
    ((ObjectNode) otherArguments.get("arguments")).put("extra", 1);
    ObjectNode notAString = retry(call, first, "elicitation_1", accept("Mallory"));
    notAString.putObject("requestState").put("state", state);

    for (ObjectNode hostile : List.of(altered, otherArguments, notAString)) {
      JsonRpcMessage refused = alice.call("tools/call", hostile);
      assertThat(refused.kind()).as("%s", refused.raw()).isEqualTo(JsonRpcMessage.Kind.ERROR);
      assertThat(refused.error().path("data").path("rules").get(0).asString()).isEqualTo(StatelessMeta.RULE);
    }
    JsonRpcMessage stolen = bob.call("tools/call", retry(call, first, "elicitation_1", accept("Mallory")));
    assertThat(stolen.error().path("message").asString()).as("%s", stolen.raw())
        .contains("not issued by this gateway for this call");

    JsonNode done = alice.call("tools/call", retry(call, first, "elicitation_1", accept("Ada"))).raw().path("result");
    assertThat(done.path("content").get(0).path("text").asString()).as("%s", done).isEqualTo("accept: Ada");
    JsonRpcMessage replayed = alice.call("tools/call", retry(call, first, "elicitation_1", accept("Eve")));
    assertThat(replayed.error().path("message").asString()).contains("used before");

    assertThat(alpha.received("tools/call")).as("no hostile retry reached the backend").hasSize(1);
    assertThat(fixture.trail()).filteredOn(e -> "tools/call".equals(e.method()) && e.outcome() == Outcome.DENIED)
        .hasSize(5).allSatisfy(e -> assertThat(e.rules()).containsExactly(StatelessMeta.RULE));
  }

  @Test
  void aParkedCallNotContinuedInTime_isCancelledAtTheBackend_andItsStateThenRefused() {
    greetAsks();
    start(builder -> builder.requestTimeout(Duration.ofSeconds(20)));
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode call = call("alpha__greet", "elicitation");
    JsonNode first = client.call("tools/call", call).raw().path("result");
    assertThat(fixture.gateway.parkedRoundTrips()).isEqualTo(1);

    fixture.clock.advance(Duration.ofSeconds(21));
    Conditions.await("the parked call ends", () -> fixture.gateway.parkedRoundTrips() == 0);
    Conditions.await("the backend hears its call cancelled",
        () -> !alpha.received("notifications/cancelled").isEmpty());

    JsonRpcMessage late = client.call("tools/call", retry(call, first, "elicitation_1", accept("Ada")));
    assertThat(late.error().path("message").asString()).as("%s", late.raw()).contains("expired");
    assertThat(alpha.received("tools/call")).hasSize(1);
  }

  @Test
  void aPolicyChange_betweenAttempts_voidsTheState() {
    greetAsks();
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode call = call("alpha__greet", "elicitation");
    JsonNode first = client.call("tools/call", call).raw().path("result");

    fixture.sentinel.reconfigure(PolicyEngine.parse(GatewayFixture.POLICY, "policy.yaml"),
        dev.sentinel.core.limit.Limits.none(), "revision-2");
    JsonRpcMessage stale = client.call("tools/call", retry(call, first, "elicitation_1", accept("Ada")));

    assertThat(stale.error().path("message").asString()).as("%s", stale.raw())
        .contains("from before a policy change");
    assertThat(alpha.received("tools/call")).hasSize(1);
  }

  @Test
  void thePolicyGovernsTheBackendsQuestions_aDeniedOneNeverReachesTheClient() {
    // The fixture's policy denies sampling to beta.
    CompletableFuture<JsonRpcMessage> sampling = new CompletableFuture<>();
    beta.handlers.put("tools/call", request -> {
      beta.request("sampling/createMessage", NODES.objectNode().put("maxTokens", 5)).thenAccept(answer -> {
        sampling.complete(answer);
        beta.send(JsonRpc.result(request.id(), text("thought alone")));
      });
      return null;
    });
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));

    JsonNode done = client.call("tools/call", call("beta__think", "sampling")).raw().path("result");

    assertThat(done.path("resultType").asString()).as("%s", done).isEqualTo("complete");
    assertThat(done.path("content").get(0).path("text").asString()).isEqualTo("thought alone");
    assertThat(await(sampling).error().path("message").asString()).contains("beta may not sample");
    assertThat(fixture.trail()).filteredOn(e -> "sampling/createMessage".equals(e.method())).singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(Outcome.DENIED));
  }

  @Test
  void aPrincipalsParkedCalls_areBounded_aQuestionOverTheBoundIsRefusedToTheBackend() {
    greetAsks();
    start(builder -> builder.maxInFlightPerPrincipal(1));
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    ScriptedClient bob = fixture.client(Credentials.bearer("bob"));
    ObjectNode call = call("alpha__greet", "elicitation");
    JsonNode first = alice.call("tools/call", call).raw().path("result");
    assertThat(first.path("resultType").asString()).isEqualTo("input_required");

    JsonNode over = alice.call("tools/call", call).raw().path("result");
    assertThat(over.path("resultType").asString()).as("%s", over).isEqualTo("complete");
    assertThat(over.path("content").get(0).path("text").asString())
        .as("the backend's question got an error, not an answer").isEqualTo(": ");
    JsonNode bobs = bob.call("tools/call", call).raw().path("result");
    assertThat(bobs.path("resultType").asString()).as("another principal is unaffected").isEqualTo("input_required");

    JsonNode done = alice.call("tools/call", retry(call, first, "elicitation_1", accept("Ada"))).raw().path("result");
    assertThat(done.path("content").get(0).path("text").asString()).as("%s", done).isEqualTo("accept: Ada");
    JsonNode again = alice.call("tools/call", call).raw().path("result");
    assertThat(again.path("resultType").asString()).as("the slot is free again").isEqualTo("input_required");
    List<AuditEvent> trail = fixture.trail();
    assertThat(trail).as("%s", trail.stream().map(e -> e.method() + " " + e.outcome() + " " + e.reason()).toList())
        .filteredOn(e -> "elicitation/create".equals(e.method()) && e.outcome() == Outcome.LIMITED).singleElement()
        .satisfies(e -> assertThat(e.rules()).containsExactly("max_in_flight_per_principal"));
  }

  @Test
  void aBackendThatFloodsQuestions_hasAtMostSixteenWaiting_andTheRestRefused() {
    List<CompletableFuture<JsonRpcMessage>> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    alpha.handlers.put("tools/call", request -> {
      for (int i = 0; i < RoundTrip.MAX_OPEN_QUESTIONS + 4; i++) {
        answers.add(alpha.request("elicitation/create", question("Question " + i + "?")));
      }
      return null;
    });
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));

    JsonNode asked = client.call("tools/call", call("alpha__greet", "elicitation")).raw().path("result");
    Conditions.await("every question is answered or held",
        () -> answers.size() == RoundTrip.MAX_OPEN_QUESTIONS + 4
            && answers.stream().filter(CompletableFuture::isDone).count() == 4);

    assertThat(asked.path("resultType").asString()).as("%s", asked).isEqualTo("input_required");
    assertThat(answers).filteredOn(CompletableFuture::isDone).allSatisfy(answer ->
        assertThat(answer.join().error().path("message").asString()).contains("too many questions"));
    assertThat(fixture.trail()).filteredOn(e -> "elicitation/create".equals(e.method())
        && e.outcome() == Outcome.LIMITED).hasSize(4);
  }

  @Test
  void aStateThatNoCallIssued_isRefused_notForwardedAsANewCall() {
    greetAsks();
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode call = call("alpha__echo", "elicitation");
    call.put("requestState", "made-up");
    call.putObject("inputResponses");

    JsonRpcMessage refused = client.call("tools/call", call);

    assertThat(refused.error().path("data").path("rules").get(0).asString()).as("%s", refused.raw())
        .isEqualTo(StatelessMeta.RULE);
    assertThat(alpha.received("tools/call")).isEmpty();
  }

  /**
   * A stateless call to an older backend holds no worker while the backend works: two workers
   * serve another call meanwhile, and a call whose backend asks a question (on another
   * connection: questions are attributed only surely; the question holds a worker until the
   * client's retry answers it), and the slow call's answer, coming later, is its own.
   */
  @Test
  void aStatelessCall_holdsNoWorker_whileItsBackendWorks_andItsAnswerOrQuestionsStillCome() {
    alpha.handlers.put("tools/call", request -> "echo".equals(request.params().path("name").asString())
        ? null // answered below, by the test
        : JsonRpc.result(request.id(), text("plain")));
    beta.handlers.put("tools/call", request -> {
      beta.request("elicitation/create", question("Your name?")).thenAccept(answer -> beta.send(
          JsonRpc.result(request.id(), text("hello " + answer.raw().path("result").path("content").path("name")
              .asString()))));
      return null;
    });
    ExecutorService twoWorkers = Executors.newFixedThreadPool(2);
    try {
      start(builder -> builder.executor(twoWorkers));
      ScriptedClient client = fixture.client(Credentials.bearer("alice"));

      CompletableFuture<JsonRpcMessage> slow = client.request("tools/call", call("alpha__echo", "elicitation"));
      Conditions.await("the backend has the slow call", () -> alpha.received("tools/call").size() == 1);
      JsonNode other = client.call("tools/call", call("alpha__plan")).raw().path("result");
      assertThat(other.path("content").get(0).path("text").asString()).as("%s", other).isEqualTo("plain");
      ObjectNode asking = call("beta__think", "elicitation");
      JsonNode asked = client.call("tools/call", asking).raw().path("result");
      assertThat(asked.path("resultType").asString()).as("%s", asked).isEqualTo("input_required");
      assertThat(slow).isNotDone();

      alpha.send(JsonRpc.result(alpha.received("tools/call").get(0).id(), text("at last")));
      JsonNode late = await(slow).raw().path("result");
      assertThat(late.path("resultType").asString()).as("%s", late).isEqualTo("complete");
      assertThat(late.path("content").get(0).path("text").asString()).isEqualTo("at last");
      JsonNode done = client.call("tools/call", retry(asking, asked, "elicitation_1", accept("Ada")))
          .raw().path("result");
      assertThat(done.path("content").get(0).path("text").asString()).as("%s", done).isEqualTo("hello Ada");
      Conditions.await("every call is recorded", () -> fixture.trail().stream()
          .filter(e -> "tools/call".equals(e.method())).count() == 4);
      assertThat(fixture.trail()).filteredOn(e -> "tools/call".equals(e.method())).extracting(AuditEvent::outcome)
          .containsOnly(Outcome.ALLOWED);
      assertThat(fixture.gateway.parkedRoundTrips()).isZero();
    } finally {
      twoWorkers.shutdownNow();
    }
  }

  /**
   * The backend's progress reaches each attempt of a stateless call under that attempt's own
   * token, while the attempt waits: before the question, and after the retry's answer.
   */
  @Test
  void progress_reachesEachAttempt_underItsOwnToken() {
    alpha.handlers.put("tools/call", request -> {
      JsonNode token = request.params().path("_meta").path("progressToken");
      alpha.send(JsonRpc.notification("notifications/progress", NODES.objectNode().set("progressToken", token)));
      alpha.request("elicitation/create", question("Your name?")).thenAccept(answer -> {
        alpha.send(JsonRpc.notification("notifications/progress",
            NODES.objectNode().put("progress", 2).set("progressToken", token)));
        alpha.send(JsonRpc.result(request.id(), text("hello")));
      });
      return null;
    });
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode call = call("alpha__greet", "elicitation");
    ((ObjectNode) call.get("_meta")).put("progressToken", "first");

    JsonNode asked = client.call("tools/call", call).raw().path("result");
    ObjectNode retry = retry(call, asked, "elicitation_1", accept("Ada"));
    ((ObjectNode) retry.get("_meta")).put("progressToken", "second");
    JsonNode done = client.call("tools/call", retry).raw().path("result");

    assertThat(asked.path("resultType").asString()).as("%s", asked).isEqualTo("input_required");
    assertThat(done.path("resultType").asString()).as("%s", done).isEqualTo("complete");
    assertThat(client.notifications("notifications/progress")).extracting(
        n -> n.params().path("progressToken").asString()).containsExactly("first", "second");
  }
}
