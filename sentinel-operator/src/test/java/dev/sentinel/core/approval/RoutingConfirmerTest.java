package dev.sentinel.core.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Caller;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.policy.ConfirmSettings;
import dev.sentinel.core.policy.ConfirmSettings.By;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import dev.sentinel.core.testing.WatchedApprovalStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * Confirm rules routed by {@code by:} through the real pipeline: the caller asked (and its
 * answer taken), the operators' queue, or either; the gateway's default when a rule is silent.
 */
class RoutingConfirmerTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-05T12:00:00Z"));
  private final WatchedApprovalStore store = new WatchedApprovalStore();
  private final RecordingSink sink = new RecordingSink();

  /** A caller as a gateway's session is: asked questions, answering as scripted. */
  private static final class ScriptedCaller implements Caller {
    final boolean askable;
    final Answer answer;
    final List<String> questions = new CopyOnWriteArrayList<>();
    final List<Duration> timeouts = new CopyOnWriteArrayList<>();
    final List<String> bindings = new CopyOnWriteArrayList<>();
    final List<String> notices = new CopyOnWriteArrayList<>();
    final AtomicBoolean cancelled = new AtomicBoolean();

    ScriptedCaller(boolean askable, Answer answer) {
      this.askable = askable;
      this.answer = answer;
    }

    @Override
    public boolean askable() {
      return askable;
    }

    @Override
    public Answer confirm(String question, String binding, Duration timeout) {
      questions.add(question);
      bindings.add(binding);
      timeouts.add(timeout);
      return askable ? answer : Answer.UNREACHABLE;
    }

    @Override
    public void waiting(Duration waited, String message) {
      notices.add(message);
    }

    @Override
    public boolean cancelled() {
      return cancelled.get();
    }
  }

  private static String policy(String settings) {
    return "rules:\n"
        + "  - id: refunds\n    confirm: { tools: [\"billing__refund\"] }\n"
        + "    reason: refunds move money\n" + settings;
  }

  private Sentinel sentinel(String policy, By fallback) {
    AtomicReference<Sentinel> built = new AtomicReference<>();
    ApprovalConfirmer operators = ApprovalConfirmer.create(store, clock,
        () -> built.get().policy(), () -> built.get().revision(), Redactor.defaults())
        .polling(Duration.ofMillis(5));
    Sentinel s = Sentinel.builder()
        .clock(clock)
        .authenticator(credentials -> AuthenticationResult.success(Principal.of(credentials.secret())))
        .policy(PolicyEngine.parse(policy, "policy.yaml"))
        .confirmer(RoutingConfirmer.create(operators, () -> built.get().policy(),
            () -> built.get().revision(), fallback, Redactor.defaults()))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .build();
    built.set(s);
    return s;
  }

  private static CallResult<String> refund(Sentinel s, Caller caller, List<String> ran) {
    return refund(s, caller, ran, "ann", 40);
  }

  private static CallResult<String> refund(Sentinel s, Caller caller, List<String> ran, String who,
      int amount) {
    return s.call(Call.of(Credentials.apiKey(who),
        Request.toolCall("billing", "billing__refund",
            JSON.readTree("{\"amount\":" + amount + ",\"password\":\"hunter2\"}"))).withCaller(caller),
        r -> {
          ran.add("refund");
          return "refunded";
        });
  }

  @Test
  void byCaller_anAcceptingCaller_runsTheCallOnce_andTheTrailSaysWhoConfirmed() {
    Sentinel s = sentinel(policy("    by: caller\n"), By.OPERATOR);
    ScriptedCaller caller = new ScriptedCaller(true, Caller.Answer.ACCEPTED);
    List<String> ran = new CopyOnWriteArrayList<>();

    CallResult<String> result = refund(s, caller, ran);

    assertThat(result.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(ran).containsExactly("refund");
    // The human sees the call, its arguments redacted as the trail keeps them, and the reason.
    assertThat(caller.questions).singleElement().satisfies(q -> assertThat(q)
        .contains("tools/call: billing__refund (backend billing)", "\"amount\":40",
            "refunds move money")
        .doesNotContain("hunter2"));
    assertThat(caller.timeouts).containsExactly(ConfirmSettings.CALLER_WAIT);
    // Nothing queued for operators.
    assertThat(store.list(10)).isEmpty();
    assertThat(s.audit().flush(Duration.ofSeconds(10))).isTrue();
    assertThat(sink.events()).singleElement().satisfies(e -> {
      assertThat(e.outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(e.reason()).isEqualTo("confirmed by the caller ann");
    });
  }

  @Test
  void theCallerIsAskedWithABinding_thatIsTheSameOnlyForTheSameCall() {
    Sentinel s = sentinel(policy("    by: caller\n"), By.OPERATOR);
    ScriptedCaller caller = new ScriptedCaller(true, Caller.Answer.ACCEPTED);
    List<String> ran = new CopyOnWriteArrayList<>();
    refund(s, caller, ran, "ann", 40);
    refund(s, caller, ran, "ann", 40);
    refund(s, caller, ran, "ann", 41);
    refund(s, caller, ran, "bob", 40);
    // An edited policy is another revision: another binding.
    s.reconfigure(PolicyEngine.parse(policy("    by: caller\n    wait: 1m\n"), "policy.yaml"));
    refund(s, caller, ran, "ann", 40);

    List<String> b = caller.bindings;
    assertThat(b).hasSize(5);
    assertThat(b.get(1)).isEqualTo(b.get(0));
    assertThat(List.of(b.get(2), b.get(3), b.get(4))).doesNotContain(b.get(0)).doesNotHaveDuplicates();
  }

  @Test
  void byCaller_everyAnswerButAccept_refusesTheCall_withItsReason() {
    Sentinel s = sentinel(policy("    by: caller\n    wait: 30s\n"), By.OPERATOR);
    List<String> ran = new CopyOnWriteArrayList<>();
    for (Caller.Answer answer : List.of(Caller.Answer.DECLINED, Caller.Answer.CANCELLED,
        Caller.Answer.TIMED_OUT, Caller.Answer.UNREACHABLE, Caller.Answer.INPUT_REQUIRED,
        Caller.Answer.STALE)) {
      ScriptedCaller caller = new ScriptedCaller(true, answer);
      CallResult<String> result = refund(s, caller, ran);
      assertThat(result.outcome()).as(answer.name()).isEqualTo(Outcome.UNCONFIRMED);
      assertThat(result.refusal().reason()).as(answer.name())
          .contains(answer == Caller.Answer.DECLINED ? "declined"
              : answer == Caller.Answer.CANCELLED ? "dismissed"
              : answer == Caller.Answer.TIMED_OUT ? "within 30 s"
              : answer == Caller.Answer.INPUT_REQUIRED ? "input required"
              : answer == Caller.Answer.STALE ? "does not confirm it" : "could not be asked");
      // The rule's wait is the caller's time to answer.
      assertThat(caller.timeouts).containsExactly(Duration.ofSeconds(30));
    }
    assertThat(ran).isEmpty();
  }

  @Test
  void byCaller_aCallerThatCannotBeAsked_isRefused_andNothingIsQueued() {
    Sentinel s = sentinel(policy("    by: caller\n"), By.EITHER);
    ScriptedCaller caller = new ScriptedCaller(false, Caller.Answer.ACCEPTED);
    List<String> ran = new CopyOnWriteArrayList<>();

    CallResult<String> result = refund(s, caller, ran);

    assertThat(result.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(result.refusal().reason()).contains("the client cannot be asked");
    assertThat(caller.questions).isEmpty();
    assertThat(store.list(10)).isEmpty();
    assertThat(ran).isEmpty();
    // Outside a session (a library call) the caller is unreachable too.
    assertThat(s.call(Call.of(Credentials.apiKey("ann"),
        Request.toolCall("billing", "billing__refund", JSON.readTree("{}"))), r -> "x").outcome())
        .isEqualTo(Outcome.UNCONFIRMED);
  }

  @Test
  void byOperator_neverAsksTheCaller_evenOneThatWouldAccept() {
    Sentinel s = sentinel(policy("    by: operator\n"), By.EITHER);
    ScriptedCaller caller = new ScriptedCaller(true, Caller.Answer.ACCEPTED);
    List<String> ran = new CopyOnWriteArrayList<>();

    CallResult<String> result = refund(s, caller, ran);

    assertThat(result.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(result.refusal().reason()).contains("sentinel approvals approve");
    assertThat(caller.questions).isEmpty();
    assertThat(store.list(10)).singleElement().satisfies(a -> assertThat(a.principal()).isEqualTo("ann"));
    assertThat(ran).isEmpty();
  }

  @Test
  void byEither_asksACallerThatCanBeAsked_elseQueuesForOperators() {
    Sentinel s = sentinel(policy("    by: either\n"), By.OPERATOR);
    List<String> ran = new CopyOnWriteArrayList<>();

    assertThat(refund(s, new ScriptedCaller(true, Caller.Answer.ACCEPTED), ran).outcome())
        .isEqualTo(Outcome.ALLOWED);
    assertThat(store.list(10)).isEmpty();

    CallResult<String> unaskable = refund(s, new ScriptedCaller(false, Caller.Answer.ACCEPTED), ran);
    assertThat(unaskable.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(store.list(10)).hasSize(1);
    assertThat(ran).containsExactly("refund");
  }

  @Test
  void aRuleThatDoesNotSay_getsTheGatewaysDefault() {
    List<String> ran = new CopyOnWriteArrayList<>();
    ScriptedCaller caller = new ScriptedCaller(true, Caller.Answer.ACCEPTED);

    assertThat(refund(sentinel(policy(""), By.EITHER), caller, ran).outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(caller.questions).hasSize(1);

    assertThat(refund(sentinel(policy(""), By.OPERATOR), caller, ran).outcome())
        .isEqualTo(Outcome.UNCONFIRMED);
    assertThat(caller.questions).as("the operator default never asks the caller").hasSize(1);
  }

  @Test
  void ofTwoRulesThatHoldACall_operatorsWin() {
    Sentinel s = sentinel("rules:\n"
        + "  - id: refunds\n    confirm: { tools: [\"billing__*\"] }\n    by: caller\n"
        + "  - id: money\n    confirm: { tools: [\"billing__refund\"] }\n    by: operator\n", By.EITHER);
    ScriptedCaller caller = new ScriptedCaller(true, Caller.Answer.ACCEPTED);
    CallResult<String> result = refund(s, caller, new CopyOnWriteArrayList<>());
    assertThat(result.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(caller.questions).isEmpty();
    assertThat(store.list(10)).hasSize(1);
  }

  @Test
  void aCallWaitingForOperators_tellsItsCallerEveryFewSeconds_andStopsWhenTheCallerGivesUp() throws Exception {
    Sentinel s = sentinel(policy("    by: operator\n    wait: 5m\n"), By.OPERATOR);
    ScriptedCaller caller = new ScriptedCaller(true, Caller.Answer.ACCEPTED);
    List<String> ran = new CopyOnWriteArrayList<>();
    CompletableFuture<CallResult<String>> waiting =
        CompletableFuture.supplyAsync(() -> refund(s, caller, ran));
    Conditions.await("the call is queued", () -> !store.list(10).isEmpty());
    String id = store.list(10).get(0).id();

    // Time moves once the call waits (its first look at the approval).
    Conditions.await("the call waits", () -> store.finds() > 0);
    clock.advance(Duration.ofSeconds(6));
    Conditions.await("the caller hears that it waits", () -> caller.notices.size() == 1);
    clock.advance(Duration.ofSeconds(6));
    Conditions.await("and again", () -> caller.notices.size() == 2);
    assertThat(caller.notices).allMatch(n -> n.equals("waiting for an operator to approve " + id));

    caller.cancelled.set(true);
    CallResult<String> result = waiting.get(30, TimeUnit.SECONDS);
    assertThat(result.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(result.refusal().reason()).contains(id);
    assertThat(ran).isEmpty();
    // The approval stays queued: an operator may still approve, and the caller call again.
    Operations.builder().approvalStore(store).clock(clock).build().approvals().approve(id, "bob");
    caller.cancelled.set(false);
    assertThat(refund(s, caller, ran).outcome()).isEqualTo(Outcome.ALLOWED);
  }
}
