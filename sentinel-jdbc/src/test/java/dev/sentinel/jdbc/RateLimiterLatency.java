package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Rate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A performance harness (not a test) for {@link PostgresRateLimiter#tryAcquire} on an embedded
 * PostgreSQL (127.0.0.1), printing one line per thread count: calls per second and the per-call
 * latency p50 and p99. The limit is 500 per hour on one key, as in the rate limiter contract's
 * many-threads test: the first 500 calls are admitted, the rest refused, and every call goes to
 * the database.
 *
 * <p>Run from the repository root (the classpath is the jdbc module's test classpath):
 *
 * <pre>
 * ./mvnw -B -q -pl sentinel-api,sentinel-core,sentinel-jdbc test-compile \
 *     dependency:build-classpath -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test
 * java -cp sentinel-jdbc/target/test-classes:sentinel-jdbc/target/classes:$(cat sentinel-jdbc/target/test.classpath) \
 *     dev.sentinel.jdbc.RateLimiterLatency [calls per run, default 4000]
 * </pre>
 */
public final class RateLimiterLatency {
  private RateLimiterLatency() {}

  /** Runs a warm-up, then one measured run with 1 thread and one with 8. */
  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 4_000;
    try (EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start()) {
      run("warm-up, 8 threads", postgres, 8, calls / 4);
      run("1 thread", postgres, 1, calls);
      run("8 threads", postgres, 8, calls);
    }
  }

  private static void run(String label, EmbeddedPostgresServer postgres, int threads, int calls)
      throws Exception {
    try (Database db = Database.open(postgres.newDatabase(), null, null)) {
      PostgresRateLimiter limiter = PostgresRateLimiter.create(db, Clock.system());
      Rate rate = Rate.of(500, Duration.ofHours(1));
      int perThread = calls / threads;
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Callable<long[]>> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          tasks.add(() -> {
            long[] nanos = new long[perThread];
            for (int i = 0; i < perThread; i++) {
              long start = System.nanoTime();
              limiter.tryAcquire("shared", rate, 1);
              nanos[i] = System.nanoTime() - start;
            }
            return nanos;
          });
        }
        long start = System.nanoTime();
        List<Future<long[]>> results = pool.invokeAll(tasks);
        long wall = System.nanoTime() - start;
        long[] all = new long[perThread * threads];
        int n = 0;
        for (Future<long[]> f : results) {
          long[] part = f.get();
          System.arraycopy(part, 0, all, n, part.length);
          n += part.length;
        }
        Arrays.sort(all);
        System.out.printf(
            "%-20s calls %6d  calls/s %8.0f  p50 %7.3f ms  p99 %7.3f ms%n",
            label,
            all.length,
            all.length / (wall / 1e9),
            all[all.length / 2] / 1e6,
            all[(int) (all.length * 0.99)] / 1e6);
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
