package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.CanonicalJson;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A performance harness (not a test) for the partitioned audit table on PostgreSQL (schema 5) at
 * scale, printing one line per measurement:
 *
 * <ol>
 *   <li>bulk load: {@code records} events spread evenly over {@code months} months from
 *       2026-07-01, their canonical JSON and hash chain computed here exactly as {@link
 *       JdbcAuditSink} does ({@link AuditChain}), streamed with {@code COPY ... FROM STDIN} into
 *       {@code sentinel_audit} (the partitions and their six indexes maintained as rows arrive),
 *       500,000 rows per transaction, then the chain's head set and {@code VACUUM ANALYZE}: a
 *       valid chain, which the verification below proves;
 *   <li>insert rate through the real {@link JdbcAuditSink} (one writer, batches of 4,096: the
 *       gateway's batch) into the full table, continuing the chain;
 *   <li>a query over one day in the middle of the second month ({@link AuditQuery}, as {@code
 *       sentinel audit query --from --to} and the admin API's search run it), all of it and the
 *       newest 100, with the partitions its plan reads;
 *   <li>{@code audit verify} of the whole chain ({@link AuditVerifier#verify});
 *   <li>retention: purging the first month (its partition dropped) against purging the second
 *       month row-wise ({@code DELETE}, as on an unpartitioned table), then verify again.
 * </ol>
 *
 * <p>The embedded server runs with {@code shared_buffers=1GB}, {@code max_wal_size=8GB} (so that
 * the load is not one checkpoint after another), and zonky's defaults otherwise. Its data lives
 * in the temporary folder: 10 million records take about 13 GB there.
 *
 * <p>Run with {@code benchmarks/audit-partitions [records, default 10000000] [months, default
 * 4]}, which builds the jdbc module's test classpath and runs this class.
 */
public final class AuditPartitionBench {
  private static final Instant START = Instant.parse("2026-07-01T00:00:00Z");
  private static final int COPY_ROWS = 500_000;
  private static final String COLUMNS = "seq, id, time, principal, session, method, backend,"
      + " tool, outcome, rule, instance, event, prev_hash, hash";

  private AuditPartitionBench() {}

  /** Runs each measurement once; see the class comment. */
  public static void main(String[] args) throws Exception {
    long records = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
    int months = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    Instant end = START.atZone(ZoneOffset.UTC).plusMonths(months).toInstant();
    long spacingNanos = Duration.between(START, end).toNanos() / records;
    System.out.printf(Locale.ROOT, "%,d records over %d months from %s, one every %.3f s%n",
        records, months, START, spacingNanos / 1e9);
    EmbeddedPostgres postgres = EmbeddedPostgres.builder()
        .setServerConfig("listen_addresses", "127.0.0.1")
        .setServerConfig("shared_buffers", "1GB")
        .setServerConfig("max_wal_size", "8GB")
        .start();
    try {
      String url = "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres?user=postgres";
      Clock atStart = fixed(START);
      try (Database db = Database.builder(url).clock(atStart).open()) {
        for (int m = 0; m < months; m++) {
          AuditPartitions.maintain(db, fixed(START.atZone(ZoneOffset.UTC).plusMonths(m)
              .toInstant()));
        }
        String head = load(url, records, spacingNanos);
        vacuum(url);
        insertRate(db, records, head, end);
        query(db, url);
        verify(db, "verify");
        purge(db, months);
        verify(db, "verify after the purges");
      }
    } finally {
      postgres.close();
    }
  }

  /** Loads the records with COPY, chained; answers the last hash. */
  private static String load(String url, long records, long spacingNanos) throws Exception {
    long started = System.nanoTime();
    String prev = AuditChain.GENESIS;
    try (Connection c = DriverManager.getConnection(url)) {
      c.setAutoCommit(false);
      CopyIn copy = null;
      StringBuilder line = new StringBuilder(1024);
      for (long seq = 1; seq <= records; seq++) {
        if (copy == null) {
          copy = c.unwrap(PGConnection.class).getCopyAPI()
              .copyIn("COPY sentinel_audit (" + COLUMNS + ") FROM STDIN");
        }
        AuditEvent e = event(seq, START.plusNanos((seq - 1) * spacingNanos));
        byte[] content = AuditChain.content(e);
        String hash = AuditChain.hash(prev, seq, content);
        line.setLength(0);
        line.append(seq).append('\t');
        field(line, e.id());
        field(line, Long.toString(Micros.of(e.time())));
        field(line, e.principal());
        field(line, e.session());
        field(line, e.method());
        field(line, e.backend());
        field(line, e.name());
        field(line, e.outcome().name());
        field(line, e.rules().isEmpty() ? null : e.rules().get(0));
        field(line, e.instance());
        field(line, new String(content, StandardCharsets.UTF_8));
        field(line, prev);
        line.append(hash).append('\n');
        byte[] bytes = line.toString().getBytes(StandardCharsets.UTF_8);
        copy.writeToCopy(bytes, 0, bytes.length);
        prev = hash;
        if (seq % COPY_ROWS == 0 || seq == records) {
          copy.endCopy();
          c.commit();
          copy = null;
          double s = (System.nanoTime() - started) / 1e9;
          System.out.printf(Locale.ROOT, "  loaded %,d (%.0f s, %,.0f rows/s)%n", seq, s,
              seq / s);
        }
      }
      try (Statement s = c.createStatement()) {
        s.execute("UPDATE sentinel_audit_chain SET head_seq = " + records + ", head_hash = '"
            + prev + "'");
      }
      c.commit();
    }
    double s = (System.nanoTime() - started) / 1e9;
    System.out.printf(Locale.ROOT, "bulk load (COPY, chained here): %,d rows in %.0f s, %,.0f"
        + " rows/s%n", records, s, records / s);
    return prev;
  }

  private static void field(StringBuilder line, String value) {
    if (value == null) {
      line.append("\\N");
    } else {
      for (int i = 0; i < value.length(); i++) {
        char ch = value.charAt(i);
        switch (ch) {
          case '\\' -> line.append("\\\\");
          case '\t' -> line.append("\\t");
          case '\n' -> line.append("\\n");
          case '\r' -> line.append("\\r");
          default -> line.append(ch);
        }
      }
    }
    line.append('\t');
  }

  private static void vacuum(String url) throws Exception {
    long started = System.nanoTime();
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("VACUUM ANALYZE sentinel_audit");
      try (ResultSet rs = s.executeQuery("SELECT pg_size_pretty(sum(pg_total_relation_size("
          + "inhrelid))) FROM pg_inherits WHERE inhparent = 'sentinel_audit'::regclass")) {
        rs.next();
        System.out.printf(Locale.ROOT, "vacuum analyze: %.0f s; table with indexes: %s%n",
            (System.nanoTime() - started) / 1e9, rs.getString(1));
      }
    }
  }

  /** Appends through the real sink, one writer, batches of 4,096, in the last month. */
  private static void insertRate(Database db, long records, String head, Instant end)
      throws Exception {
    int n = 204_800;
    int batch = 4_096;
    Instant t = end.minus(Duration.ofDays(1));
    try (JdbcAuditSink sink = JdbcAuditSink.create(db)) {
      long started = System.nanoTime();
      for (int i = 0; i < n; i += batch) {
        List<AuditEvent> events = new ArrayList<>(batch);
        for (int j = 0; j < batch; j++) {
          long k = records + i + j + 1;
          events.add(event(k, t.plusNanos(k * 1000L)));
        }
        sink.write(events);
      }
      double s = (System.nanoTime() - started) / 1e9;
      System.out.printf(Locale.ROOT, "insert through JdbcAuditSink (1 writer, batch %,d) into"
          + " %,d rows: %,d rows in %.1f s, %,.0f rows/s%n", batch, records, n, s, n / s);
    }
  }

  /** One day in the middle of the second month: all of it, then the newest 100. */
  private static void query(Database db, String url) throws Exception {
    Instant from = START.atZone(ZoneOffset.UTC).plusMonths(1).plusDays(14).toInstant();
    Instant to = from.plus(Duration.ofDays(1));
    for (int round = 1; round <= 2; round++) {
      AuditQuery all = AuditQuery.builder().from(from).to(to).build();
      long started = System.nanoTime();
      long n = all.forEach(db, r -> { });
      System.out.printf(Locale.ROOT, "query one day (%s, all, round %d): %,d records in %.2f s%n",
          from.toString().substring(0, 10), round, n, (System.nanoTime() - started) / 1e9);
      AuditQuery newest = AuditQuery.builder().from(from).to(to).principal("user-7")
          .order(AuditQuery.Order.NEWEST_FIRST).limit(100).build();
      started = System.nanoTime();
      n = newest.forEach(db, r -> { });
      System.out.printf(Locale.ROOT, "query one day, one principal, newest 100 (round %d): %,d"
          + " records in %.3f s%n", round, n, (System.nanoTime() - started) / 1e9);
    }
    AuditQuery q = AuditQuery.builder().from(from).to(to).build();
    List<String> read = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url);
        var ps = c.prepareStatement("EXPLAIN " + q.sql().replace(":cursor", "?")
            .replace(":bound", "?").replace(":from", "?").replace(":to", "?")
            .replace(":chunk", "?"))) {
      // Positional: cursor, bound, from, to, (the intent check's) from, to, chunk.
      long[] values = {Long.MIN_VALUE, Long.MAX_VALUE, Micros.of(from), Micros.of(to),
          Micros.of(from), Micros.of(to), 1000};
      for (int i = 0; i < values.length; i++) {
        ps.setLong(i + 1, values[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String plan = rs.getString(1);
          int at = plan.indexOf(" on sentinel_audit");
          if (at >= 0) {
            String name = plan.substring(at + 4).split(" ")[0];
            if (!read.contains(name)) {
              read.add(name);
            }
          }
        }
      }
    }
    System.out.println("  partitions in the plan: " + read);
  }

  private static void verify(Database db, String label) {
    long started = System.nanoTime();
    VerifyReport report = AuditVerifier.verify(db);
    double s = (System.nanoTime() - started) / 1e9;
    System.out.printf(Locale.ROOT, "%s: %s, %,d records in %.0f s, %,.0f records/s%n", label,
        report.ok() ? "intact" : "BROKEN: " + report.problem(), report.rowsChecked(), s,
        report.rowsChecked() / s);
  }

  /** The first month by dropping its partition; the second row-wise. */
  private static void purge(Database db, int months) {
    if (months < 3) {
      return;
    }
    Instant second = START.atZone(ZoneOffset.UTC).plusMonths(1).toInstant();
    Instant third = START.atZone(ZoneOffset.UTC).plusMonths(2).toInstant();
    long started = System.nanoTime();
    long dropped = AuditRetention.purge(db, second, Clock.system(), true);
    System.out.printf(Locale.ROOT, "purge a month by dropping its partition: %,d records in"
        + " %.2f s%n", dropped, (System.nanoTime() - started) / 1e9);
    started = System.nanoTime();
    long deleted = AuditRetention.purge(db, third, Clock.system(), false);
    System.out.printf(Locale.ROOT, "purge the next month row-wise (DELETE): %,d records in"
        + " %.2f s%n", deleted, (System.nanoTime() - started) / 1e9);
  }

  /** Record {@code k}: 50 principals, 20 tools, one call in 20 denied. */
  static AuditEvent event(long k, Instant time) {
    ObjectNode args = JsonNodeFactory.instance.objectNode()
        .put("path", "/workspace/project/src/main/java/File" + (k % 10_000) + ".java")
        .put("encoding", "utf-8");
    boolean denied = k % 20 == 0;
    return AuditEvent.builder()
        .id(String.format(Locale.ROOT, "0190f5f0-7c1e-7000-8000-%012d", k))
        .time(time)
        .instance("gw-" + (k % 4))
        .principal(Principal.of("user-" + (k % 50), "developer"))
        .session("session-" + (k / 100), "claude-code/1.0")
        .requestId(Long.toString(k))
        .request(Request.toolCall("fs", "fs__tool_" + (k % 20), args))
        .arguments(args, CanonicalJson.sha256(args))
        .decision(denied ? Decision.deny(List.of("no-writes"), "writes are denied")
            : Decision.allow(List.of("readonly-tools"), ""))
        .rateRemaining(59)
        .outcome(denied ? Outcome.DENIED : Outcome.ALLOWED)
        .latency(Duration.ofNanos(1_234_567))
        .response(2048, "sha256:" + "ab".repeat(32))
        .revision("r1")
        .build();
  }

  private static Clock fixed(Instant instant) {
    return new Clock() {
      @Override
      public Instant instant() {
        return instant;
      }

      @Override
      public long nanoTime() {
        return System.nanoTime();
      }
    };
  }
}
