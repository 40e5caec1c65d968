package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.AuditSinkContract;
import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * The {@link AuditSink} contract for {@link JdbcAuditSink}, and what the store promises beyond
 * it: one hash chain that {@link AuditVerifier} proves intact or breaks at exactly the tampered
 * record, atomic batches, several writers, retention and queries. Each dialect's test extends
 * this and supplies a fresh, empty database per test.
 */
abstract class JdbcAuditSinkContract extends AuditSinkContract {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  protected Database database;
  private final List<Database> others = new ArrayList<>();

  /** A freshly created, empty database; the contract closes it after each test. */
  protected abstract Database openDatabase();

  /** Another open {@link Database} on the same database as {@link #database}: another process. */
  protected abstract Database openSameDatabase();

  /** Makes inserting an audit row with id {@code poison} fail inside the database. */
  protected abstract void poisonId(Handle h);

  /** Lifts {@link #poisonId}. */
  protected abstract void curePoison(Handle h);

  @Override
  protected AuditSink newSink() {
    database = openDatabase();
    return JdbcAuditSink.create(database);
  }

  @Override
  protected List<AuditEvent> stored() {
    return records(AuditQuery.builder().includeIntents(true).build()).stream()
        .map(AuditRecord::event)
        .collect(Collectors.toList());
  }

  @Override
  protected boolean expectedDurable() {
    return true;
  }

  @AfterEach
  void closeDatabases() {
    for (Database other : others) {
      other.close();
    }
    if (database != null) {
      database.close();
    }
  }

  Database another() {
    Database db = openSameDatabase();
    others.add(db);
    return db;
  }

  List<AuditRecord> records(AuditQuery query) {
    List<AuditRecord> out = new ArrayList<>();
    query.forEach(database, out::add);
    return out;
  }

  /** An event at T0 plus the given seconds, by a principal, for a tool, with rules. */
  static AuditEvent event(String id, long second, String principal, String tool, Outcome outcome,
      String... rules) {
    var args = JsonNodeFactory.instance.objectNode().put("path", "/w/" + id);
    AuditEvent.Builder b =
        AuditEvent.builder()
            .id(id)
            .time(T0.plusSeconds(second))
            .instance("gw-1")
            .principal(Principal.of(principal, "dev"))
            .request(Request.toolCall("fs", tool, args))
            .arguments(args, CanonicalJson.sha256(args))
            .outcome(outcome);
    if (rules.length > 0) {
      b.decision(Decision.allow(List.of(rules), "r"));
    }
    return b.build();
  }

