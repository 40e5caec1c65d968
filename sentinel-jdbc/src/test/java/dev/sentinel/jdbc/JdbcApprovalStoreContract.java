package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.approval.Approval;
import dev.sentinel.operator.ApprovalOperations;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a {@link JdbcApprovalStore} does on each database. */
abstract class JdbcApprovalStoreContract {
  final ManualClock clock = new ManualClock(Instant.parse("2026-12-05T12:00:00Z"));

  /** A new, empty database. */
  protected abstract Database openDatabase();

  private Approval pending(String id, int quorum) {
    Instant now = clock.instant();
    return new Approval(id, "ann", "billing", "tools/call", "billing__refund",
        "{\"amount\":40}", "sha256:ab", "refunds", "a second person", "rev1", now,
        now.plus(Duration.ofHours(1)), quorum, List.of(), Approval.Status.PENDING, null, null,
        null);
  }

  @Test
  void create_findOpenList_roundTripEveryField() {
    try (Database db = openDatabase()) {
      JdbcApprovalStore store = JdbcApprovalStore.create(db);
      Approval a = pending("aaaaaaaaaaaa", 2);
      store.create(a);
      Approval read = store.find(a.id()).orElseThrow();
      assertThat(read).usingRecursiveComparison().ignoringFields("created", "expires")
          .isEqualTo(a);
      assertThat(read.expires()).isEqualTo(a.expires());
      assertThat(store.open("ann", "sha256:ab", clock.instant())).contains(read);
      assertThat(store.open("bob", "sha256:ab", clock.instant())).isEmpty();
      assertThat(store.open("ann", "sha256:ab", a.expires())).isEmpty();
      assertThat(store.list(10)).containsExactly(read);
      assertThatThrownBy(() -> store.create(a)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void approvals_fromManyOperatorsAtOnce_allCount() throws Exception {
    try (Database db = openDatabase()) {
      int operators = 4;
      JdbcApprovalStore store = JdbcApprovalStore.create(db);
      store.create(pending("bbbbbbbbbbbb", operators));
      ExecutorService pool = Executors.newFixedThreadPool(operators);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < operators; i++) {
          // An operator service per operator, each on its own store object: as on many gateways.
          ApprovalOperations ops = Operations.builder()
              .approvalStore(JdbcApprovalStore.create(db)).clock(clock).build().approvals();
          String who = "op" + i;
          done.add(pool.submit(() -> ops.approve("bbbbbbbbbbbb", who)));
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      Approval a = store.find("bbbbbbbbbbbb").orElseThrow();
      assertThat(a.approvers()).hasSize(operators).doesNotHaveDuplicates();
      assertThat(a.status()).isEqualTo(Approval.Status.APPROVED);
    }
  }

  @Test
  void decisions_onADecidedApproval_areRefusedAndChangeNothing() {
    try (Database db = openDatabase()) {
      JdbcApprovalStore store = JdbcApprovalStore.create(db);
      ApprovalOperations ops = Operations.builder().approvalStore(store).clock(clock).build()
          .approvals();
      store.create(pending("cccccccccccc", 1));
      ops.deny("cccccccccccc", "bob", "no");
      assertThatThrownBy(() -> ops.approve("cccccccccccc", "carol"))
          .isInstanceOf(OperatorException.class).hasMessageContaining("is denied");
      Approval a = store.find("cccccccccccc").orElseThrow();
      assertThat(a.status()).isEqualTo(Approval.Status.DENIED);
      assertThat(a.decidedBy()).isEqualTo("bob");
      assertThat(a.approvers()).isEmpty();
      assertThatThrownBy(() -> ops.approve("nosuchthing0", "carol"))
          .isInstanceOf(OperatorException.class).hasMessageContaining("no approval with id");
    }
  }
}
