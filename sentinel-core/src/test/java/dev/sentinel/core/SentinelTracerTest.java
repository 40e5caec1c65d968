package dev.sentinel.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.CallTracer.CallTrace;
import dev.sentinel.core.CallTracer.Stage;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The pipeline tells a {@link CallTracer} each stage of a call as it begins and ends, the stage
 * that refused a call with its refusal, and the call's one final event last; a tracer that throws
 * changes nothing; the caller's trace context reaches the tracer only when well formed.
 */
class SentinelTracerTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String POLICY = String.join("\n",
      "rules:",
      "  - id: no-drops",
      "    deny: { tools: [\"db__drop\"] }",
      "  - id: pay-with-a-human",
      "    confirm: { tools: [\"billing__pay\"] }",
      "  - id: everything",
      "    allow: {}",
      "");
  private static final String TRACE_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  private final ManualClock clock = new ManualClock();
  private final Recorder recorder = new Recorder();
  private Sentinel sentinel;

  @AfterEach
  void close() {
    if (sentinel != null) {
      sentinel.close();
    }
  }

  private Sentinel build(CallTracer tracer) {
    sentinel = Sentinel.builder()
        .clock(clock)
        .authenticator(Authenticator.fixed(Principal.of("ann", "developer")))
        .policy(PolicyEngine.parse(POLICY, "policy.yaml"))
        .limits(Limits.of(List.of(LimitRule.of("one-echo", Rate.parse("1/h"))),
            LocalRateLimiter.create(clock)))
        .audit(AuditDispatcher.builder().sink(new RecordingSink()).build())
        .tracer(tracer)
        .build();
    return sentinel;
  }

  private static Call call(String tool) {
    return Call.of(Credentials.launch(), Request.toolCall("b", tool, JSON.createObjectNode()));
  }

  private CallResult<JsonNode> run(Call call) {
    return sentinel.call(call, request -> JSON.createObjectNode().put("ok", true));
  }

  @Test
  void call_allowed_tracesEveryStageInOrderThenTheEvent() {
    build(recorder);

    CallResult<JsonNode> result = run(call("db__query"));

    assertThat(result.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(recorder.steps).containsExactly(
        "start db__query", "begin DECISION", "end DECISION", "begin LIMIT", "end LIMIT",
        "begin BACKEND", "end BACKEND", "begin AUDIT", "end AUDIT", "completed ALLOWED");
    assertThat(recorder.events).singleElement()
        .satisfies(event -> assertThat(event.id()).isEqualTo(result.eventId()));
  }

  @Test
  void call_denied_endsTheDecisionWithItsRefusal_andNeverReachesTheBackend() {
    build(recorder);

    run(call("db__drop"));

    assertThat(recorder.steps).containsExactly(
        "start db__drop", "begin DECISION", "end DECISION DENIED [no-drops]", "begin AUDIT",
        "end AUDIT", "completed DENIED");
  }

  @Test
  void call_limited_endsTheLimitWithItsRefusal() {
    build(recorder);
    run(call("db__query"));
    recorder.steps.clear();

    run(call("db__query"));

    assertThat(recorder.steps).containsExactly(
        "start db__query", "begin DECISION", "end DECISION", "begin LIMIT",
        "end LIMIT LIMITED [one-echo]", "begin AUDIT", "end AUDIT", "completed LIMITED");
  }

  @Test
  void call_unconfirmed_endsTheConfirmationWithItsRefusal() {
    build(recorder);

    run(call("billing__pay"));

    assertThat(recorder.steps).containsSubsequence(
        "end LIMIT", "begin CONFIRMATION", "end CONFIRMATION UNCONFIRMED [pay-with-a-human]",
        "completed UNCONFIRMED");
  }

  @Test
  void refuse_tracesTheDecisionWithTheRefusal() {
    build(recorder);

    sentinel.refuse(call("db__query"), Refusal.of(Outcome.LIMITED, List.of("max_in_flight"), "busy"));

    assertThat(recorder.steps).containsExactly(
        "start db__query", "begin DECISION", "end DECISION LIMITED [max_in_flight]", "begin AUDIT",
        "end AUDIT", "completed LIMITED");
  }

  @Test
  void call_whenTheTracerThrows_isUnaffectedAndTheFailureCounted() {
    CallTracer throwing = call -> new CallTrace() {
      @Override
      public void begin(Stage stage) {
        throw new IllegalStateException("broken tracer");
      }

      @Override
      public void completed(AuditEvent event) {
        throw new IllegalStateException("broken tracer");
      }
    };
    build(throwing);

    CallResult<JsonNode> result = run(call("db__query"));

    assertThat(result.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(result.value().get("ok").asBoolean()).isTrue();
    assertThat(sentinel.listenerFailures()).isEqualTo(5); // four stages begun, one completion
  }

  @Test
  void call_whenStartingTheTraceThrows_isUnaffected() {
    build(call -> {
      throw new IllegalStateException("broken tracer");
    });

    assertThat(run(call("db__query")).outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(sentinel.listenerFailures()).isEqualTo(1);
  }

  @Test
  void call_carriesTheCallersTraceParentToTheTracer() {
    build(recorder);

    run(call("db__query").withTraceParent(TRACE_PARENT));

    assertThat(recorder.traceParents).containsExactly(TRACE_PARENT);
  }

  @Test
  void traceParent_malformed_isIgnored() {
    for (String bad : new String[] {
        "", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", // no flags
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // another version
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", // upper case
        "00-00000000000000000000000000000000-b7ad6b7169203331-01", // zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // zero span id
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",
        TRACE_PARENT + " ", "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}) {
      assertThat(call("db__query").withTraceParent(bad).traceParent()).as(bad).isNull();
    }
    assertThat(call("db__query").withTraceParent(TRACE_PARENT).traceParent()).isEqualTo(TRACE_PARENT);
    assertThat(call("db__query").withTraceParent(TRACE_PARENT).withDiagnostic("d").traceParent())
        .isEqualTo(TRACE_PARENT);
  }

  @Test
  void noTracer_isTheSharedNoOpTrace() {
    assertThat(CallTracer.none().start(call("db__query"))).isSameAs(CallTrace.none());
    build(CallTracer.none());
    assertThat(run(call("db__query")).outcome()).isEqualTo(Outcome.ALLOWED);
  }

  /** A tracer that writes down what it is told, one line per step. */
  private static final class Recorder implements CallTracer {
    final List<String> steps = new CopyOnWriteArrayList<>();
    final List<AuditEvent> events = new ArrayList<>();
    final List<String> traceParents = new ArrayList<>();

    @Override
    public CallTrace start(Call call) {
      steps.add("start " + call.request().name());
      if (call.traceParent() != null) {
        traceParents.add(call.traceParent());
      }
      return new CallTrace() {
        @Override
        public void begin(Stage stage) {
          steps.add("begin " + stage);
        }

        @Override
        public void end(Stage stage, Refusal refusal) {
          steps.add("end " + stage
              + (refusal == null ? "" : " " + refusal.outcome() + " " + refusal.rules()));
        }

        @Override
        public void completed(AuditEvent event) {
          events.add(event);
          steps.add("completed " + event.outcome());
        }
      };
    }
  }
}