  void writeEvents(int n) throws Exception {
    List<AuditEvent> batch = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      batch.add(event("e" + i, i, "alice", "fs__read", Outcome.ALLOWED));
    }
    sink.write(batch.subList(0, n / 2));
    sink.write(batch.subList(n / 2, n));
  }

  void sql(String statement) {
    database.jdbi().useHandle(h -> h.execute(statement));
  }

  VerifyReport verify() {
    return AuditVerifier.verify(database);
  }

  // ---- the chain ----

  @Test
  void verify_emptyStore_isIntact() {
    assertThat(verify()).isEqualTo(VerifyReport.intact(0));
  }

  @Test
  void verify_untouchedChain_isIntact() throws Exception {
    writeEvents(10);

    VerifyReport report = verify();

    assertThat(report.ok()).as(report.problem()).isTrue();
    assertThat(report.rowsChecked()).isEqualTo(10);
  }

  @Test
  void write_assignsConsecutiveSeqsAndLinksHashes() throws Exception {
    writeEvents(4);

    List<String[]> rows =
        database.jdbi().withHandle(h -> h.createQuery(
                "SELECT seq, prev_hash, hash, event FROM sentinel_audit ORDER BY seq")
            .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3),
                rs.getString(4)})
            .list());
    assertThat(rows).extracting(r -> r[0]).containsExactly("1", "2", "3", "4");
    assertThat(rows.get(0)[1]).isEqualTo(AuditChain.GENESIS);
    for (int i = 0; i < rows.size(); i++) {
      String[] r = rows.get(i);
      assertThat(r[2]).isEqualTo(AuditChain.hash(r[1], i + 1,
          r[3].getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      if (i > 0) {
        assertThat(r[1]).isEqualTo(rows.get(i - 1)[2]);
      }
    }
  }

  @Test
  void verify_editedEvent_failsAtThatRecord() throws Exception {
    writeEvents(10);
    sql("UPDATE sentinel_audit SET event = replace(event, '/w/e6', '/w/xx') WHERE seq = 6");

    VerifyReport report = verify();

    assertThat(report.firstBadSeq()).hasValue(6);
    assertThat(report.problem()).contains("record 6 was edited");
  }

  @Test
  void verify_editedFilterColumn_failsAtThatRecord() throws Exception {
    writeEvents(10);
    sql("UPDATE sentinel_audit SET principal = 'mallory' WHERE seq = 3");

    VerifyReport report = verify();

    assertThat(report.firstBadSeq()).hasValue(3);
    assertThat(report.problem()).contains("principal column");
  }

  @Test
  void verify_editedAndRehashed_failsAtTheNextRecord() throws Exception {
    writeEvents(10);
    String prev = database.jdbi().withHandle(h -> h.createQuery(
        "SELECT prev_hash FROM sentinel_audit WHERE seq = 4").mapTo(String.class).one());
    String event = database.jdbi().withHandle(h -> h.createQuery(
        "SELECT event FROM sentinel_audit WHERE seq = 4").mapTo(String.class).one())
        .replace("/w/e4", "/w/xx");
    String hash = AuditChain.hash(prev, 4, event.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    database.jdbi().useHandle(h -> h.createUpdate(
            "UPDATE sentinel_audit SET event = :event, hash = :hash WHERE seq = 4")
        .bind("event", event).bind("hash", hash).execute());

    VerifyReport report = verify();

    assertThat(report.firstBadSeq()).hasValue(5);
    assertThat(report.problem()).contains("does not continue from record 4");
  }

  @Test
  void verify_deletedRecord_namesIt() throws Exception {
    writeEvents(10);
    sql("DELETE FROM sentinel_audit WHERE seq = 7");

    VerifyReport report = verify();

    assertThat(report.firstBadSeq()).hasValue(7);
    assertThat(report.problem()).isEqualTo("record 7 is missing: it was deleted");
    assertThat(report.rowsChecked()).isEqualTo(7); // 1..6, then 8
  }

  @Test
  void verify_deletedRange_namesTheFirst() throws Exception {
    writeEvents(10);
    sql("DELETE FROM sentinel_audit WHERE seq BETWEEN 3 AND 5");

    assertThat(verify().firstBadSeq()).hasValue(3);
    assertThat(verify().problem()).contains("records 3 to 5 are missing");
  }

  @Test
  void verify_deletedFirstRecord_namesIt() throws Exception {
    writeEvents(10);
    sql("DELETE FROM sentinel_audit WHERE seq = 1");

    assertThat(verify().firstBadSeq()).hasValue(1);
  }

  @Test
  void verify_deletedLastRecords_namesTheFirstMissing() throws Exception {
    writeEvents(10);
    sql("DELETE FROM sentinel_audit WHERE seq >= 9");

    VerifyReport report = verify();

    assertThat(report.firstBadSeq()).hasValue(9);
    assertThat(report.problem()).contains("records 9 to 10 are missing");
  }

  @Test
  void verify_insertedAfterTheHead_namesIt() throws Exception {
    writeEvents(10);
    sql("INSERT INTO sentinel_audit (seq, id, time, outcome, event, prev_hash, hash)"
        + " SELECT 11, 'forged', time, outcome, event, hash, hash FROM sentinel_audit WHERE seq = 10");

    VerifyReport report = verify();

    assertThat(report.firstBadSeq()).hasValue(11);
    assertThat(report.problem()).contains("beyond the chain's head");
  }

  @Test
  void verify_insertedInTheMiddleWithAWrongHash_namesIt() throws Exception {
    writeEvents(10);
    shiftUpFrom(6);
    sql("INSERT INTO sentinel_audit (seq, id, time, outcome, event, prev_hash, hash)"
        + " SELECT 6, 'forged', time, outcome, event, hash, 'sha256:beef' FROM sentinel_audit"
        + " WHERE seq = 5");
    sql("UPDATE sentinel_audit_chain SET head_seq = 11");

    VerifyReport report = verify();

    assertThat(report.firstBadSeq()).hasValue(6);
  }

  @Test
  void verify_insertedInTheMiddleWithAValidHash_namesIt() throws Exception {
    writeEvents(10);
    shiftUpFrom(6);
    String prev = database.jdbi().withHandle(h -> h.createQuery(
        "SELECT hash FROM sentinel_audit WHERE seq = 5").mapTo(String.class).one());
    AuditEvent forged = event("forged", 5, "alice", "fs__read", Outcome.ALLOWED);
    byte[] content = AuditChain.content(forged);
    String text = new String(content, java.nio.charset.StandardCharsets.UTF_8);
    database.jdbi().useHandle(h -> h.createUpdate(
            "INSERT INTO sentinel_audit (seq, id, time, principal, method, backend, tool, outcome,"
                + " instance, event, prev_hash, hash) VALUES (6, 'forged', :time, 'alice',"
                + " 'tools/call', 'fs', 'fs__read', 'ALLOWED', 'gw-1', :event, :prev, :hash)")
        .bind("time", Micros.of(forged.time()))
        .bind("event", text)
        .bind("prev", prev)
        .bind("hash", AuditChain.hash(prev, 6, content))
        .execute());
    sql("UPDATE sentinel_audit_chain SET head_seq = 11");

    VerifyReport report = verify();

    assertThat(report.firstBadSeq()).hasValue(6);
    assertThat(report.problem()).contains("record 6 was inserted");
  }

  @Test
  void verify_reorderedRecords_failsAtTheFirstMoved() throws Exception {
    writeEvents(10);
    // Swap records 4 and 5 by their sequence numbers.
    sql("UPDATE sentinel_audit SET seq = 1000 WHERE seq = 4");
    sql("UPDATE sentinel_audit SET seq = 4 WHERE seq = 5");
    sql("UPDATE sentinel_audit SET seq = 5 WHERE seq = 1000");

    VerifyReport report = verify();

    assertThat(report.firstBadSeq()).hasValue(4);
    assertThat(report.problem()).contains("does not continue from record 3");
  }

  @Test
  void verify_missingChainRow_isReported() throws Exception {
    writeEvents(2);
    sql("DELETE FROM sentinel_audit_chain");

    assertThat(verify().ok()).isFalse();
    assertThat(verify().problem()).contains("chain row");
  }

  private void shiftUpFrom(long seq) {
    // Two steps, so that no intermediate seq collides with the primary key.
    sql("UPDATE sentinel_audit SET seq = seq + 100000 WHERE seq >= " + seq);
    sql("UPDATE sentinel_audit SET seq = seq - 100000 + 1 WHERE seq >= 100000");
  }

  // ---- atomic batches, failures ----

  @Test
  void write_failingBatch_leavesNothingAndTheRetrySucceeds() throws Exception {
    sink.write(List.of(event("a"), event("b")));
    database.jdbi().useHandle(this::poisonId);
    List<AuditEvent> batch = List.of(event("c"), event("poison"), event("d"));

    assertThatThrownBy(() -> sink.write(batch))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("Cannot append 3 audit events in");
    assertThat(stored()).extracting(AuditEvent::id).containsExactly("a", "b");
    assertThat(verify().ok()).isTrue();

    database.jdbi().useHandle(this::curePoison);
    sink.write(batch);

    assertThat(stored()).extracting(AuditEvent::id).containsExactly("a", "b", "c", "poison", "d");
    assertThat(verify()).isEqualTo(VerifyReport.intact(5));
  }

  @Test
  void write_afterDatabaseClosed_fails() throws Exception {
    database.close();

    assertThatThrownBy(() -> sink.write(List.of(event("a"))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  // ---- several writers ----

  @Test
  void write_concurrentWritersOnTwoConnections_formOneLinearChain() throws Exception {
    JdbcAuditSink second = JdbcAuditSink.create(another());
    List<JdbcAuditSink> sinks = List.of((JdbcAuditSink) sink, second);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        JdbcAuditSink target = sinks.get(w % 2);
        int writer = w;
        writers.add(pool.submit(() -> {
          for (int b = 0; b < 25; b++) {
            List<AuditEvent> batch = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
              batch.add(event("w" + writer + "-" + b + "-" + i));
            }
            target.write(batch);
          }
          return null;
        }));
      }
      for (Future<?> writer : writers) {
        writer.get();
      }
    } finally {
      pool.shutdownNow();
      second.close();
    }

    assertThat(verify()).isEqualTo(VerifyReport.intact(800));
    List<Long> seqs = records(AuditQuery.builder().includeIntents(true).build()).stream()
        .map(AuditRecord::seq).collect(Collectors.toList());
    assertThat(seqs).containsExactlyElementsOf(
        LongStream.rangeClosed(1, 800).boxed().collect(Collectors.toList()));
  }

  // ---- retention ----

  @Test
  void purge_deletesOldRecords_andTheRestStillVerifies() throws Exception {
    writeEvents(10); // e_i at T0 + i s

    long deleted = AuditRetention.purge(database, T0.plusSeconds(5));

    assertThat(deleted).isEqualTo(4);
    assertThat(stored()).extracting(AuditEvent::id)
        .containsExactly("e5", "e6", "e7", "e8", "e9", "e10");
    assertThat(verify()).isEqualTo(VerifyReport.intact(6));

    sink.write(List.of(event("e11", 11, "alice", "fs__read", Outcome.ALLOWED)));
    assertThat(verify()).isEqualTo(VerifyReport.intact(7));
  }

  @Test
  void purge_thenTampering_isStillDetected() throws Exception {
    writeEvents(10);
    AuditRetention.purge(database, T0.plusSeconds(5));

    sql("UPDATE sentinel_audit SET event = replace(event, '/w/e7', '/w/xx') WHERE seq = 7");
    assertThat(verify().firstBadSeq()).hasValue(7);

    sql("DELETE FROM sentinel_audit WHERE seq = 5");
    assertThat(verify().firstBadSeq()).hasValue(5);
  }

  @Test
  void purge_keepsNewerRecordsAndWhatFollowsThem() throws Exception {
    // A long call's final record has an old arrival time but comes after newer records.
    sink.write(List.of(
        event("a", 1, "alice", "t", Outcome.ALLOWED),
        event("b", 10, "alice", "t", Outcome.ALLOWED),
        event("c", 2, "alice", "t", Outcome.ALLOWED)));

    assertThat(AuditRetention.purge(database, T0.plusSeconds(5))).isEqualTo(1);

    assertThat(stored()).extracting(AuditEvent::id).containsExactly("b", "c");
    assertThat(verify().ok()).isTrue();
  }

  @Test
  void purge_everything_leavesAnEmptyChainThatContinues() throws Exception {
    writeEvents(4);

    assertThat(AuditRetention.purge(database, T0.plusSeconds(100))).isEqualTo(4);
    assertThat(AuditRetention.purge(database, T0.plusSeconds(100))).isZero();
    assertThat(verify()).isEqualTo(VerifyReport.intact(0));

    sink.write(List.of(event("next")));
    assertThat(records(AuditQuery.builder().build())).extracting(AuditRecord::seq)
        .containsExactly(5L);
    assertThat(verify()).isEqualTo(VerifyReport.intact(1));
  }

  @Test
  void schedule_purgesByTheClock() throws Exception {
    writeEvents(10);
    ManualClock clock = new ManualClock(T0.plusSeconds(3).plus(Duration.ofDays(30)));
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try {
      ScheduledFuture<?> task = AuditRetention.schedule(
          database, Duration.ofDays(30), Duration.ofHours(1), executor, clock);

      Conditions.await("the first purge", () -> stored().size() == 8);
      task.cancel(false);
    } finally {
      executor.shutdownNow();
    }
    assertThat(verify()).isEqualTo(VerifyReport.intact(8));
  }

  @Test
  void schedule_nonPositiveRetention_isRejected() {
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try {
      assertThatThrownBy(() -> AuditRetention.schedule(database, Duration.ZERO, executor))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("retention must be a positive duration");
    } finally {
      executor.shutdownNow();
    }
  }

  // ---- queries ----

  @Test
  void query_filtersByPrincipalToolOutcomeRuleAndTime() throws Exception {
    sink.write(List.of(
        event("1", 1, "alice", "fs__read", Outcome.ALLOWED, "readers"),
        event("2", 2, "bob", "fs__read", Outcome.DENIED, "no-bob", "also"),
        event("3", 3, "alice", "fs__write", Outcome.DENIED, "first", "no-bob"),
        event("4", 4, "alice", "fs__read", Outcome.ALLOWED, "readers")));

    assertThat(ids(AuditQuery.builder().principal("alice"))).containsExactly("1", "3", "4");
    assertThat(ids(AuditQuery.builder().tool("fs__read"))).containsExactly("1", "2", "4");
    assertThat(ids(AuditQuery.builder().outcome(Outcome.DENIED))).containsExactly("2", "3");
    assertThat(ids(AuditQuery.builder().rule("no-bob"))).containsExactly("2", "3");
    assertThat(ids(AuditQuery.builder().rule("no-bo"))).isEmpty();
    assertThat(ids(AuditQuery.builder().from(T0.plusSeconds(2)).to(T0.plusSeconds(4))))
        .containsExactly("2", "3");
    assertThat(ids(AuditQuery.builder().principal("alice").outcome(Outcome.ALLOWED)
        .order(AuditQuery.Order.NEWEST_FIRST))).containsExactly("4", "1");
    assertThat(ids(AuditQuery.builder().limit(2).order(AuditQuery.Order.NEWEST_FIRST)))
        .containsExactly("4", "3");
    assertThat(ids(AuditQuery.builder().rule("no-bob").limit(1))).containsExactly("2");
  }

  @Test
  void query_showsTheFinalRecordForAnId_andIntentsWithoutOne() throws Exception {
    sink.write(List.of(
        withOutcome(event("done", 1, "alice", "t", Outcome.ALLOWED), Outcome.PENDING),
        withOutcome(event("died", 2, "alice", "t", Outcome.ALLOWED), Outcome.PENDING),
        event("done", 1, "alice", "t", Outcome.ALLOWED)));

    List<AuditRecord> shown = records(AuditQuery.builder().build());
    assertThat(shown).extracting(r -> r.event().id()).containsExactly("died", "done");
    assertThat(shown).extracting(AuditRecord::pending).containsExactly(true, false);
    assertThat(ids(AuditQuery.builder().outcome(Outcome.PENDING))).containsExactly("died");
    assertThat(ids(AuditQuery.builder().includeIntents(true)))
        .containsExactly("done", "died", "done");
  }

  @Test
  void query_streamsWithoutLoadingEverything() throws Exception {
    writeEvents(200);

    long firstTen = AuditQuery.builder().build()
        .stream(database, s -> s.limit(10).count());

    assertThat(firstTen).isEqualTo(10);
  }

  @Test
  void query_emptyTimeRange_isRejected() {
    assertThatThrownBy(() -> AuditQuery.builder().from(T0).to(T0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("time range is empty");
  }

  List<String> ids(AuditQuery.Builder query) {
    return records(query.build()).stream().map(r -> r.event().id()).collect(Collectors.toList());
  }
}
