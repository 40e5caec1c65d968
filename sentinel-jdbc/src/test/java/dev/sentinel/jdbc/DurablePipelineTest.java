package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.AuditDispatcher.OnSinkFailure;
import dev.sentinel.core.audit.AuditMode;
import dev.sentinel.core.testing.RecordingSink;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.JsonNodeFactory;

/** The pipeline in both audit modes, on a real SQLite store. */
class DurablePipelineTest {
  private static final Request READ =
      Request.toolCall("fs", "fs__read", JsonNodeFactory.instance.objectNode().put("p", "/a"));

  @TempDir Path dir;
  private Database database;

  @BeforeEach
  void open() {
    database = Database.open("jdbc:sqlite:" + dir.resolve("sentinel.db"), null, null);
  }

  @AfterEach
  void close() {
    database.close();
  }

  private Sentinel sentinel(AuditMode mode, List<AuditEvent> completed) {
    return Sentinel.builder()
        .authenticator(Authenticator.fixed(Principal.of("alice", "dev")))
        .policy(ctx -> ctx.request().name().equals("fs__read")
            ? Decision.allow(List.of("readers"), "")
            : Decision.deny(List.of("no"), "no"))
        .audit(AuditDispatcher.builder().sink(JdbcAuditSink.create(database))
            .onSinkFailure(OnSinkFailure.CONTINUE).maxAttempts(1).build())
        .auditMode(mode)
        .listener(completed::add)
        .build();
  }

  private List<AuditRecord> all() {
    List<AuditRecord> out = new ArrayList<>();
    AuditQuery.builder().includeIntents(true).build().forEach(database, out::add);
    return out;
  }

  @Test
  void async_writesOneFinalRecordPerCall() {
    List<AuditEvent> completed = new CopyOnWriteArrayList<>();
    CallResult<String> result;
    try (Sentinel sentinel = sentinel(AuditMode.ASYNC, completed)) {
      result = sentinel.call(Call.of(Credentials.launch(), READ), r -> "ok");
    }

    assertThat(all()).extracting(r -> r.event().outcome()).containsExactly(Outcome.ALLOWED);
    assertThat(all().get(0).event().id()).isEqualTo(result.eventId());
    assertThat(completed).hasSize(1);
  }

  @Test
  void durable_commitsTheIntentBeforeInvoking_thenTheFinalRecord() {
    List<AuditEvent> completed = new CopyOnWriteArrayList<>();
    List<List<AuditRecord>> seenByInvoker = new ArrayList<>();
    CallResult<String> result;
    try (Sentinel sentinel = sentinel(AuditMode.DURABLE, completed)) {
      result = sentinel.call(Call.of(Credentials.launch(), READ), r -> {
        seenByInvoker.add(all());
        return "ok";
      });
    }

    List<AuditRecord> atInvoke = seenByInvoker.get(0);
    assertThat(atInvoke).singleElement().satisfies(r -> {
      assertThat(r.pending()).isTrue();
      assertThat(r.event().id()).isEqualTo(result.eventId());
      assertThat(r.event().principal()).isEqualTo("alice");
      assertThat(r.event().rules()).containsExactly("readers");
    });
    assertThat(all()).extracting(r -> r.event().outcome())
        .containsExactly(Outcome.PENDING, Outcome.ALLOWED);
    List<AuditRecord> shown = new ArrayList<>();
    AuditQuery.builder().build().forEach(database, shown::add);
    assertThat(shown).singleElement()
        .satisfies(r -> assertThat(r.event().outcome()).isEqualTo(Outcome.ALLOWED));
    // Exactly one final event per call, and it is the one listeners see.
    assertThat(completed).extracting(AuditEvent::outcome).containsExactly(Outcome.ALLOWED);
    assertThat(AuditVerifier.verify(database).ok()).isTrue();
  }

  @Test
  void durable_refusedCall_hasNoIntent() {
    List<AuditEvent> completed = new CopyOnWriteArrayList<>();
    Request write = Request.toolCall("fs", "fs__write", JsonNodeFactory.instance.objectNode());
    try (Sentinel sentinel = sentinel(AuditMode.DURABLE, completed)) {
      assertThat(sentinel.call(Call.of(Credentials.launch(), write), r -> "ok").outcome())
          .isEqualTo(Outcome.DENIED);
    }

    assertThat(all()).extracting(r -> r.event().outcome()).containsExactly(Outcome.DENIED);
  }

  @Test
  void durable_intentCannotBeCommitted_refusesAsUnavailableWithoutInvoking() {
    List<AuditEvent> completed = new CopyOnWriteArrayList<>();
    AtomicBoolean invoked = new AtomicBoolean();
    try (Sentinel sentinel = sentinel(AuditMode.DURABLE, completed)) {
      database.close(); // the store is gone

      CallResult<String> result = sentinel.call(Call.of(Credentials.launch(), READ), r -> {
        invoked.set(true);
        return "ok";
      });

      assertThat(result.outcome()).isEqualTo(Outcome.UNAVAILABLE);
      assertThat(result.refusal().reason()).contains("audit trail cannot be written");
    }
    assertThat(invoked).isFalse();
    assertThat(completed).extracting(AuditEvent::outcome).containsExactly(Outcome.UNAVAILABLE);
  }

  @Test
  void durable_withoutADurableSink_isRejectedAtBuild() {
    assertThatThrownBy(() -> Sentinel.builder()
            .authenticator(Authenticator.fixed(Principal.of("alice")))
            .audit(AuditDispatcher.builder().sink(new RecordingSink()).build())
            .auditMode(AuditMode.DURABLE)
            .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("DURABLE needs a durable audit sink");
  }

  @Test
  void durable_concurrentCalls_eachHaveIntentAndFinal() throws Exception {
    List<AuditEvent> completed = new CopyOnWriteArrayList<>();
    List<String> ids = new CopyOnWriteArrayList<>();
    try (Sentinel sentinel = sentinel(AuditMode.DURABLE, completed)) {
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        Thread thread = new Thread(() -> {
          for (int i = 0; i < 25; i++) {
            ids.add(sentinel.call(Call.of(Credentials.launch(), READ), r -> "ok").eventId());
          }
        });
        threads.add(thread);
        thread.start();
      }
      for (Thread thread : threads) {
        thread.join();
      }
    }

    List<AuditRecord> records = all();
    assertThat(records).hasSize(400);
    assertThat(records.stream().filter(AuditRecord::pending).map(r -> r.event().id())
        .collect(Collectors.toSet())).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(AuditVerifier.verify(database)).isEqualTo(VerifyReport.intact(400));
  }
}
