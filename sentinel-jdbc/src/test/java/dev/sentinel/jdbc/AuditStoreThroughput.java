package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.CanonicalJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A performance harness (not a test) for the audit store, through {@link AuditDispatcher} and
 * {@link JdbcAuditSink}, printing one line per measurement:
 *
 * <ul>
 *   <li>sustained rows per second into SQLite and into PostgreSQL (embedded, 127.0.0.1): events
 *       recorded as fast as the dispatcher takes them, until the last is committed;
 *   <li>durable mode: the latency {@link AuditDispatcher#recordDurably} adds per call with 32
 *       concurrent callers on SQLite, p50 and p99, with {@code synchronous=NORMAL} and {@code
 *       FULL}.
 * </ul>
 *
 * <p>Run from the repository root (the classpath is the jdbc module's test classpath):
 *
 * <pre>
 * ./mvnw -B -q -pl sentinel-api,sentinel-core,sentinel-jdbc test-compile \
 *     dependency:build-classpath -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test
 * java -cp sentinel-jdbc/target/test-classes:sentinel-jdbc/target/classes:$(cat sentinel-jdbc/target/test.classpath) \
 *     dev.sentinel.jdbc.AuditStoreThroughput [rows, default 500000] [postgres rows, default 200000]
 * </pre>
 */
public final class AuditStoreThroughput {
  private AuditStoreThroughput() {}

  /** Runs every measurement once, after a warm-up run of each. */
  public static void main(String[] args) throws Exception {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 500_000;
    int pgRows = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
    Path dir = Files.createTempDirectory("sentinel-audit-bench");
    AuditEvent[] events = events(rows);

    sustained("sqlite (warm-up)", sqlite(dir, "warm.db"), Arrays.copyOf(events, rows / 5), 512);
    for (int batch : new int[] {512, 4096}) {
      sustained("sqlite batch " + batch, sqlite(dir, "s" + batch + ".db"), events, batch);
    }
    try (EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start()) {
      AuditEvent[] pgEvents = Arrays.copyOf(events, pgRows);
      sustained("postgresql (warm-up)", Database.open(postgres.newDatabase(), null, null),
          Arrays.copyOf(events, pgRows / 5), 512);
      for (int batch : new int[] {512, 4096}) {
        sustained("postgresql batch " + batch, Database.open(postgres.newDatabase(), null, null),
            pgEvents, batch);
      }
    }
    durable("sqlite durable (warm-up)", sqlite(dir, "dw.db"), false, 32, 500);
    durable("sqlite durable, synchronous=NORMAL", sqlite(dir, "dn.db"), false, 32, 2_000);
    durable("sqlite durable, synchronous=FULL", sqlite(dir, "df.db"), true, 32, 2_000);
  }

  private static Database sqlite(Path dir, String name) {
    return Database.open("jdbc:sqlite:" + dir.resolve(name), null, null);
  }

  private static void sustained(String label, Database db, AuditEvent[] events, int batch) {
    try (db) {
      AuditDispatcher d = AuditDispatcher.builder().sink(JdbcAuditSink.create(db))
          .capacity(65_536).batchSize(batch).build();
      long start = System.nanoTime();
      for (AuditEvent e : events) {
        d.record(e);
      }
      if (!d.flush(Duration.ofMinutes(10))) {
        throw new IllegalStateException("not flushed");
      }
      long nanos = System.nanoTime() - start;
      d.close();
      long written = d.stats().written();
      System.out.printf("%-40s %,10d rows in %6.2f s = %,9.0f rows/s%n",
          label, written, nanos / 1e9, written / (nanos / 1e9));
    }
  }

  private static void durable(String label, Database db, boolean full, int threads, int perThread)
      throws Exception {
    try (db) {
      AuditDispatcher d = AuditDispatcher.builder()
          .sink(JdbcAuditSink.builder(db).synchronousFull(full).build()).build();
      long[][] latencies = new long[threads][perThread];
      CountDownLatch go = new CountDownLatch(1);
      AtomicLong failures = new AtomicLong();
      List<Thread> callers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        AuditEvent[] mine = events(perThread, "t" + t + "-");
        Thread caller = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          for (int i = 0; i < perThread; i++) {
            long s = System.nanoTime();
            if (!d.recordDurably(mine[i])) {
              failures.incrementAndGet();
            }
            latencies[thread][i] = System.nanoTime() - s;
          }
        });
        callers.add(caller);
        caller.start();
      }
      long start = System.nanoTime();
      go.countDown();
      for (Thread caller : callers) {
        caller.join();
      }
      long nanos = System.nanoTime() - start;
      d.close();
      long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
      System.out.printf("%-40s %d callers: p50 %.3f ms, p99 %.3f ms, %,.0f calls/s, %d failed%n",
          label, threads, all[all.length / 2] / 1e6, all[(int) (all.length * 0.99)] / 1e6,
          all.length / (nanos / 1e9), failures.get());
    }
  }

  static AuditEvent[] events(int n) {
    return events(n, "");
  }

  private static AuditEvent[] events(int n, String prefix) {
    AuditEvent[] events = new AuditEvent[n];
    Instant t0 = Instant.now();
    for (int i = 0; i < n; i++) {
      ObjectNode args = JsonNodeFactory.instance.objectNode()
          .put("path", "/workspace/project/src/main/java/File" + i + ".java")
          .put("encoding", "utf-8");
      events[i] = AuditEvent.builder()
          .id(prefix + "0190f5f0-7c1e-7000-8000-" + String.format("%012d", i))
          .time(t0.plusNanos(i * 1000L))
          .instance("gw-1")
          .principal(Principal.of("alice", "developer"))
          .session("session-1", "claude-code/1.0")
          .requestId(Integer.toString(i))
          .request(Request.toolCall("fs", "fs__read_file", args))
          .arguments(args, CanonicalJson.sha256(args))
          .decision(Decision.allow(List.of("readonly-tools"), ""))
          .rateRemaining(59)
          .outcome(Outcome.ALLOWED)
          .latency(Duration.ofNanos(1_234_567))
          .response(2048, "sha256:" + "ab".repeat(32))
          .revision("r1")
          .build();
    }
    return events;
  }
}
