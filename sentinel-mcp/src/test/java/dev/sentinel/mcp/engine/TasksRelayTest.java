package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Tasks extension ({@code io.modelcontextprotocol/tasks}) relayed for MCP 2026-07-28
 * clients of a 2026-07-28 backend that declares it: the task-creating call decided as any call,
 * the task shown under an id the gateway minted and bound to the principal, every later
 * operation routed to the backend that holds it for that principal only, and what is not the
 * caller's answered as what does not exist.
 */
class TasksRelayTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final ScriptedServer alpha = new ScriptedServer("alpha").withTools("slow", "secret", "greet");
  private final ScriptedServer beta = new ScriptedServer("beta").withTools("think");
  /** The status of each task alpha holds, by alpha's own id. */
  private final Map<String, String> held = new ConcurrentHashMap<>();
  private final AtomicInteger made = new AtomicInteger();
  private GatewayFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  /**
   * alpha declares the extension; its {@code slow} needs a task (-32021 without the extension,
   * as the extension says of a tool whose task support is required), {@code greet} answers at
   * once; its tasks are {@code alpha-task-N}.
   */
  private GatewayFixture start(Consumer<McpGateway.Builder> options) {
    return start(GatewayFixture.POLICY, options);
  }

  private GatewayFixture start(String policy, Consumer<McpGateway.Builder> options) {
    alpha.modern = true;
    beta.modern = true;
    alpha.capabilities.putObject("extensions").putObject(Tasks.EXTENSION);
    alpha.handlers.put("tools/call", request -> {
      if ("greet".equals(request.params().path("name").asString(""))) {
        return JsonRpc.result(request.id(), RoundTripMessages.text("hello"));
      }
      if (!Router.declaresTasks(request.params().path("_meta").path(StatelessMeta.CLIENT_CAPABILITIES))) {
        return JsonRpc.error(request.id(), ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY,
            "Missing required client capability: extensions." + Tasks.EXTENSION);
      }
      return JsonRpc.result(request.id(), created("alpha-task-" + made.incrementAndGet()));
    });
    alpha.handlers.put("tasks/get", request -> {
      String id = request.params().path("taskId").asString("");
      String status = held.get(id);
      if (status == null) {
        return JsonRpc.error(request.id(), ErrorCode.INVALID_PARAMS, "Task " + id + " not found");
      }
      ObjectNode result = NODES.objectNode().put("resultType", "complete").put("taskId", id).put("status", status);
      if ("completed".equals(status)) {
        result.set("result", RoundTripMessages.text("done " + id));
      }
      return JsonRpc.result(request.id(), result);
    });
    alpha.handlers.put("tasks/cancel", request -> {
      held.computeIfPresent(request.params().path("taskId").asString(""), (k, v) -> "cancelled");
      return JsonRpc.result(request.id(), NODES.objectNode().put("resultType", "complete"));
    });
    alpha.handlers.put("tasks/update",
        request -> JsonRpc.result(request.id(), NODES.objectNode().put("resultType", "complete")));
    fixture = new GatewayFixture(policy, List.of(alpha, beta), GatewayFixture.twoPrincipals(), options);
    return fixture;
  }

  private ObjectNode created(String id) {
    held.put(id, "working");
    return NODES.objectNode().put("resultType", "task").put("taskId", id).put("status", "working")
        .put("createdAt", "2026-12-06T10:00:00Z").put("lastUpdatedAt", "2026-12-06T10:00:00Z").put("ttlMs", 60_000);
  }

  /** A stateless call of {@code tool} declaring the Tasks extension (and elicitation). */
  private static ObjectNode taskCall(String tool) {
    ObjectNode call = RoundTripMessages.call(tool, "elicitation");
    declareTasks(call);
    return call;
  }

  private static ObjectNode declareTasks(ObjectNode params) {
    ((ObjectNode) params.get("_meta").get(StatelessMeta.CLIENT_CAPABILITIES)).putObject("extensions")
        .putObject(Tasks.EXTENSION);
    return params;
  }

  /** The params of a task operation on {@code taskId}, declaring the extension. */
  private static ObjectNode onTask(String taskId) {
    ObjectNode params = declareTasks(StatelessClientTest.params());
    params.put("taskId", taskId);
    return params;
  }

  private static String taskIdOf(JsonRpcMessage answer) {
    assertThat(answer.kind()).as("%s", answer.raw()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(answer.result().path("resultType").asString()).isEqualTo("task");
    return answer.result().path("taskId").asString();
  }

  private static void assertUnknownTask(JsonRpcMessage answer) {
    assertThat(answer.kind()).as("%s", answer.raw()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(answer.error().path("code").asInt()).isEqualTo(ErrorCode.INVALID_PARAMS.code());
    assertThat(answer.error().path("message").asString()).isEqualTo(Router.UNKNOWN_TASK);
  }

  private int taskOperations() {
    return alpha.received("tasks/get").size() + alpha.received("tasks/cancel").size()
        + alpha.received("tasks/update").size();
  }

  @Test
  void aTask_isShownUnderTheGatewaysOwnId_andEveryOperationReachesItsBackendUnderTheBackendsId() {
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));

    JsonNode discovered = alice.call("server/discover", declareTasks(StatelessClientTest.params())).result();
    String taskId = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    JsonRpcMessage working = alice.call("tasks/get", onTask(taskId));
    held.put("alpha-task-1", "completed");
    JsonRpcMessage done = alice.call("tasks/get", onTask(taskId));

    assertThat(discovered.path("capabilities").path("extensions").has(Tasks.EXTENSION)).as("%s", discovered).isTrue();
    assertThat(taskId).startsWith(Tasks.ID_PREFIX).doesNotContain("alpha-task");
    assertThat(alpha.received("tools/call").get(0).params().path("_meta").path(StatelessMeta.CLIENT_CAPABILITIES)
        .path("extensions").has(Tasks.EXTENSION)).as("the client's declaration reaches the backend").isTrue();
    assertThat(alpha.received("tasks/get").get(0).params().path("taskId").asString()).isEqualTo("alpha-task-1");
    assertThat(working.result().path("taskId").asString()).isEqualTo(taskId);
    assertThat(working.result().path("status").asString()).isEqualTo("working");
    assertThat(working.result().path("resultType").asString()).isEqualTo("complete");
    assertThat(done.result().path("result").path("content").get(0).path("text").asString()).isEqualTo("done alpha-task-1");
    assertThat(done.raw().toString()).as("the inlined result is the backend's; its id is not").contains("done alpha-task-1");
    assertThat(done.result().path("taskId").asString()).isEqualTo(taskId);
    List<AuditEvent> trail = fixture.trail();
    assertThat(trail).filteredOn(e -> "tasks/get".equals(e.method())).hasSize(2).allSatisfy(e -> {
      assertThat(e.outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(e.principal()).isEqualTo("alice");
      assertThat(e.backend()).isEqualTo("alpha");
      assertThat(e.name()).isEqualTo("alpha__slow");
    });
  }

  @Test
  void anotherPrincipalsTaskId_isAnUnknownTask_forGetCancelAndUpdate_andNothingReachesTheBackend() {
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    ScriptedClient bob = fixture.client(Credentials.bearer("bob"));
    String taskId = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    ObjectNode update = onTask(taskId);
    update.putObject("inputResponses");

    assertUnknownTask(bob.call("tasks/get", onTask(taskId)));
    assertUnknownTask(bob.call("tasks/cancel", onTask(taskId)));
    assertUnknownTask(bob.call("tasks/update", update));

    assertThat(taskOperations()).as("bob reached nothing").isZero();
    assertThat(held.get("alpha-task-1")).as("alice's task still runs").isEqualTo("working");
    assertThat(alice.call("tasks/get", onTask(taskId)).result().path("status").asString()).isEqualTo("working");
    assertThat(fixture.trail()).filteredOn(e -> e.rules().contains(Router.TASKS_RULE)).hasSize(3)
        .allSatisfy(e -> {
          assertThat(e.principal()).isEqualTo("bob");
          assertThat(e.outcome()).isEqualTo(Outcome.DENIED);
        });
  }

  @Test
  void aForgedId_andTheBackendsOwnId_areUnknownTasks_answeredAsAnotherPrincipalsIs() {
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    String taskId = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));

    assertUnknownTask(alice.call("tasks/get", onTask("alpha-task-1")));
    assertUnknownTask(alice.call("tasks/cancel", onTask("alpha-task-1")));
    assertUnknownTask(alice.call("tasks/get", onTask(taskId + "x")));
    assertUnknownTask(alice.call("tasks/get", onTask(Tasks.ID_PREFIX + "AAAAAAAAAAAAAAAAAAAAAA")));

    assertThat(taskOperations()).isZero();
    assertThat(held.get("alpha-task-1")).isEqualTo("working");
  }

  @Test
  void aDeniedTool_createsNoTask_andItsCallNeverReachesTheBackend() {
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));

    JsonRpcMessage denied = alice.call("tools/call", taskCall("alpha__secret"));

    assertThat(denied.kind()).as("%s", denied.raw()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(denied.error().path("message").asString()).contains("secrets stay put");
    assertThat(alpha.received("tools/call")).isEmpty();
    assertThat(fixture.gateway.tasks().size()).isZero();
  }

  @Test
  void aTaskOperation_isDecidedByThePolicy_whichDeniesItByDefault() {
    String toolsOnly = String.join("\n", "roles:", "  user: {}", "rules:",
        "  - id: alpha-tools", "    allow: { tools: [\"alpha__*\"] }", "");
    start(toolsOnly, builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    String taskId = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));

    JsonRpcMessage get = alice.call("tasks/get", onTask(taskId));

    assertThat(get.error().path("code").asInt()).as("%s", get.raw()).isEqualTo(ErrorCode.DENIED.code());
    assertThat(alpha.received("tasks/get")).isEmpty();
  }

  @Test
  void aPrincipalAtItsBound_isRefusedATaskWithAClearError_andGetsRoomWhenOneEnds() {
    start(builder -> builder.maxTasksPerPrincipal(2));
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    ScriptedClient bob = fixture.client(Credentials.bearer("bob"));
    String first = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));

    JsonRpcMessage third = alice.call("tools/call", taskCall("alpha__slow"));
    JsonRpcMessage greet = alice.call("tools/call", taskCall("alpha__greet"));
    String bobs = taskIdOf(bob.call("tools/call", taskCall("alpha__slow")));

    assertThat(third.error().path("code").asInt()).as("%s", third.raw()).isEqualTo(ErrorCode.LIMITED.code());
    assertThat(third.error().path("message").asString()).contains("too many live tasks: at most 2 per principal");
    assertThat(third.error().path("data").path("rules").get(0).asString()).isEqualTo(Router.TASKS_BOUND_RULE);
    assertThat(alpha.received("tools/call").get(2).params().path("_meta").path(StatelessMeta.CLIENT_CAPABILITIES)
        .path("extensions").has(Tasks.EXTENSION)).as("beyond the bound the backend may create none").isFalse();
    assertThat(greet.result().path("content").get(0).path("text").asString()).as("a call without a task still runs")
        .isEqualTo("hello");
    assertThat(bobs).as("the bound is per principal").startsWith(Tasks.ID_PREFIX);

    held.put("alpha-task-1", "completed");
    alice.call("tasks/get", onTask(first));
    assertThat(taskIdOf(alice.call("tools/call", taskCall("alpha__slow")))).startsWith(Tasks.ID_PREFIX);
  }

  @Test
  void aFullGateway_refusesAnyPrincipalANewTask_namingItsBound_andAnEndedTaskMakesRoom() {
    start(builder -> builder.maxTasksPerPrincipal(2).maxTasks(2));
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    ScriptedClient bob = fixture.client(Credentials.bearer("bob"));
    String alices = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    taskIdOf(bob.call("tools/call", taskCall("alpha__slow")));

    JsonRpcMessage refused = alice.call("tools/call", taskCall("alpha__slow"));

    assertThat(refused.error().path("code").asInt()).as("%s", refused.raw()).isEqualTo(ErrorCode.LIMITED.code());
    assertThat(refused.error().path("message").asString())
        .contains("the gateway holds as many tasks as it may (2)");
    assertThat(refused.error().path("data").path("rules").get(0).asString()).isEqualTo(Router.TASKS_BOUND_RULE);

    held.put("alpha-task-1", "completed");
    alice.call("tasks/get", onTask(alices));
    String bobsNext = taskIdOf(bob.call("tools/call", taskCall("alpha__slow")));
    assertThat(bobsNext).as("alice's ended task made room for another principal's").startsWith(Tasks.ID_PREFIX);
    assertThat(fixture.gateway.tasks().size()).isEqualTo(2);
    assertUnknownTask(alice.call("tasks/get", onTask(alices)));
  }

  @Test
  void atTheBound_aBackendsMissingCapabilityForSomethingElse_reachesTheClientUnchanged() {
    start(builder -> builder.maxTasksPerPrincipal(1));
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    alpha.handlers.put("tools/call", request -> {
      ObjectNode data = NODES.objectNode();
      data.putObject("requiredCapabilities").putObject("sampling");
      return JsonRpc.error(request.id(), ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY.code(), "needs sampling", data);
    });

    JsonRpcMessage answer = alice.call("tools/call", taskCall("alpha__slow"));

    assertThat(answer.error().path("code").asInt()).as("%s", answer.raw())
        .isEqualTo(ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY.code());
    assertThat(answer.error().path("message").asString()).isEqualTo("needs sampling");
  }

  @Test
  void anExpiredTask_isAnUnknownTask() {
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    String taskId = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));

    fixture.clock.advance(Duration.ofSeconds(61));

    assertUnknownTask(alice.call("tasks/get", onTask(taskId)));
    assertThat(alpha.received("tasks/get")).isEmpty();
  }

  @Test
  void aClientThatDidNotDeclareTheExtension_getsMissingCapability_andABackendsStrayTaskIsCancelled() {
    start(builder -> {});
    alpha.handlers.put("tools/call", request -> JsonRpc.result(request.id(), created("stray-1")));
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));

    JsonRpcMessage get = alice.call("tasks/get", StatelessClientTest.params().put("taskId", "anything"));
    JsonRpcMessage call = alice.call("tools/call", RoundTripMessages.call("alpha__slow", "elicitation"));

    assertThat(get.error().path("code").asInt()).as("%s", get.raw())
        .isEqualTo(ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY.code());
    assertThat(get.error().path("data").path("requiredCapabilities").path("extensions").has(Tasks.EXTENSION)).isTrue();
    assertThat(alpha.received("tools/call").get(0).params().path("_meta").path(StatelessMeta.CLIENT_CAPABILITIES)
        .path("extensions").has(Tasks.EXTENSION)).isFalse();
    assertThat(call.kind()).as("%s", call.raw()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(call.raw().toString()).doesNotContain("stray-1");
    dev.sentinel.core.testing.Conditions.await("the stray task is cancelled",
        () -> !alpha.received("tasks/cancel").isEmpty());
    assertThat(alpha.received("tasks/cancel").get(0).params().path("taskId").asString()).isEqualTo("stray-1");
  }

  @Test
  void anOlderClient_neverHasTheTaskMethods_norDeclaresTheExtensionToTheBackend() {
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    ObjectNode capabilities = NODES.objectNode();
    capabilities.putObject("extensions").putObject(Tasks.EXTENSION);
    client.initialize(McpRevision.V2025_11_25.version(), capabilities);

    JsonRpcMessage get = client.call("tasks/get", NODES.objectNode().put("taskId", "alpha-task-1"));
    client.call("tools/call", NODES.objectNode().put("name", "alpha__greet"));

    assertThat(get.error().path("code").asInt()).as("%s", get.raw()).isEqualTo(ErrorCode.METHOD_NOT_FOUND.code());
    assertThat(alpha.received("tools/call").get(0).params().path("_meta").path(StatelessMeta.CLIENT_CAPABILITIES)
        .path("extensions").has(Tasks.EXTENSION)).isFalse();
  }

  @Test
  void aBackendsTaskStatusNotification_naming_itsOwnId_neverReachesAClient() {
    start(builder -> {});
    ScriptedClient client = fixture.client(Credentials.bearer("alice"));
    client.initialize();
    client.call("tools/call", NODES.objectNode().put("name", "alpha__greet"));

    alpha.send(JsonRpc.notification("notifications/tasks",
        NODES.objectNode().put("taskId", "alpha-task-1").put("status", "completed")));
    alpha.send(JsonRpc.notification("notifications/custom", NODES.objectNode().put("after", true)));
    dev.sentinel.core.testing.Conditions.await("the notification sent after it arrives",
        () -> !client.notifications("notifications/custom").isEmpty());

    assertThat(client.notifications("notifications/tasks")).isEmpty();
  }

  @Test
  void aBackendWithoutTheExtension_isNeverShownToHaveIt_andTheV1MethodsAreNotFound() {
    beta.modern = true;
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(beta), GatewayFixture.twoPrincipals(), builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));

    JsonNode discovered = alice.call("server/discover", declareTasks(StatelessClientTest.params())).result();
    alice.call("tools/call", taskCall("beta__think"));
    JsonRpcMessage result = alice.call("tasks/result", onTask("x"));
    JsonRpcMessage list = alice.call("tasks/list", declareTasks(StatelessClientTest.params()));

    assertThat(discovered.path("capabilities").has("extensions")).as("%s", discovered).isFalse();
    assertThat(beta.received("tools/call").get(0).params().path("_meta").path(StatelessMeta.CLIENT_CAPABILITIES)
        .path("extensions").has(Tasks.EXTENSION)).isFalse();
    assertThat(result.error().path("code").asInt()).isEqualTo(ErrorCode.METHOD_NOT_FOUND.code());
    assertThat(list.error().path("code").asInt()).isEqualTo(ErrorCode.METHOD_NOT_FOUND.code());
  }

  @Test
  void aTasksQuestion_isDecidedOnce_andOnlyAnswersToQuestionsShownReachTheBackend() {
    start(builder -> {});
    ObjectNode asking = NODES.objectNode().put("resultType", "complete").put("taskId", "alpha-task-1")
        .put("status", "input_required");
    ObjectNode question = asking.putObject("inputRequests").putObject("confirm");
    question.put("method", "elicitation/create");
    question.set("params", RoundTripMessages.question("Sure?"));
    alpha.handlers.put("tasks/get", request -> JsonRpc.result(request.id(), asking));
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    String taskId = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    ObjectNode update = onTask(taskId);
    update.putObject("inputResponses").set("confirm", RoundTripMessages.accept("yes"));
    ((ObjectNode) update.get("inputResponses")).set("never_asked", RoundTripMessages.accept("Eve"));

    JsonRpcMessage before = alice.call("tasks/update", update);
    JsonNode first = alice.call("tasks/get", onTask(taskId)).result();
    alice.call("tasks/get", onTask(taskId));
    JsonRpcMessage after = alice.call("tasks/update", update);

    assertThat(first.path("inputRequests").path("confirm").path("method").asString()).isEqualTo("elicitation/create");
    assertThat(before.result().path("resultType").asString()).isEqualTo("complete");
    assertThat(after.result().path("resultType").asString()).isEqualTo("complete");
    List<JsonRpcMessage> updates = alpha.received("tasks/update");
    assertThat(updates.get(0).params().path("inputResponses").isEmpty()).as("nothing was asked yet").isTrue();
    assertThat(updates.get(1).params().path("inputResponses").has("confirm")).isTrue();
    assertThat(updates.get(1).params().path("inputResponses").has("never_asked")).isFalse();
    assertThat(fixture.trail()).filteredOn(e -> "elicitation/create".equals(e.method())).singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(Outcome.ALLOWED));
  }

  // ---- hostile -----------------------------------------------------------------------------

  @Test
  void aBackendsTtlBeyondALong_isCappedAtTheMaximum_andLeaksNoSlot() {
    start(builder -> builder.maxTasksPerPrincipal(1));
    alpha.handlers.put("tools/call", request -> {
      ObjectNode created = created("alpha-task-" + made.incrementAndGet());
      created.set("ttlMs", NODES.numberNode(new java.math.BigInteger("99999999999999999999999")));
      return JsonRpc.result(request.id(), created);
    });
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));

    String first = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    fixture.clock.advance(Tasks.MAX_LIFE.plusSeconds(1));
    assertUnknownTask(alice.call("tasks/get", onTask(first)));

    assertThat(taskIdOf(alice.call("tools/call", taskCall("alpha__slow")))).as("the slot came back")
        .startsWith(Tasks.ID_PREFIX);
  }

  @Test
  void aBackendsNegativeOrFractionalTtl_givesTheMaximumLife_notAnError() {
    start(builder -> {});
    alpha.handlers.put("tools/call", request -> {
      ObjectNode created = created("alpha-task-" + made.incrementAndGet());
      if (made.get() == 1) {
        created.put("ttlMs", -5);
      } else {
        created.put("ttlMs", 1.5e30);
      }
      return JsonRpc.result(request.id(), created);
    });
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));

    String negative = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    String fractional = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    fixture.clock.advance(Duration.ofMinutes(59));

    assertThat(alice.call("tasks/get", onTask(negative)).result().path("status").asString()).isEqualTo("working");
    assertThat(alice.call("tasks/get", onTask(fractional)).result().path("status").asString()).isEqualTo("working");
  }

  @Test
  void aCancelledTask_givesItsSlotBack_asTheRefusalAtTheBoundSays() {
    start(builder -> builder.maxTasksPerPrincipal(1));
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    String first = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    assertThat(alice.call("tools/call", taskCall("alpha__slow")).error().path("message").asString())
        .contains("cancel one (tasks/cancel)");

    JsonRpcMessage cancelled = alice.call("tasks/cancel", onTask(first));

    assertThat(cancelled.kind()).as("%s", cancelled.raw()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    assertThat(held.get("alpha-task-1")).isEqualTo("cancelled");
    assertThat(taskIdOf(alice.call("tools/call", taskCall("alpha__slow")))).startsWith(Tasks.ID_PREFIX);
  }

  @Test
  void aBackendAnsweringTasksGetForAnotherTask_neitherRevealsNorEndsIt() {
    start(builder -> builder.maxTasksPerPrincipal(1));
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    ScriptedClient bob = fixture.client(Credentials.bearer("bob"));
    String alices = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    taskIdOf(bob.call("tools/call", taskCall("alpha__slow")));
    // A confused backend answers alice's poll about bob's task (alpha-task-2), saying it ended.
    alpha.handlers.put("tasks/get", request -> JsonRpc.result(request.id(), NODES.objectNode()
        .put("resultType", "complete").put("taskId", "alpha-task-2").put("status", "completed")));

    JsonRpcMessage answer = alice.call("tasks/get", onTask(alices));

    assertThat(answer.result().path("taskId").asString()).isEqualTo(alices);
    assertThat(answer.raw().toString()).doesNotContain("alpha-task-2");
    JsonRpcMessage bobsNext = bob.call("tools/call", taskCall("alpha__slow"));
    assertThat(bobsNext.error().path("data").path("rules").get(0).asString()).as("bob's task still counts: %s",
        bobsNext.raw()).isEqualTo(Router.TASKS_BOUND_RULE);
  }

  @Test
  void aTaskIdInAnotherCaseOrEncoding_isAnUnknownTask() {
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    String taskId = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));

    assertUnknownTask(alice.call("tasks/get", onTask(taskId.toUpperCase(java.util.Locale.ROOT))));
    assertUnknownTask(alice.call("tasks/get", onTask(" " + taskId)));
    assertUnknownTask(alice.call("tasks/get", onTask(taskId.replace('-', '+'))));
    assertUnknownTask(alice.call("tasks/get", onTask(java.net.URLEncoder.encode(taskId + "/",
        java.nio.charset.StandardCharsets.UTF_8))));
    JsonRpcMessage notAString = alice.call("tasks/get", declareTasks(StatelessClientTest.params()).put("taskId", 1));

    assertThat(notAString.error().path("code").asInt()).isEqualTo(ErrorCode.INVALID_PARAMS.code());
    assertThat(taskOperations()).isZero();
  }

  // ---- a tool denied or killed after its task began: no more input, cancellation still possible ----

  @Test
  void aToolTheKillSwitchDisabled_takesNoMoreInputThroughItsTasks_butCanBeCancelled() {
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    String taskId = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    ObjectNode update = onTask(taskId);
    update.putObject("inputResponses");

    fixture.sentinel.killSwitch().disableTool("alpha__slow", "incident");
    JsonRpcMessage updated = alice.call("tasks/update", update);
    JsonRpcMessage cancelled = alice.call("tasks/cancel", onTask(taskId));

    assertThat(updated.kind()).as("%s", updated.raw()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(updated.error().path("code").asInt()).isEqualTo(ErrorCode.DISABLED.code());
    assertThat(alpha.received("tasks/update")).as("nothing reaches the killed tool").isEmpty();
    assertThat(cancelled.kind()).as("stopping it stays possible: %s", cancelled.raw()).isEqualTo(JsonRpcMessage.Kind.RESULT);
  }

  @Test
  void aReloadThatDeniesTheTool_stopsInputToItsTasks_butNotTheirCancellation() {
    start(builder -> {});
    ScriptedClient alice = fixture.client(Credentials.bearer("alice"));
    String taskId = taskIdOf(alice.call("tools/call", taskCall("alpha__slow")));
    ObjectNode update = onTask(taskId);
    update.putObject("inputResponses");

    fixture.sentinel.reconfigure(dev.sentinel.core.policy.PolicyEngine.parse(GatewayFixture.POLICY
        + "  - id: no-slow\n    deny: { tools: [\"alpha__slow\"] }\n", "policy.yaml"));
    JsonRpcMessage updated = alice.call("tasks/update", update);
    JsonRpcMessage cancelled = alice.call("tasks/cancel", onTask(taskId));

    assertThat(updated.kind()).as("%s", updated.raw()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(updated.error().path("code").asInt()).isEqualTo(ErrorCode.DENIED.code());
    assertThat(alpha.received("tasks/update")).as("nothing reaches the denied tool").isEmpty();
    assertThat(cancelled.kind()).as("%s", cancelled.raw()).isEqualTo(JsonRpcMessage.Kind.RESULT);
  }
}
