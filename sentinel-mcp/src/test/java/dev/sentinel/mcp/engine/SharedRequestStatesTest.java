package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.core.approval.RoutingConfirmer;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.policy.ConfirmSettings.By;
import dev.sentinel.core.state.RequestStateLedger;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Two gateways behind one address, as replicas on one database are: with a shared {@link
 * RequestStateLedger} a 2026-07-28 client's answer to a confirmation asked by one is taken by the
 * other, and redeemed once between them; a backend call parked on one is continued only there
 * (the other refuses the retry and forwards nothing); gateways that share nothing take none of
 * each other's states.
 */
class SharedRequestStatesTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String POLICY = String.join("\n",
      "rules:",
      "  - id: everything",
      "    allow: {}",
      "  - id: refunds",
      "    confirm: { tools: [\"alpha__refund\"] }",
      "    reason: refunds move money",
      "    by: caller",
      "");

  private final List<GatewayFixture> fixtures = new ArrayList<>();
  private final List<ScriptedServer> backends = new ArrayList<>();

  @AfterEach
  void close() {
    fixtures.forEach(GatewayFixture::close);
  }

  /** A gateway with its own backend (the same program), sharing {@code ledger} if not null. */
  private GatewayFixture gateway(RequestStateLedger ledger) {
    return gateway(ledger, false);
  }

  /**
   * As above; a {@code modern} backend speaks MCP 2026-07-28 and asks for a name in its result
   * (key {@code user_name}, its own state {@code alpha-state}) before it answers any call.
   */
  private GatewayFixture gateway(RequestStateLedger ledger, boolean modern) {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("refund", "greet");
    alpha.modern = modern;
    alpha.handlers.put("tools/call", request -> {
      if (modern) {
        JsonNode name = request.params().path("inputResponses").path("user_name").path("content").path("name");
        if (name.isMissingNode() || !"alpha-state".equals(request.params().path("requestState").asString(""))) {
          ObjectNode result = NODES.objectNode().put("resultType", "input_required").put("requestState", "alpha-state");
          ObjectNode asked = result.putObject("inputRequests").putObject("user_name");
          asked.put("method", "elicitation/create");
          asked.putObject("params").put("message", "Your name?");
          return JsonRpc.result(request.id(), result);
        }
        return JsonRpc.result(request.id(), text("hello " + name.asString()));
      }
      if (!"greet".equals(request.params().path("name").asString())) {
        return JsonRpc.result(request.id(), text("refunded"));
      }
      ObjectNode question = NODES.objectNode().put("message", "Your name?");
      question.putObject("requestedSchema").put("type", "object").putObject("properties");
      alpha.request("elicitation/create", question).thenAccept(answer ->
          alpha.send(JsonRpc.result(request.id(), text("hello"))));
      return null;
    });
    backends.add(alpha);
    GatewayFixture fixture = new GatewayFixture(POLICY, List.of(alpha),
        Authenticator.fixed(Principal.of("ann", "user")),
        (pipeline, f) -> pipeline.confirmer(RoutingConfirmer.create(
            (context, decision) -> dev.sentinel.api.Confirmation.reject(null, "no operators here"),
            () -> f.sentinel.policy(), () -> f.sentinel.revision(), By.CALLER, Redactor.defaults())),
        builder -> {
          if (ledger != null) {
            builder.requestStateLedger(ledger);
          }
        });
    fixtures.add(fixture);
    return fixture;
  }

  @Test
  void aConfirmationAskedByOneGateway_isAnsweredThroughTheOther_andAcceptedOnceBetweenThem() {
    RequestStateLedger ledger = RequestStateLedger.inMemory(new ManualClock());
    GatewayFixture a = gateway(ledger);
    GatewayFixture b = gateway(ledger);
    ObjectNode call = call("alpha__refund");

    String state = a.client().call("tools/call", call).result().path("requestState").asString();
    JsonRpcMessage ran = b.client().call("tools/call", confirmed(call, state));
    JsonRpcMessage replayedOnA = a.client().call("tools/call", confirmed(call, state));
    JsonRpcMessage replayedOnB = b.client().call("tools/call", confirmed(call, state));

    assertThat(ran.result().path("content").get(0).path("text").asString()).as("%s", ran.raw())
        .isEqualTo("refunded");
    assertThat(replayedOnA.error().path("code").asInt()).as("%s", replayedOnA.raw()).isEqualTo(-32015);
    assertThat(replayedOnB.error().path("code").asInt()).isEqualTo(-32015);
    assertThat(backends.get(0).received("tools/call")).isEmpty();
    assertThat(backends.get(1).received("tools/call")).hasSize(1);
  }

  @Test
  void aCallParkedOnOneGateway_isRefusedOnTheOther_andContinuedWhereItRuns() {
    RequestStateLedger ledger = RequestStateLedger.inMemory(new ManualClock());
    GatewayFixture a = gateway(ledger);
    GatewayFixture b = gateway(ledger);
    ObjectNode call = call("alpha__greet");
    JsonNode asked = a.client().call("tools/call", call).result();
    assertThat(asked.path("resultType").asString()).as("%s", asked).isEqualTo("input_required");

    ObjectNode retry = answered(call, asked);
    JsonRpcMessage elsewhere = b.client().call("tools/call", retry);

    assertThat(elsewhere.error().path("message").asString()).as("%s", elsewhere.raw())
        .contains("no longer running here", "another gateway");
    assertThat(backends.get(1).received("tools/call")).as("nothing forwarded on the other gateway").isEmpty();
    // The refusal did not use the state up: the gateway where the call runs still takes it.
    JsonRpcMessage thenHere = a.client().call("tools/call", retry);
    assertThat(thenHere.result().path("content").get(0).path("text").asString()).as("%s", thenHere.raw())
        .isEqualTo("hello");
    assertThat(backends.get(0).received("tools/call")).hasSize(1);
  }

  @Test
  void aConfirmedCall_whoseModernBackendAsks_continuesThroughEitherGateway_unconfirmedAgain_andOnce() {
    RequestStateLedger ledger = RequestStateLedger.inMemory(new ManualClock());
    GatewayFixture a = gateway(ledger, true);
    GatewayFixture b = gateway(ledger, true);
    ObjectNode call = call("alpha__refund");

    String confirmation = a.client().call("tools/call", call).result().path("requestState").asString();
    JsonNode asked = b.client().call("tools/call", confirmed(call, confirmation)).result();
    assertThat(asked.path("inputRequests").has("user_name")).as("%s", asked).isTrue();
    ObjectNode answer = call.deepCopy();
    answer.putObject("inputResponses").putObject("user_name").put("action", "accept")
        .putObject("content").put("name", "Ada");
    answer.put("requestState", asked.path("requestState").asString());

    JsonRpcMessage done = a.client().call("tools/call", answer);
    JsonRpcMessage replayed = b.client().call("tools/call", answer);

    assertThat(done.result().path("content").get(0).path("text").asString()).as("%s", done.raw())
        .isEqualTo("hello Ada");
    assertThat(replayed.error().path("message").asString()).as("%s", replayed.raw()).contains("used before");
    assertThat(backends.get(0).received("tools/call")).as("the retry reached a's backend with the state").hasSize(1);
    assertThat(backends.get(1).received("tools/call")).as("the replay forwarded nothing").hasSize(1);
  }

  @Test
  void gatewaysThatShareNothing_takeNoneOfEachOthersStates() {
    GatewayFixture a = gateway(null);
    GatewayFixture b = gateway(null);
    ObjectNode call = call("alpha__refund");

    String state = a.client().call("tools/call", call).result().path("requestState").asString();
    JsonRpcMessage refused = b.client().call("tools/call", confirmed(call, state));

    assertThat(refused.error().path("code").asInt()).as("%s", refused.raw()).isEqualTo(-32015);
    assertThat(backends.get(1).received("tools/call")).isEmpty();
  }

  private static ObjectNode call(String tool) {
    ObjectNode params = StatelessClientTest.params();
    ((ObjectNode) params.get("_meta").get(StatelessMeta.CLIENT_CAPABILITIES)).putObject("elicitation");
    params.put("name", tool);
    params.putObject("arguments").put("amount", 40);
    return params;
  }

  private static ObjectNode confirmed(ObjectNode call, String state) {
    ObjectNode retry = call.deepCopy();
    retry.putObject("inputResponses").putObject(SessionCaller.INPUT_KEY).put("action", "accept");
    retry.put("requestState", state);
    return retry;
  }

  private static ObjectNode answered(ObjectNode call, JsonNode asked) {
    ObjectNode retry = call.deepCopy();
    retry.putObject("inputResponses").putObject("elicitation_1").put("action", "accept").putObject("content");
    retry.put("requestState", asked.path("requestState").asString());
    return retry;
  }

  private static ObjectNode text(String text) {
    ObjectNode result = NODES.objectNode();
    result.putArray("content").addObject().put("type", "text").put("text", text);
    return result;
  }
}
