package dev.sentinel.redis;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.config.RedisSettings;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.limit.LimitSync;
import dev.sentinel.core.limit.SharedLimits;
import dev.sentinel.jdbc.Database;
import dev.sentinel.jdbc.PostgresRateLimiter;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * A performance harness (not a test): a fleet of gateways' shared limiters in one JVM, each with
 * its own connections (a {@link Database} pool of its own on PostgreSQL, a Lettuce connection of
 * its own on Redis), on one embedded PostgreSQL and one redis-server that it starts and stops.
 * For each store and sync mode it prints, as Markdown rows:
 *
 * <ul>
 *   <li>throughput: limit checks per second per gateway and the p50/p99 of one check, with a
 *       limit that does not bind (each thread cycles over 16 principals' buckets);
 *   <li>over-admission: every thread on one bucket of 50/s (burst 50) that binds; admitted calls
 *       against what one exact bucket allows over the run (burst + refill over the elapsed time);
 *   <li>outage: the store is stopped for 10 s in the middle of a run; calls admitted, refused
 *       and failed (counted as refusals by the pipeline) while it is away, and the time from its
 *       return to the first admitted call.
 * </ul>
 *
 * <p>Run from the repository root (needs redis-server on the PATH):
 *
 * <pre>
 * ./mvnw -B -q -o -pl sentinel-api,sentinel-core,sentinel-jdbc,sentinel-redis test-compile \
 *     dependency:build-classpath -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test
 * java -cp sentinel-redis/target/test-classes:sentinel-redis/target/classes:$(cat sentinel-redis/target/test.classpath) \
 *     dev.sentinel.redis.SharedLimitsFleetBench [seconds per run, default 10] [gateways, 4] [threads per gateway, 4]
 * </pre>
 *
 * <p>benchmarks/fleet-limits does both.
 */
public final class SharedLimitsFleetBench {
  private static final int KEYS = 16;
  private static final int SAMPLES = 200_000;

  private SharedLimitsFleetBench() {}

  /** A store the fleet's limiters are made on. */
  private interface Store extends AutoCloseable {
    String name();

    RateLimiter gateway(SharedLimits limits);

    void stop();

    void restart();

    @Override
    void close();
  }

  /** Runs every store and mode. */
  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int gateways = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    List<LimitSync> modes = List.of(LimitSync.exact(), LimitSync.batched(20),
        LimitSync.batched(100));
    System.out.printf(Locale.ROOT, "%d gateways x %d threads, %d s per run; %d processors, load average %s%n%n", gateways,
        threads, seconds, Runtime.getRuntime().availableProcessors(), loadAverage());
    System.out.println("| store | sync | checks/s per gateway | all gateways | p50 | p99 |"
        + " admitted / exact allows (binding 50/s) | over-admission (bound) |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    EmbeddedPostgres pg = EmbeddedPostgres.builder()
        .setServerConfig("listen_addresses", "127.0.0.1").start();
    RedisServer redis = RedisServer.start(null);
    try {
      List<Store> stores = List.of(new PostgresStore(pg), new RedisStore(redis));
      for (Store store : stores) {
        for (LimitSync sync : modes) {
          row(store, sync, gateways, threads, seconds);
        }
      }
      System.out.println();
      System.out.println("| store | sync | while stopped (10 s): admitted | refused | failed"
          + " (refused as unavailable) | first admitted call after the store is back |");
      System.out.println("|---|---|---|---|---|---|");
      for (Store store : stores) {
        for (LimitSync sync : List.of(LimitSync.exact(), LimitSync.batched(20))) {
          outage(store, sync, gateways, threads);
        }
      }
      for (Store store : stores) {
        store.close();
      }
    } finally {
      redis.close();
      pg.close();
    }
  }

  private static String loadAverage() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  private static SharedLimits deny(LimitSync sync) {
    return new SharedLimits(sync, SharedLimits.OnUnavailable.DENY);
  }

  private static void row(Store store, LimitSync sync, int gateways, int threads, int seconds)
      throws Exception {
    List<RateLimiter> fleet = new ArrayList<>();
    for (int g = 0; g < gateways; g++) {
      fleet.add(store.gateway(deny(sync)));
    }
    Rate open = Rate.of(1_000_000_000L, Duration.ofHours(1));
    run(fleet, threads, 2, open, true, "warm"); // warm-up
    Result throughput = run(fleet, threads, seconds, open, true, "open");
    Rate binding = Rate.of(50, Duration.ofSeconds(1));
    Result bound = run(fleet, threads, seconds, binding, false, "bind-" + System.nanoTime());
    double allowed = binding.burst() + 50.0 * bound.elapsedNanos / 1e9;
    long maxOver = sync.maxOverAdmission(binding, gateways);
    System.out.printf(Locale.ROOT, "| %s | %s | %,.0f | %,.0f | %,.0f µs | %,.0f µs | %,d / %,.0f |"
            + " %+.1f%% (bound %,d tokens = %.1f%% of the burst) |%n",
        store.name(), sync, throughput.perSecond() / gateways, throughput.perSecond(),
        throughput.percentile(0.50) / 1e3, throughput.percentile(0.99) / 1e3,
        bound.admitted.sum(), allowed, 100.0 * (bound.admitted.sum() - allowed) / allowed,
        maxOver, 100.0 * maxOver / binding.burst());
    for (RateLimiter limiter : fleet) {
      if (limiter instanceof AutoCloseable closeable) {
        closeable.close();
      }
    }
  }

  private static void outage(Store store, LimitSync sync, int gateways, int threads)
      throws Exception {
    List<RateLimiter> fleet = new ArrayList<>();
    for (int g = 0; g < gateways; g++) {
      fleet.add(store.gateway(deny(sync)));
    }
    Rate open = Rate.of(1_000_000_000L, Duration.ofHours(1));
    String prefix = "outage-" + System.nanoTime() + "-";
    LongAdder admitted = new LongAdder();
    LongAdder refused = new LongAdder();
    LongAdder failed = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    long[] firstAdmittedAfter = {Long.MAX_VALUE};
    long[] back = {Long.MAX_VALUE};
    ExecutorService pool = Executors.newFixedThreadPool(gateways * threads);
    List<Future<?>> callers = new ArrayList<>();
    AtomicBoolean away = new AtomicBoolean();
    for (RateLimiter limiter : fleet) {
      for (int t = 0; t < threads; t++) {
        int first = t;
        callers.add(pool.submit(() -> {
          int i = first;
          while (!stop.get()) {
            boolean during = away.get();
            try {
              RateLimitResult result = limiter.tryAcquire(prefix + (i++ % KEYS), open, 1);
              if (during) {
                (result.allowed() ? admitted : refused).increment();
              } else if (result.allowed() && back[0] != Long.MAX_VALUE) {
                synchronized (firstAdmittedAfter) {
                  firstAdmittedAfter[0] = Math.min(firstAdmittedAfter[0], System.nanoTime());
                }
              }
            } catch (RuntimeException e) {
              if (during) {
                failed.increment();
              }
            }
          }
          return null;
        }));
      }
    }
    Thread.sleep(2_000);
    // Counted as "while away" from when the store is down (stopping it takes a moment).
    store.stop();
    away.set(true);
    Thread.sleep(10_000);
    away.set(false);
    store.restart();
    back[0] = System.nanoTime();
    Thread.sleep(5_000);
    stop.set(true);
    for (Future<?> f : callers) {
      f.get();
    }
    pool.shutdown();
    String recovery = firstAdmittedAfter[0] == Long.MAX_VALUE ? "none within 5 s"
        : String.format(Locale.ROOT, "%.2f s", (firstAdmittedAfter[0] - back[0]) / 1e9);
    System.out.printf(Locale.ROOT, "| %s | %s | %,d | %,d | %,d | %s |%n", store.name(), sync,
        admitted.sum(), refused.sum(), failed.sum(), recovery);
  }

  /** What one run measured. */
  private static final class Result {
    final LongAdder calls = new LongAdder();
    final LongAdder admitted = new LongAdder();
    final long[] samples = new long[SAMPLES];
    int sampled;
    long elapsedNanos;

    double perSecond() {
      return calls.sum() / (elapsedNanos / 1e9);
    }

    double percentile(double p) {
      if (sampled == 0) {
        return 0;
      }
      long[] sorted = Arrays.copyOf(samples, sampled);
      Arrays.sort(sorted);
      return sorted[Math.min(sampled - 1, (int) (p * sampled))];
    }

    synchronized void sample(long[] theirs, int n) {
      int room = Math.min(n, samples.length - sampled);
      System.arraycopy(theirs, 0, samples, sampled, room);
      sampled += room;
    }
  }

  private static Result run(List<RateLimiter> fleet, int threads, int seconds, Rate rate,
      boolean spread, String prefix) throws Exception {
    Result result = new Result();
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(fleet.size() * threads);
    List<Future<?>> callers = new ArrayList<>();
    long start = System.nanoTime();
    for (RateLimiter limiter : fleet) {
      for (int t = 0; t < threads; t++) {
        int first = t;
        callers.add(pool.submit(() -> {
          long[] mine = new long[SAMPLES / (fleet.size() * threads)];
          int n = 0;
          int i = first;
          while (!stop.get()) {
            String key = spread ? prefix + (i++ % KEYS) : prefix;
            long before = System.nanoTime();
            boolean allowed;
            try {
              allowed = limiter.tryAcquire(key, rate, 1).allowed();
            } catch (RuntimeException e) {
              allowed = false;
            }
            long took = System.nanoTime() - before;
            if (n < mine.length) {
              mine[n++] = took;
            } else {
              mine[(int) (took % mine.length)] = took; // keep sampling late calls too
            }
            result.calls.increment();
            if (allowed) {
              result.admitted.increment();
            }
          }
          result.sample(mine, n);
          return null;
        }));
      }
    }
    Thread.sleep(seconds * 1000L);
    stop.set(true);
    for (Future<?> f : callers) {
      f.get();
    }
    result.elapsedNanos = System.nanoTime() - start;
    pool.shutdown();
    return result;
  }

  /** Gateways on one embedded PostgreSQL, each with its own pool. */
  private static final class PostgresStore implements Store {
    private final EmbeddedPostgres pg;
    private final String url;
    private final List<Database> databases = new ArrayList<>();

    PostgresStore(EmbeddedPostgres pg) throws Exception {
      this.pg = pg;
      try (Connection c = pg.getPostgresDatabase().getConnection();
          Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE fleet");
      }
      this.url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/fleet?user=postgres&connectTimeout=2";
    }

    @Override
    public String name() {
      return "PostgreSQL";
    }

    @Override
    public RateLimiter gateway(SharedLimits limits) {
      Database db = Database.builder(url).clock(Clock.system()).open();
      databases.add(db);
      return PostgresRateLimiter.create(db, Clock.system(), limits);
    }

    @Override
    public void stop() {
      admin("ALTER DATABASE fleet ALLOW_CONNECTIONS false");
      admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'fleet'");
    }

    @Override
    public void restart() {
      admin("ALTER DATABASE fleet ALLOW_CONNECTIONS true");
    }

    private void admin(String sql) {
      try (Connection c = pg.getPostgresDatabase().getConnection();
          Statement s = c.createStatement()) {
        s.execute(sql);
      } catch (Exception e) {
        throw new IllegalStateException(sql, e);
      }
    }

    @Override
    public void close() {
      databases.forEach(Database::close);
    }
  }

  /** Gateways on one redis-server, each with its own connection. */
  private static final class RedisStore implements Store {
    private final RedisServer redis;
    private final List<RedisStores> opened = new ArrayList<>();

    RedisStore(RedisServer redis) {
      this.redis = redis;
    }

    @Override
    public String name() {
      return "Redis";
    }

    @Override
    public RateLimiter gateway(SharedLimits limits) {
      RedisStores stores = RedisStores.open(new RedisSettings(redis.url(), null, null, null,
          Duration.ofSeconds(1), false), Stores.none(), Clock.system());
      opened.add(stores);
      return stores.rateLimiter(limits).orElseThrow();
    }

    @Override
    public void stop() {
      redis.stop();
    }

    @Override
    public void restart() {
      redis.start();
    }

    @Override
    public void close() {
      for (RedisStores stores : opened) {
        try {
          stores.close();
        } catch (RuntimeException e) {
          // already gone
        }
      }
    }
  }
}
