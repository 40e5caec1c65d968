package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * The audit table's monthly partitions on a real PostgreSQL (schema 5): the upgrade of a schema 3
 * database, partitions made ahead and the default partition's rows moved, retention that drops
 * whole months, and the chain, verification, anchors and queries across partitions. The
 * database's clock (which names the months made ahead) stands at 2026-01-01.
 */
class PostgresAuditPartitionTest {
  static final Instant JAN = Instant.parse("2026-01-01T00:00:00Z");
  static final Instant FEB = Instant.parse("2026-02-01T00:00:00Z");
  static final Instant MAR = Instant.parse("2026-03-01T00:00:00Z");
  static final Instant APR = Instant.parse("2026-04-01T00:00:00Z");

  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  private final ManualClock clock = new ManualClock(JAN);
  private final List<Database> opened = new ArrayList<>();
  private String url;
  private Database database;
  private JdbcAuditSink sink;

  @TempDir Path dir;

  @AfterEach
  void close() {
    if (sink != null) {
      sink.close();
    }
    for (Database db : opened) {
      db.close();
    }
  }

  private Database open() {
    if (url == null) {
      url = postgres.newDatabase();
    }
    Database db = Database.builder(url).clock(clock).open();
    opened.add(db);
    return db;
  }

  private void openStore() {
    database = open();
    sink = JdbcAuditSink.builder(database).clock(clock).build();
  }

  // ---- the schema ----

  @Test
  void open_newDatabase_partitionsThisMonthAndTwoAhead_andADefault() {
    openStore();

    assertThat(partitions()).containsExactly(
        "sentinel_audit_y2026m01 [" + micros(JAN) + ", " + micros(FEB) + ")",
        "sentinel_audit_y2026m02 [" + micros(FEB) + ", " + micros(MAR) + ")",
        "sentinel_audit_y2026m03 [" + micros(MAR) + ", " + micros(APR) + ")",
        "sentinel_audit_default DEFAULT");
  }

  @Test
  void migrate_schema3DatabaseWithRecords_attachesTheOldTable_andTheChainStillVerifies()
      throws Exception {
    url = postgres.newDatabase();
    List<AuditEvent> old = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      old.add(event("old" + i, Instant.parse("2025-11-20T00:00:00Z").plus(Duration.ofDays(i))));
    }
    writeSchema3(url, old); // 2025-11-20 to 2025-12-19

    openStore();

    assertThat(database.schemaVersion()).isEqualTo(Database.latestSchemaVersion());
    assertThat(partitions()).containsExactly(
        "sentinel_audit_legacy [MINVALUE, " + micros(JAN) + ")",
        "sentinel_audit_y2026m01 [" + micros(JAN) + ", " + micros(FEB) + ")",
        "sentinel_audit_y2026m02 [" + micros(FEB) + ", " + micros(MAR) + ")",
        "sentinel_audit_y2026m03 [" + micros(MAR) + ", " + micros(APR) + ")",
        "sentinel_audit_default DEFAULT");
    assertIntact(30);
    assertThat(AuditVerifier.head(database).seq()).isEqualTo(30);

    sink.write(List.of(event("jan", JAN.plusSeconds(5)), event("late", Instant.parse(
        "2025-12-31T23:00:00Z")), event("feb", FEB.plusSeconds(5))));
    assertIntact(33);
    assertThat(count("sentinel_audit_legacy")).isEqualTo(31);
    assertThat(ids(AuditQuery.builder().from(JAN).to(MAR).build())).containsExactly("jan", "feb");

