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
import dev.sentinel.api.Clock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
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
import org.junit.jupiter.api.io.TempDir;
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

  /** Where the checkpoint tests keep their files. */
  @TempDir Path checkpointDir;

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
  void verify_chainOfSeveralChunks_isIntact_andTamperingInALaterChunkIsFound() throws Exception {
    int n = AuditVerifier.CHUNK * 2 + 7;
    writeEvents(n);
    assertThat(verify()).isEqualTo(VerifyReport.intact(n));

    long seq = AuditVerifier.CHUNK * 2 + 3;
    sql("UPDATE sentinel_audit SET event = replace(event, 'alice', 'mallory') WHERE seq = " + seq);

    VerifyReport report = verify();
    assertThat(report.firstBadSeq()).hasValue(seq);
    assertThat(report.problem()).contains("record " + seq + " was edited");
  }

  @Test
  void query_newestFirstWithALimit_acrossChunks() throws Exception {
    writeEvents(AuditQuery.CHUNK + 5);

    List<String> ids = ids(AuditQuery.builder().order(AuditQuery.Order.NEWEST_FIRST)
        .limit(AuditQuery.CHUNK + 2));

    assertThat(ids).hasSize(AuditQuery.CHUNK + 2);
    assertThat(ids.get(0)).isEqualTo("e" + (AuditQuery.CHUNK + 5));
    assertThat(ids.get(ids.size() - 1)).isEqualTo("e4");
  }

  @Test
  void verify_missingChainRow_isReported() throws Exception {
    writeEvents(2);
    sql("DELETE FROM sentinel_audit_chain");

    assertThat(verify().ok()).isFalse();
    assertThat(verify().problem()).contains("chain row");
  }

  // ---- anchors: the head, expected heads and signed checkpoints ----

  /** Deletes the records after {@code seq} and moves the chain row's head back to it. */
  void truncateTo(long seq) {
    sql("DELETE FROM sentinel_audit WHERE seq > " + seq);
    sql("UPDATE sentinel_audit_chain SET head_seq = " + seq + ", head_hash = (SELECT hash FROM"
        + " sentinel_audit WHERE seq = " + seq + ") WHERE name = 'audit'");
  }

  /**
   * Edits record {@code seq}'s event (its path argument) and recomputes every hash from there
   * to the head, and the chain row: what someone with write access and the hash definition does.
   */
  void rewriteFrom(long seq) {
    database.jdbi().useTransaction(h -> {
      h.execute("UPDATE sentinel_audit SET event = replace(event, '\"/w/', '\"/w/rewritten-')"
          + " WHERE seq = " + seq);
      String prev = h.createQuery("SELECT prev_hash FROM sentinel_audit WHERE seq = :s")
          .bind("s", seq).mapTo(String.class).one();
      List<Object[]> rows = h.createQuery(
              "SELECT seq, event FROM sentinel_audit WHERE seq >= :s ORDER BY seq")
          .bind("s", seq)
          .map((rs, ctx) -> new Object[] {rs.getLong(1), rs.getString(2)})
          .list();
      for (Object[] row : rows) {
        String hash = AuditChain.hash(prev, (Long) row[0],
            ((String) row[1]).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        h.createUpdate("UPDATE sentinel_audit SET prev_hash = :p, hash = :h WHERE seq = :s")
            .bind("p", prev).bind("h", hash).bind("s", row[0]).execute();
        prev = hash;
      }
      h.createUpdate("UPDATE sentinel_audit_chain SET head_hash = :h WHERE name = 'audit'")
          .bind("h", prev).execute();
    });
  }

  @Test
  void verify_newestRecordsDeletedAndHeadRowRewritten_isNotCaughtByTheChainAlone() throws Exception {
    writeEvents(10);
    truncateTo(7);

    // The gap that anchors close: the shorter chain is consistent in itself.
    assertThat(verify()).isEqualTo(VerifyReport.intact(7));
  }

  @Test
  void head_isTheLastRecord_andParsesBackFromItsText() throws Exception {
    writeEvents(10);
    String hash10 = database.jdbi().withHandle(h -> h.createQuery(
        "SELECT hash FROM sentinel_audit WHERE seq = 10").mapTo(String.class).one());

    AuditHead head = AuditVerifier.head(database);

    assertThat(head.seq()).isEqualTo(10);
    assertThat(head.hash()).isEqualTo(hash10);
    assertThat(head.time()).isEqualTo(T0.plusSeconds(10));
    assertThat(head.toString()).isEqualTo("10:" + hash10 + "@" + T0.plusSeconds(10));
    assertThat(AuditHead.parse(" " + head + "\n")).isEqualTo(head);
    assertThat(AuditHead.parse("10:" + hash10)).isEqualTo(new AuditHead(10, hash10, null));
  }

  @Test
  void head_ofAnEmptyStore_isTheGenesis_andVerifiesAsExpected() {
    AuditHead head = AuditVerifier.head(database);

    assertThat(head).isEqualTo(new AuditHead(0, AuditChain.GENESIS, null));
    assertThat(AuditVerifier.verify(database, AuditAnchors.NONE.expectHead(head)).ok()).isTrue();
  }

  @Test
  void verify_expectHead_truncatedChain_failsSayingWhereTheChainNowEnds() throws Exception {
    writeEvents(10);
    AuditHead head = AuditVerifier.head(database);
    truncateTo(7);

    VerifyReport report = AuditVerifier.verify(database, AuditAnchors.NONE.expectHead(head));

    assertThat(report.ok()).isFalse();
    assertThat(report.firstBadSeq()).hasValue(8);
    assertThat(report.problem())
        .contains("the expected head " + head)
        .contains("the chain now ends at seq 7")
        .contains("were deleted");
  }

  @Test
  void verify_expectHead_chainGrownPastIt_stillVerifies() throws Exception {
    writeEvents(10);
    AuditHead head = AuditVerifier.head(database);
    sink.write(List.of(event("later-1"), event("later-2")));

    VerifyReport report = AuditVerifier.verify(database, AuditAnchors.NONE.expectHead(head));

    assertThat(report.ok()).as(report.problem()).isTrue();
    assertThat(report.rowsChecked()).isEqualTo(12);
    assertThat(report.anchorsChecked()).isEqualTo(1);
  }

  @Test
  void verify_expectHead_chainRewrittenWithEveryHashRecomputed_fails() throws Exception {
    writeEvents(10);
    AuditHead head = AuditVerifier.head(database);
    rewriteFrom(5);
    assertThat(verify().ok()).as("consistent in itself").isTrue();

    VerifyReport report = AuditVerifier.verify(database, AuditAnchors.NONE.expectHead(head));

    assertThat(report.firstBadSeq()).hasValue(10);
    assertThat(report.problem()).contains("does not match the chain").contains("rewritten");
  }

  @Test
  void verify_expectHead_withAWrongTime_fails() throws Exception {
    writeEvents(10);
    AuditHead head = AuditVerifier.head(database);
    AuditHead otherTime = new AuditHead(head.seq(), head.hash(), head.time().plusSeconds(1));

    VerifyReport report = AuditVerifier.verify(database, AuditAnchors.NONE.expectHead(otherTime));

    assertThat(report.firstBadSeq()).hasValue(10);
    assertThat(report.problem()).contains("has its hash but the time");
  }

  @Test
  void verify_expectHead_purgedByRetention_failsAsUncheckable() throws Exception {
    writeEvents(10);
    AuditHead early = new AuditHead(3, hashOf(3), null);
    AuditRetention.purge(database, T0.plusSeconds(6));

    VerifyReport report = AuditVerifier.verify(database, AuditAnchors.NONE.expectHead(early));

    assertThat(report.firstBadSeq()).hasValue(3);
    assertThat(report.problem()).contains("lies before the chain's base (seq 5)");
  }

  String hashOf(long seq) {
    return database.jdbi().withHandle(h -> h.createQuery(
        "SELECT hash FROM sentinel_audit WHERE seq = :s").bind("s", seq)
        .mapTo(String.class).one());
  }

  /** A sink on this database taking checkpoints every {@code records} records. */
  JdbcAuditSink checkpointingSink(KeyPair keys, Path file, ManualClock clock, long records) {
    return JdbcAuditSink.builder(database).clock(clock)
        .checkpoints(keys.getPrivate(), file, Duration.ofHours(1), records).build();
  }

  static KeyPair ed25519() throws Exception {
    return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
  }

  @Test
  void checkpoints_takenAfterTheFirstBatch_everyNRecords_everyInterval_andAtClose()
      throws Exception {
    KeyPair keys = ed25519();
    Path file = checkpointDir.resolve("checkpoints.jsonl");
    ManualClock clock = new ManualClock(T0);
    JdbcAuditSink signing = checkpointingSink(keys, file, clock, 10);

    signing.write(batch("a", 3)); // the first batch: checkpoint at 3
    signing.write(batch("b", 4)); // 7: fewer than 10 since the last
    signing.write(batch("c", 6)); // 13: 10 since 3
    clock.advance(Duration.ofMinutes(59));
    signing.write(batch("d", 1)); // 14: neither
    clock.advance(Duration.ofMinutes(1));
    signing.write(batch("e", 1)); // 15: an hour since the last
    signing.write(batch("f", 2)); // 17
    signing.close(); // the head moved: checkpoint at 17

    List<AuditCheckpoint> taken = AuditCheckpoints.read(file);
    assertThat(taken).extracting(AuditCheckpoint::seq).containsExactly(3L, 13L, 15L, 17L);
    assertThat(taken).allMatch(c -> c.signedBy(keys.getPublic()));
    assertThat(taken.get(2).time()).isEqualTo(T0.plus(Duration.ofHours(1)));
    assertThat(taken.get(3).hash()).isEqualTo(AuditVerifier.head(database).hash());
    VerifyReport report = AuditVerifier.verify(database,
        AuditAnchors.NONE.checkpoints(taken, List.of(keys.getPublic())));
    assertThat(report.ok()).as(report.problem()).isTrue();
    assertThat(report.anchorsChecked()).isEqualTo(4);
  }

  @Test
  void checkpoints_truncationBehindTheNewestCheckpoint_isDetected() throws Exception {
    KeyPair keys = ed25519();
    Path file = checkpointDir.resolve("checkpoints.jsonl");
    JdbcAuditSink signing = checkpointingSink(keys, file, new ManualClock(T0), 5);
    signing.write(batch("a", 6));
    signing.write(batch("b", 6)); // checkpoints at 6 and 12
    signing.close();
    truncateTo(9);
    assertThat(verify().ok()).as("the chain alone").isTrue();

    VerifyReport report = AuditVerifier.verify(database, AuditAnchors.NONE.checkpoints(
        AuditCheckpoints.read(file), List.of(keys.getPublic())));

    assertThat(report.ok()).isFalse();
    assertThat(report.firstBadSeq()).hasValue(10);
    assertThat(report.problem())
        .startsWith("the checkpoint at seq 12 hash sha256:")
        .contains("the chain now ends at seq 9");
  }

  @Test
  void checkpoints_rewriteBeforeACheckpoint_isDetected() throws Exception {
    KeyPair keys = ed25519();
    Path file = checkpointDir.resolve("checkpoints.jsonl");
    JdbcAuditSink signing = checkpointingSink(keys, file, new ManualClock(T0), 0);
    signing.write(batch("a", 6)); // checkpoint at 6
    signing.close();
    rewriteFrom(2);

    VerifyReport report = AuditVerifier.verify(database, AuditAnchors.NONE.checkpoints(
        AuditCheckpoints.read(file), List.of(keys.getPublic())));

    assertThat(report.firstBadSeq()).hasValue(6);
    assertThat(report.problem()).contains("checkpoint at seq 6").contains("rewritten");
  }

  @Test
  void checkpoints_signedByAnotherKey_areRefused() throws Exception {
    KeyPair keys = ed25519();
    KeyPair attacker = ed25519();
    writeEvents(4);
    AuditCheckpoint forged = AuditCheckpoints.take(database, attacker.getPrivate(), Clock.system());

    assertThatThrownBy(() -> AuditAnchors.NONE.checkpoints(List.of(forged),
            List.of(keys.getPublic())))
        .isInstanceOf(AuditCheckpointException.class)
        .hasMessageContaining("checkpoint at seq 4")
        .hasMessageContaining("is not signed by a trusted key");
  }

  @Test
  void checkpoints_beforeTheBaseAreSkipped_butTheNewestMustStillBeInTheChain() throws Exception {
    KeyPair keys = ed25519();
    writeEvents(10);
    AuditCheckpoint at3 = AuditCheckpoint.sign(new AuditHead(3, hashOf(3), null), T0,
        keys.getPrivate());
    AuditCheckpoint at10 = AuditCheckpoint.sign(new AuditHead(10, hashOf(10), null), T0,
        keys.getPrivate());
    AuditRetention.purge(database, T0.plusSeconds(6)); // base at 5

    VerifyReport both = AuditVerifier.verify(database,
        AuditAnchors.NONE.checkpoints(List.of(at3, at10), List.of(keys.getPublic())));
    assertThat(both.ok()).as(both.problem()).isTrue();
    assertThat(both.anchorsChecked()).isEqualTo(1);
    assertThat(both.anchorsBeforeBase()).isEqualTo(1);

    VerifyReport onlyOld = AuditVerifier.verify(database,
        AuditAnchors.NONE.checkpoints(List.of(at3), List.of(keys.getPublic())));
    assertThat(onlyOld.ok()).isFalse();
    assertThat(onlyOld.problem()).contains("even the newest checkpoint");
  }

  @Test
  void checkpoints_fileUnwritable_neverFailsAWrite() throws Exception {
    KeyPair keys = ed25519();
    Path notAFile = Files.createDirectory(checkpointDir.resolve("a-directory"));
    JdbcAuditSink signing = checkpointingSink(keys, notAFile, new ManualClock(T0), 1);

    signing.write(batch("a", 2));
    signing.close();

    assertThat(verify()).isEqualTo(VerifyReport.intact(2));
  }

  static List<AuditEvent> batch(String prefix, int n) {
    List<AuditEvent> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(event(prefix + i, i, "alice", "fs__read", Outcome.ALLOWED));
    }
    return out;
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
