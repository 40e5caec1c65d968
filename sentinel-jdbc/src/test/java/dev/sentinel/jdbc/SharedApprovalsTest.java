package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.approval.Approval;
import dev.sentinel.core.approval.ApprovalConfirmer;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.operator.ApprovalOperations;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.json.JsonMapper;

/**
 * Two gateways' pipelines on one PostgreSQL share one approval queue: a call one of them holds
 * is seen and decided through the other, the identical call then runs once on either, and a
 * denial made on one is final on both (the call asked again queues a new request).
 */
class SharedApprovalsTest {
  private static final String POLICY = "rules:\n"
      + "  - id: refunds\n    confirm: { tools: [\"billing__refund\"] }\n"
      + "    reason: refunds need a second person\n    by: operator\n";
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  private final ManualClock clock = new ManualClock();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private JdbcStores stores(String url) {
    JdbcStores stores = JdbcStores.open(new DatabaseSettings(url, null, null, true,
        Duration.ofSeconds(5)), clock);
    open.add(stores);
    return stores;
  }

  private Sentinel gateway(JdbcStores stores) {
    AtomicReference<Sentinel> built = new AtomicReference<>();
    Sentinel sentinel = Sentinel.builder().clock(clock)
        .authenticator(credentials -> AuthenticationResult.success(Principal.of(credentials.secret())))
        .policy(PolicyEngine.parse(POLICY, "policy.yaml"))
        .confirmer(ApprovalConfirmer.create(stores.approvalStore().orElseThrow(), clock,
            () -> built.get().policy(), () -> built.get().revision(), Redactor.defaults()))
        .audit(AuditDispatcher.builder().sink(new RecordingSink()).build())
        .build();
    built.set(sentinel);
    open.add(sentinel);
    return sentinel;
  }

  private static CallResult<String> refund(Sentinel gateway, int amount) {
    return gateway.call(Call.of(Credentials.apiKey("ann"), Request.toolCall("billing",
        "billing__refund", JsonMapper.shared().readTree("{\"amount\":" + amount + "}"))), r -> "refunded");
  }

  @Test
  void aCallHeldOnOneGateway_isApprovedThroughTheOther_andRunsOnceOnEither() {
    String url = postgres.newDatabase();
    JdbcStores onA = stores(url);
    JdbcStores onB = stores(url);
    Sentinel a = gateway(onA);
    Sentinel b = gateway(onB);
    ApprovalOperations operatorsOnB = Operations.builder().stores(onB).clock(clock).build().approvals();

    assertThat(refund(a, 40).outcome()).isEqualTo(Outcome.UNCONFIRMED);
    // Asking again on the other gateway queues nothing new: one queue, one pending approval.
    assertThat(refund(b, 40).outcome()).isEqualTo(Outcome.UNCONFIRMED);
    List<Approval> pending = operatorsOnB.list(false, 10);
    assertThat(pending).singleElement().satisfies(p -> assertThat(p.principal()).isEqualTo("ann"));

    operatorsOnB.approve(pending.get(0).id(), "bob");

    assertThat(refund(a, 40).outcome()).isEqualTo(Outcome.ALLOWED);
    // Used once, on either gateway.
    assertThat(refund(b, 40).outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(operatorsOnB.show(pending.get(0).id()).status()).isEqualTo(Approval.Status.USED);

    // A denial through gateway A's operators is final for gateway B's too.
    ApprovalOperations operatorsOnA = Operations.builder().stores(onA).clock(clock).build().approvals();
    assertThat(refund(b, 41).outcome()).isEqualTo(Outcome.UNCONFIRMED);
    String other = operatorsOnA.list(false, 10).stream()
        .filter(p -> p.arguments().contains("41")).findFirst().orElseThrow().id();
    operatorsOnA.deny(other, "carol", "not today");
    try {
      operatorsOnB.approve(other, "dave");
      throw new AssertionError("a denied approval was approved on the other gateway");
    } catch (OperatorException expected) {
      assertThat(expected.getMessage()).contains("denied");
    }
    assertThat(operatorsOnB.show(other).status()).isEqualTo(Approval.Status.DENIED);
    // The call asked again is a new request for approval, never the denied one.
    assertThat(refund(b, 41).refusal().reason()).contains("is pending").doesNotContain(other);
  }
}