    // The legacy table ends at 2026-01-01 but holds "late" (32), after the cut (30): row-wise.
    assertThat(AuditRetention.purge(database, JAN.plusSeconds(1), clock)).isEqualTo(30);
    assertThat(count("sentinel_audit_legacy")).isEqualTo(1);
    assertIntact(3);
    // Now it holds nothing after the cut (32): dropped whole, as January is.
    assertThat(AuditRetention.purge(database, FEB, clock)).isEqualTo(2);
    assertThat(partitions()).noneMatch(p -> p.startsWith("sentinel_audit_legacy"))
        .noneMatch(p -> p.startsWith("sentinel_audit_y2026m01"));
    assertIntact(1);
  }

  @Test
  void write_timeNoPartitionCovers_landsInTheDefault_andHousekeepingMovesIt() throws Exception {
    openStore();
    Instant future = Instant.parse("2027-06-15T00:00:00Z");
    Instant past = Instant.parse("2020-02-29T12:00:00Z");

    sink.write(List.of(event("a", JAN.plusSeconds(1)), event("future", future),
        event("past", past), event("b", JAN.plusSeconds(2))));

    assertThat(count("sentinel_audit_default")).isEqualTo(2);
    assertThat(AuditPartitions.maintain(database, clock)).isEqualTo(2);
    assertThat(count("sentinel_audit_default")).isZero();
    assertThat(count("sentinel_audit_y2027m06")).isEqualTo(1);
    assertThat(count("sentinel_audit_y2020m02")).isEqualTo(1);
    assertThat(AuditPartitions.maintain(database, clock)).isZero();
    assertIntact(4);
    assertThat(ids(AuditQuery.builder().build())).containsExactly("a", "future", "past", "b");
  }

  @Test
  void sweep_aMonthLater_createsTheMonthAhead() {
    try (JdbcStores stores = JdbcStores.open(
        DatabaseSettings.of(postgres.newDatabase(), null, null), clock)) {
      database = stores.database();
      clock.advance(Duration.ofDays(40)); // 2026-02-10

      stores.sweep();

      assertThat(partitions()).contains("sentinel_audit_y2026m04 [" + micros(APR) + ", "
          + micros(Instant.parse("2026-05-01T00:00:00Z")) + ")");
      database = null;
    }
  }

  // ---- retention ----

  @Test
  void purge_dropsWholeMonthsBeforeTheCut_deletesThePartlyCoveredOneRowWise() throws Exception {
    openStore();
    writeMonths(JAN, FEB, MAR); // 10 each: seq 1-10, 11-20, 21-30

    long deleted = AuditRetention.purge(database, FEB.plus(Duration.ofDays(5)), clock);

    assertThat(deleted).isEqualTo(15); // January whole, February's first five days
    assertThat(partitions()).noneMatch(p -> p.startsWith("sentinel_audit_y2026m01"));
    assertThat(count("sentinel_audit_y2026m02")).isEqualTo(5);
    assertIntact(15);
    assertThat(AuditVerifier.head(database).seq()).isEqualTo(30);
    sink.write(List.of(event("after", MAR.plusSeconds(99))));
    assertIntact(16);
  }

  @Test
  void purge_monthHoldingALateRecord_isNotDropped_andTheLateRecordStays() throws Exception {
    openStore();
    writeMonths(JAN, FEB); // seq 1-10 in January, 11-20 in February
    // A long call that arrived in January completes now: its final record carries January.
    sink.write(List.of(event("late", JAN.plus(Duration.ofDays(30)))));

    long deleted = AuditRetention.purge(database, FEB, clock);

    // The cut is the first record at or after February (11): 1-10 go, record 21 must stay.
    assertThat(deleted).isEqualTo(10);
    assertThat(count("sentinel_audit_y2026m01")).isEqualTo(1);
    assertIntact(11);
    assertThat(ids(AuditQuery.builder().to(FEB).build())).containsExactly("late");
  }

  /**
   * Writers on two connections pools, a verifier in a loop, and purges that drop three months.
   * Dropping a partition is not isolated from a read transaction: without the verifier's second
   * look at the chain's base, this failed in 6 runs of 6 ("records 11 to 20 are missing").
   */
  @Test
  void purge_racingWritersAndVerifiers_keepsOneVerifiableChain() throws Exception {
    openStore();
    writeMonths(JAN, FEB, MAR); // 30 old records
    Database other = open(); // another gateway on the same database
    int writers = 3;
    int batches = 40;
    ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
    AtomicBoolean writing = new AtomicBoolean(true);
    List<String> problems = new CopyOnWriteArrayList<>();
    AtomicLong verifications = new AtomicLong();
    try {
      List<Future<?>> work = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        work.add(pool.submit(() -> {
          try (JdbcAuditSink own = JdbcAuditSink.builder(writer % 2 == 0 ? database : other)
              .clock(clock).build()) {
            for (int b = 0; b < batches; b++) {
              List<AuditEvent> batch = new ArrayList<>();
              for (int i = 0; i < 5; i++) {
                batch.add(event("w" + writer + "-" + b + "-" + i, APR.plusSeconds(b * 10 + i)));
              }
              own.write(batch);
            }
          }
          return null;
        }));
      }
      Future<?> verifier = pool.submit(() -> {
        while (writing.get()) {
          VerifyReport report = AuditVerifier.verify(other);
          verifications.incrementAndGet();
          if (!report.ok()) {
            problems.add(report.problem());
          }
        }
        return null;
      });
      Future<Long> purger = pool.submit(() -> {
        long purged = 0;
        for (Instant before : List.of(FEB, MAR, APR)) {
          Conditions.await("writers appended since the last purge", () -> head() > 30);
          purged += AuditRetention.purge(other, before, clock);
        }
        return purged;
      });
      for (Future<?> f : work) {
        f.get();
      }
      assertThat(purger.get()).isEqualTo(30);
      Conditions.await("a verification ran", () -> verifications.get() > 0);
      writing.set(false);
      verifier.get();
    } finally {
      pool.shutdownNow();
    }

    assertThat(problems).isEmpty();
    assertThat(partitions()).noneMatch(p -> p.matches("sentinel_audit_y2026m0[123] .*"));
    assertIntact(writers * batches * 5);
    assertThat(head()).isEqualTo(30 + writers * batches * 5);
  }

  @Test
  void purge_killedHalfway_leavesEveryPartitionAndRecord_andARetrySucceeds() throws Exception {
    openStore();
    writeMonths(JAN, FEB); // January is dropped whole, February row-wise
    String january = "sentinel_audit_y2026m01";
    long januaryOid = query("SELECT '" + january + "'::regclass::oid");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Connection blocker = DriverManager.getConnection(url)) {
      blocker.setAutoCommit(false);
      blocker.createStatement().execute("LOCK TABLE sentinel_audit_y2026m02 IN SHARE MODE");

      Future<Long> purge = pool.submit(
          () -> AuditRetention.purge(database, FEB.plus(Duration.ofDays(5)), clock));
      // The purge dropped January (it holds that table's exclusive lock, uncommitted) and now
      // waits to delete February's rows: end its connection, as a crash would.
      Conditions.await("the purge dropped January and waits for February", () ->
          query("SELECT count(*) FROM pg_locks l JOIN pg_locks w ON w.pid = l.pid"
              + " WHERE l.relation = " + januaryOid + " AND l.mode = 'AccessExclusiveLock'"
              + " AND l.granted AND NOT w.granted") > 0);
      query("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_locks"
          + " WHERE relation = " + januaryOid + " AND mode = 'AccessExclusiveLock') t");

      assertThatThrownBy(purge::get).hasCauseInstanceOf(DatabaseException.class);
      blocker.rollback();
    } finally {
      pool.shutdownNow();
    }

    assertThat(partitions()).anyMatch(p -> p.startsWith(january));
    assertThat(count("sentinel_audit")).isEqualTo(20);
    assertIntact(20);
    assertThat(AuditRetention.purge(database, FEB.plus(Duration.ofDays(5)), clock)).isEqualTo(15);
    assertIntact(5);
  }

  // ---- verification and anchors across partitions ----

  @Test
  void verify_recordEditedInAnOldPartition_isFound() throws Exception {
    openStore();
    writeMonths(JAN, FEB, MAR);

    sql("UPDATE sentinel_audit_y2026m01 SET event = replace(event, 'alice', 'mallory')"
        + " WHERE seq = 3");

    VerifyReport report = AuditVerifier.verify(database);
    assertThat(report.ok()).isFalse();
    assertThat(report.firstBadSeq()).hasValue(3);
    assertThat(report.problem()).isEqualTo("record 3 was edited: its hash does not match its"
        + " content");
  }

  @Test
  void verify_oldPartitionDroppedByHand_isFound() throws Exception {
    openStore();
    writeMonths(JAN, FEB, MAR);

    sql("DROP TABLE sentinel_audit_y2026m02");

    VerifyReport report = AuditVerifier.verify(database);
    assertThat(report.ok()).isFalse();
    assertThat(report.problem()).isEqualTo("records 11 to 20 are missing: they were deleted");
  }

  @Test
  void verify_partitionDetachedByHand_isFound() throws Exception {
    openStore();
    writeMonths(JAN, FEB, MAR);

    sql("ALTER TABLE sentinel_audit DETACH PARTITION sentinel_audit_y2026m03");

    VerifyReport report = AuditVerifier.verify(database);
    assertThat(report.ok()).isFalse();
    assertThat(report.problem()).isEqualTo("records 21 to 30 are missing: they were deleted");
  }

  @Test
  void headAndCheckpoints_acrossPartitions_verifyAfterAMonthIsDropped() throws Exception {
    openStore();
    KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Path file = dir.resolve("checkpoints.jsonl");
    writeMonths(JAN);
    AuditCheckpoints.append(file, AuditCheckpoints.take(database, keys.getPrivate(), clock));
    writeMonths(FEB, MAR);
    AuditCheckpoints.append(file, AuditCheckpoints.take(database, keys.getPrivate(), clock));

    AuditHead head = AuditVerifier.head(database);
    assertThat(head.seq()).isEqualTo(30);
    assertThat(head.time()).isEqualTo(MAR.plus(Duration.ofDays(9)).plusSeconds(10));
    AuditRetention.purge(database, FEB, clock);

    VerifyReport report = AuditVerifier.verify(database, AuditAnchors.NONE
        .expectHead(head)
        .checkpoints(AuditCheckpoints.read(file), List.of(keys.getPublic())));
    assertThat(report.ok()).as(report.problem()).isTrue();
    assertThat(report.rowsChecked()).isEqualTo(20);
    assertThat(report.anchorsChecked()).isEqualTo(3); // the head, the checkpoint at 30, at 10
  }

  // ---- queries ----

  @Test
  void query_timeRange_readsOnlyTheMonthsOfItsRange() throws Exception {
    openStore();
    writeMonths(JAN, FEB, MAR);
    AuditQuery oneDay = AuditQuery.builder().from(FEB.plus(Duration.ofDays(3)))
        .to(FEB.plus(Duration.ofDays(4))).principal("alice").build();

    // The plan as the query runs it (its parameters bound), and a generic plan, which prunes
    // when it starts (PostgreSQL then says how many partitions it left out).
    String custom = explain(oneDay, false);
    String generic = explain(oneDay, true);

    assertThat(custom).contains("sentinel_audit_y2026m02")
        .doesNotContain("y2026m01", "y2026m03", "sentinel_audit_default");
    assertThat(generic).contains("Subplans Removed: 3");
    assertThat(ids(oneDay)).containsExactly("feb3");
  }

  // ---- helpers ----

  /** Ten records a day apart from the first of each month: {@code jan0} ... {@code jan9}. */
  private void writeMonths(Instant... months) throws Exception {
    for (Instant month : months) {
      String prefix = month.atZone(java.time.ZoneOffset.UTC).getMonth().name().substring(0, 3)
          .toLowerCase(java.util.Locale.ROOT);
      List<AuditEvent> batch = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        batch.add(event(prefix + i, month.plus(Duration.ofDays(i)).plusSeconds(10)));
      }
      sink.write(batch);
    }
  }

  static AuditEvent event(String id, Instant time) {
    var args = JsonNodeFactory.instance.objectNode().put("path", "/w/" + id);
    return AuditEvent.builder()
        .id(id)
        .time(time)
        .instance("gw-1")
        .principal(Principal.of("alice", "dev"))
        .request(Request.toolCall("fs", "read", args))
        .arguments(args, CanonicalJson.sha256(args))
        .outcome(Outcome.ALLOWED)
        .build();
  }

  /**
   * The plan of the query's SQL for its first chunk: as the driver runs it (planned with its
   * parameters), or as a prepared statement's generic plan, which prunes when it starts.
   */
  private String explain(AuditQuery query, boolean generic) {
    long from = micros(FEB.plus(Duration.ofDays(3)));
    long to = micros(FEB.plus(Duration.ofDays(4)));
    return database.jdbi().withHandle(h -> {
      if (!generic) {
        return String.join("\n", h.createQuery("EXPLAIN " + query.sql())
            .bind("cursor", Long.MIN_VALUE).bind("bound", Long.MAX_VALUE).bind("chunk", 1000)
            .bind("principal", "alice").bind("from", from).bind("to", to)
            .mapTo(String.class).list());
      }
      String sql = query.sql();
      String[] names = {"cursor", "bound", "from", "to", "principal", "chunk"};
      for (int i = 0; i < names.length; i++) {
        sql = sql.replaceAll(":" + names[i] + "\\b", "\\$" + (i + 1));
      }
      h.execute("SET plan_cache_mode = force_generic_plan");
      h.execute("PREPARE chunk (bigint, bigint, bigint, bigint, text, int) AS " + sql);
      try {
        return String.join("\n", h.createQuery("EXPLAIN EXECUTE chunk(" + Long.MIN_VALUE + ", "
            + Long.MAX_VALUE + ", " + from + ", " + to + ", 'alice', 1000)")
            .mapTo(String.class).list());
      } finally {
        h.execute("DEALLOCATE chunk");
        h.execute("RESET plan_cache_mode");
      }
    });
  }

  private void assertIntact(long records) {
    VerifyReport report = AuditVerifier.verify(database);
    assertThat(report.ok()).as(report.problem()).isTrue();
    assertThat(report.rowsChecked()).isEqualTo(records);
  }

  private List<String> ids(AuditQuery query) {
    List<String> out = new ArrayList<>();
    query.forEach(database, r -> out.add(r.event().id()));
    return out;
  }

  /** The partitions as {@code name [from, to)}, in the order of their ranges, the default last. */
  private List<String> partitions() {
    return database.jdbi().withHandle(h -> AuditPartitions.list(h).stream()
        .map(p -> p.name() + (p.isDefault() ? " DEFAULT"
            : " [" + (p.from() == Long.MIN_VALUE ? "MINVALUE" : p.from()) + ", " + p.to() + ")"))
        .toList());
  }

  private long head() {
    return query("SELECT head_seq FROM sentinel_audit_chain");
  }

  private long count(String table) {
    return query("SELECT count(*) FROM " + table);
  }

  private long query(String sql) {
    return database.jdbi().withHandle(h -> h.createQuery(sql).mapTo(long.class).one());
  }

  private void sql(String statement) {
    database.jdbi().useHandle(h -> h.execute(statement));
  }

  private static long micros(Instant instant) {
    return Micros.of(instant);
  }

  /**
   * A database as Sentinel schema 3 left it: schema 1 to 3's SQL as released, and the records,
   * inserted and chained as schema 3's sink did.
   */
  static void writeSchema3(String url, List<AuditEvent> events) throws SQLException, IOException {
    writeOldSchema(url, 3, events);
  }

  /**
   * A database as an earlier Sentinel left it: the SQL of schema 1 to {@code version} (at most
   * 3) as released, and the records, inserted and chained as that sink did.
   */
  static void writeOldSchema(String url, int version, List<AuditEvent> events)
      throws SQLException, IOException {
    List<Migrations.Migration> released = List.of(new Migrations.Migration(1, "keys_and_audit"),
        new Migrations.Migration(2, "audit_chain"), new Migrations.Migration(3, "rate_buckets"));
    try (Connection c = DriverManager.getConnection(url)) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE sentinel_schema (version INTEGER NOT NULL PRIMARY KEY,"
            + " applied_at BIGINT NOT NULL, description TEXT NOT NULL)");
        for (Migrations.Migration m : released.subList(0, version)) {
          for (String statement : Migrations.statements(resource(m.resource(Dialect.POSTGRESQL)))) {
            s.execute(statement);
          }
          s.execute("INSERT INTO sentinel_schema VALUES (" + m.version() + ", 0, '"
              + m.description() + "')");
        }
      }
      String prev = AuditChain.GENESIS;
      long seq = 0;
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO sentinel_audit (seq, id,"
          + " time, principal, session, method, backend, tool, outcome, rule, instance, event,"
          + " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        for (AuditEvent e : events) {
          seq++;
          byte[] content = AuditChain.content(e);
          String hash = AuditChain.hash(prev, seq, content);
          insert.setLong(1, seq);
          insert.setString(2, e.id());
          insert.setLong(3, Micros.of(e.time()));
          insert.setString(4, e.principal());
          insert.setString(5, e.session());
          insert.setString(6, e.method());
          insert.setString(7, e.backend());
          insert.setString(8, e.name());
          insert.setString(9, e.outcome().name());
          insert.setString(10, e.rules().isEmpty() ? null : e.rules().get(0));
          insert.setString(11, e.instance());
          insert.setString(12, new String(content, StandardCharsets.UTF_8));
          insert.setString(13, prev);
          insert.setString(14, hash);
          insert.executeUpdate();
          prev = hash;
        }
      }
      try (PreparedStatement head = c.prepareStatement(
          "UPDATE sentinel_audit_chain SET head_seq = ?, head_hash = ?")) {
        head.setLong(1, seq);
        head.setString(2, prev);
        head.executeUpdate();
      }
      c.commit();
    }
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = PostgresAuditPartitionTest.class.getClassLoader()
        .getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
