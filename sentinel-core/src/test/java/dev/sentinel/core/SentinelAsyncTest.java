package dev.sentinel.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link Sentinel#callAsync}: the pipeline decides before the invoker starts, and the call's one
 * record is written when the invoker's answer comes, on the thread that brings it.
 */
class SentinelAsyncTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String POLICY = String.join("\n",
      "roles: { developer: {} }",
      "rules:",
      "  - id: query",
      "    allow: { roles: [developer], tools: [\"db__query\"] }",
      "");

  private final ManualClock clock = new ManualClock();
  private final RecordingSink sink = new RecordingSink();
  private final AtomicInteger invocations = new AtomicInteger();
  private Sentinel sentinel;

  @AfterEach
  void close() {
    if (sentinel != null) {
      sentinel.close();
    }
  }

  private Sentinel start() {
    sentinel = Sentinel.builder().clock(clock).instance("test")
        .authenticator(Authenticator.fixed(Principal.of("ann", "developer")))
        .policy(PolicyEngine.parse(POLICY, "policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .build();
    return sentinel;
  }

  private static Call call(String tool) {
    return Call.of(Credentials.launch(), Request.toolCall("db", tool, JSON.readTree("{\"sql\":\"select 1\"}")));
  }

  private List<AuditEvent> trail() {
    assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
    return sink.events();
  }

  private static <T> CallResult<T> done(CompletionStage<CallResult<T>> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void anAllowedCall_isRecordedWhenItsAnswerComes_notBefore_withTheAnswersDigest() throws Exception {
    start();
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();

    CompletionStage<CallResult<JsonNode>> result = sentinel.callAsync(call("db__query"), request -> {
      invocations.incrementAndGet();
      return answer;
    });

    assertThat(invocations).as("started on the caller's thread").hasValue(1);
    assertThat(result.toCompletableFuture()).isNotDone();
    assertThat(trail()).as("nothing recorded while the answer is out").isEmpty();

    answer.complete(JSON.createObjectNode().put("rows", 1));

    CallResult<JsonNode> finished = done(result);
    assertThat(finished.ok()).isTrue();
    assertThat(finished.value().path("rows").asInt()).isEqualTo(1);
    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.id()).isEqualTo(finished.eventId());
      assertThat(event.outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(event.rules()).containsExactly("query");
      assertThat(event.responseDigest()).startsWith("hmac-sha256:");
    });
  }

  @Test
  void aDeniedCall_neverStartsTheInvoker_andItsResultIsReadyAtOnce() throws Exception {
    start();

    CompletionStage<CallResult<JsonNode>> result = sentinel.callAsync(call("db__drop"), request -> {
      invocations.incrementAndGet();
      return new CompletableFuture<>();
    });

    assertThat(result.toCompletableFuture()).isDone();
    assertThat(done(result).outcome()).isEqualTo(Outcome.DENIED);
    assertThat(invocations).hasValue(0);
    assertThat(trail()).singleElement().extracting(AuditEvent::outcome).isEqualTo(Outcome.DENIED);
  }

  @Test
  void howTheAnswerFails_isTheOutcome_whetherWrappedOrThrownAtOnce() throws Exception {
    start();
    Call query = call("db__query");

    CallResult<Object> failed = done(sentinel.callAsync(query,
        r -> CompletableFuture.failedFuture(new IllegalStateException("backend exploded"))));
    CallResult<Object> timedOut = done(sentinel.callAsync(query,
        r -> CompletableFuture.supplyAsync(() -> {
          throw new java.util.concurrent.CompletionException(new TimeoutException("30 s"));
        })));
    CallResult<Object> cancelled = done(sentinel.callAsync(query, r -> {
      throw new CancellationException("client went away");
    }));
    CallResult<Object> noStage = done(sentinel.callAsync(query, r -> null));

    assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(failed.failure()).hasMessage("backend exploded");
    assertThat(timedOut.outcome()).as("the cause a CompletionException wraps").isEqualTo(Outcome.TIMED_OUT);
    assertThat(cancelled.outcome()).isEqualTo(Outcome.CANCELLED);
    assertThat(noStage.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(trail()).extracting(AuditEvent::outcome, AuditEvent::errorClass).containsExactly(
        org.assertj.core.groups.Tuple.tuple(Outcome.FAILED, IllegalStateException.class.getName()),
        org.assertj.core.groups.Tuple.tuple(Outcome.TIMED_OUT, TimeoutException.class.getName()),
        org.assertj.core.groups.Tuple.tuple(Outcome.CANCELLED, CancellationException.class.getName()),
        org.assertj.core.groups.Tuple.tuple(Outcome.FAILED, IllegalStateException.class.getName()));
  }

  @Test
  void anInvokerRefusingLater_isARefusal_recordedOnce() throws Exception {
    start();

    CallResult<Object> result = done(sentinel.callAsync(call("db__query"), r -> CompletableFuture.failedFuture(
        new RefusedException(Refusal.of(Outcome.LIMITED, List.of("budget"), "over the token budget")))));

    assertThat(result.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(result.refusal().rules()).containsExactly("budget");
    assertThat(trail()).singleElement().extracting(AuditEvent::outcome).isEqualTo(Outcome.LIMITED);
  }

  @Test
  void anError_isRecordedAsAFailure_andEndsTheStageExceptionally() {
    start();
    CompletableFuture<Object> answer = new CompletableFuture<>();
    CompletionStage<CallResult<Object>> result = sentinel.callAsync(call("db__query"), r -> answer);

    answer.completeExceptionally(new StackOverflowError("deep"));

    assertThatThrownBy(() -> done(result)).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(StackOverflowError.class);
    assertThat(trail()).extracting(AuditEvent::outcome, AuditEvent::errorClass)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(Outcome.FAILED, StackOverflowError.class.getName()));
  }

  @Test
  void theSynchronousCall_isUnchanged_byTheSharedCompletion() {
    start();

    CallResult<JsonNode> result = sentinel.call(call("db__query"), r -> JSON.createObjectNode().put("ok", true));
    assertThatThrownBy(() -> sentinel.call(call("db__query"), r -> {
      throw new StackOverflowError("deep");
    })).isInstanceOf(StackOverflowError.class);

    assertThat(result.ok()).isTrue();
    assertThat(trail()).extracting(AuditEvent::outcome).containsExactly(Outcome.ALLOWED, Outcome.FAILED);
  }
}
