package dev.sentinel.core.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.notify.Notification;
import dev.sentinel.operator.ApprovalOperations;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** Approvals through the real pipeline: a confirm rule, the queue, operators deciding. */
class ApprovalConfirmerTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Pattern ID = Pattern.compile("approval ([a-z2-7]{12})");
  private static final String POLICY = "rules:\n"
      + "  - id: reads\n    allow: { tools: [\"db__read\"] }\n"
      + "  - id: refunds\n    confirm: { tools: [\"billing__refund\"] }\n"
      + "    reason: refunds need a second person\n";

  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-05T12:00:00Z"));
  private final InMemoryApprovalStore store = new InMemoryApprovalStore();
  private final RecordingSink sink = new RecordingSink();
  private final ApprovalOperations operators =
      Operations.builder().approvalStore(store).clock(clock).build().approvals();

  private Sentinel sentinel(String policy, Clock time) {
    AtomicReference<Sentinel> built = new AtomicReference<>();
    ApprovalConfirmer confirmer = ApprovalConfirmer.create(store, time,
        () -> built.get().policy(), () -> built.get().revision(), Redactor.defaults())
        .polling(Duration.ofMillis(5));
    Sentinel s = Sentinel.builder()
        .clock(time)
        // The API key is the principal's name: enough to tell callers apart here.
        .authenticator(credentials -> AuthenticationResult.success(
            Principal.of(credentials.secret())))
        .policy(PolicyEngine.parse(policy, "policy.yaml"))
        .confirmer(confirmer)
        .audit(AuditDispatcher.builder().sink(sink).build())
        .build();
    built.set(s);
    return s;
  }

  private Sentinel sentinel() {
    return sentinel(POLICY, clock);
  }

  private static CallResult<String> refund(Sentinel s, String who, int amount) {
    return s.call(Call.of(Credentials.apiKey(who),
        Request.toolCall("billing", "billing__refund",
            JSON.readTree("{\"amount\":" + amount + ",\"password\":\"hunter2\"}"))),
        r -> "refunded");
  }

  private static String approvalId(CallResult<?> result) {
    Matcher m = ID.matcher(result.refusal().reason());
    assertThat(m.find()).as(result.refusal().reason()).isTrue();
    return m.group(1);
  }

  @Test
  void aHeldCall_runsOnceAfterAnotherPrincipalApprovesIt() {
    Sentinel s = sentinel();
    CallResult<String> first = refund(s, "ann", 40);
    assertThat(first.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    String id = approvalId(first);
    assertThat(first.refusal().reason()).contains("sentinel approvals approve " + id);
    Approval queued = operators.show(id);
    assertThat(queued.principal()).isEqualTo("ann");
    assertThat(queued.rule()).isEqualTo("refunds");
    assertThat(queued.reason()).isEqualTo("refunds need a second person");
    // Operators see the arguments redacted, as the audit trail keeps them.
    assertThat(queued.arguments()).contains("amount").doesNotContain("hunter2");

    // Asking again before a decision queues nothing new.
    assertThat(approvalId(refund(s, "ann", 40))).isEqualTo(id);
    assertThat(store.list(10)).hasSize(1);

    operators.approve(id, "bob");
    assertThat(refund(s, "ann", 40).outcome()).isEqualTo(Outcome.ALLOWED);
    // The call's audit record says who approved it, and which approval it used.
    assertThat(s.audit().flush(Duration.ofSeconds(10))).isTrue();
    assertThat(sink.events()).filteredOn(e -> e.outcome() == Outcome.ALLOWED).singleElement()
        .satisfies(e -> assertThat(e.reason()).isEqualTo("approved by bob (approval " + id + ")"));
    // Used once: the same call again needs a new approval.
    CallResult<String> again = refund(s, "ann", 40);
    assertThat(again.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(approvalId(again)).isNotEqualTo(id);
    assertThat(operators.show(id).status()).isEqualTo(Approval.Status.USED);
  }

  @Test
  void anApproval_coversOnlyTheExactCallOfTheSamePrincipal() {
    Sentinel s = sentinel();
    String id = approvalId(refund(s, "ann", 40));
    operators.approve(id, "bob");
    // Other arguments, or another principal: not covered, queued on their own.
    assertThat(approvalId(refund(s, "ann", 4000))).isNotEqualTo(id);
    assertThat(approvalId(refund(s, "mallory", 40))).isNotEqualTo(id);
    assertThat(refund(s, "ann", 40).outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void aChangedPolicy_needsANewApproval() {
    Sentinel s = sentinel();
    String id = approvalId(refund(s, "ann", 40));
    operators.approve(id, "bob");
    s.reconfigure(PolicyEngine.parse(POLICY + "  - id: more\n    deny: { tools: [x] }\n",
        "policy.yaml"));
    CallResult<String> after = refund(s, "ann", 40);
    assertThat(after.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(approvalId(after)).isNotEqualTo(id);
  }

  @Test
  void fourEyes_theCallerCannotApproveAndNoOperatorCountsTwice() {
    Sentinel s = sentinel(POLICY + "    approvals: 2\n", clock);
    String id = approvalId(refund(s, "ann", 40));
    assertThatThrownBy(() -> operators.approve(id, "ann"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("four eyes");
    operators.approve(id, "bob");
    assertThatThrownBy(() -> operators.approve(id, "bob"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("approved " + id + " already");
    CallResult<String> half = refund(s, "ann", 40);
    assertThat(half.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(half.refusal().reason()).contains("1 more of 2");
    operators.approve(id, "carol");
    assertThat(refund(s, "ann", 40).outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(operators.show(id).approvers()).containsExactly("bob", "carol");
  }

  @Test
  void aDeniedOrExpiredApproval_refusesAndCannotBeDecidedAgain() {
    Sentinel s = sentinel(POLICY + "    expires: 10m\n", clock);
    String denied = approvalId(refund(s, "ann", 40));
    operators.deny(denied, "bob", "not this customer");
    CallResult<String> refused = refund(s, "ann", 40);
    assertThat(refused.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(approvalId(refused)).isNotEqualTo(denied);
    assertThatThrownBy(() -> operators.approve(denied, "carol"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("is denied");

    String lapsing = approvalId(refund(s, "ann", 41));
    clock.advance(Duration.ofMinutes(10));
    assertThatThrownBy(() -> operators.approve(lapsing, "bob"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("is expired");
    assertThat(operators.list(false, 50)).extracting(Approval::id).doesNotContain(lapsing);
  }

  @Test
  void anApprovedButUnusedApproval_expiresToo() {
    Sentinel s = sentinel(POLICY + "    expires: 5m\n", clock);
    String id = approvalId(refund(s, "ann", 40));
    operators.approve(id, "bob");
    clock.advance(Duration.ofMinutes(5));
    CallResult<String> late = refund(s, "ann", 40);
    assertThat(late.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(approvalId(late)).isNotEqualTo(id);
  }

  @Test
  void aWaitingCall_runsAsSoonAsAnOperatorApproves() throws Exception {
    // The real clock: the call really waits, and the test approves from another thread.
    Sentinel s = sentinel(POLICY + "    wait: 1m\n",
        Clock.system());
    CompletableFuture<CallResult<String>> waiting =
        CompletableFuture.supplyAsync(() -> refund(s, "ann", 40));
    Conditions.await("the call is queued", () -> !operators.list(false, 10).isEmpty());
    assertThat(waiting).isNotDone();
    operators.approve(operators.list(false, 10).get(0).id(), "bob");
    assertThat(waiting.get(30, TimeUnit.SECONDS).outcome()).isEqualTo(Outcome.ALLOWED);
  }

  @Test
  void twoIdenticalCallsRacingForOneApproval_onlyOneRuns() throws Exception {
    Sentinel s = sentinel();
    String id = approvalId(refund(s, "ann", 40));
    operators.approve(id, "bob");
    CompletableFuture<CallResult<String>> a = CompletableFuture.supplyAsync(() -> refund(s, "ann", 40));
    CompletableFuture<CallResult<String>> b = CompletableFuture.supplyAsync(() -> refund(s, "ann", 40));
    long allowed = java.util.stream.Stream.of(a.get(30, TimeUnit.SECONDS), b.get(30, TimeUnit.SECONDS))
        .filter(r -> r.outcome() == Outcome.ALLOWED).count();
    assertThat(allowed).isEqualTo(1);
  }

  @Test
  void operators_areToldOfAQueuedCallAndOfEachDecision() {
    List<Notification> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicReference<Sentinel> built = new AtomicReference<>();
    Sentinel s = Sentinel.builder()
        .clock(clock)
        .authenticator(credentials -> AuthenticationResult.success(
            Principal.of(credentials.secret())))
        .policy(PolicyEngine.parse(POLICY, "policy.yaml"))
        .confirmer(ApprovalConfirmer.create(store, clock, () -> built.get().policy(),
            () -> built.get().revision(), Redactor.defaults()).notifying(sent::add))
        .audit(AuditDispatcher.builder().sink(new RecordingSink()).build())
        .build();
    built.set(s);
    String id = approvalId(refund(s, "ann", 40));
    assertThat(sent).singleElement().satisfies(n -> {
      assertThat(n.type()).isEqualTo("approval.pending");
      assertThat(n.text()).contains("ann asks to run billing__refund")
          .contains("sentinel approvals approve " + id);
      // Operators are told of the call, never of its arguments.
      assertThat(n.toJson().toString()).doesNotContain("hunter2").doesNotContain("amount");
    });
    Operations.builder().approvalStore(store).notifier(sent::add).clock(clock).build()
        .approvals().approve(id, "bob");
    assertThat(sent).hasSize(2);
    assertThat(sent.get(1).type()).isEqualTo("approval.decided");
    assertThat(sent.get(1).text()).isEqualTo("bob approved ann's billing__refund (approval "
        + id + ")");
  }

  @Test
  void callsUnderNoConfirmRule_neverTouchTheQueue() {
    Sentinel s = sentinel();
    CallResult<String> read = s.call(Call.of(Credentials.apiKey("ann"),
        Request.toolCall("db", "db__read", JSON.createObjectNode())), r -> "rows");
    assertThat(read.outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(store.list(10)).isEmpty();
  }
}
