package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.limit.RateLimiterContract;
import dev.sentinel.core.testing.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The rate limiter contract, and one limit shared by two limiters, on a real PostgreSQL. */
class PostgresRateLimiterTest extends RateLimiterContract {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  private final List<Database> databases = new ArrayList<>();

  @AfterEach
  void closeDatabases() {
    databases.forEach(Database::close);
  }

  private Database open(String url, ManualClock clock) {
    Database db = Database.builder(url).clock(clock).open();
    databases.add(db);
    return db;
  }

  @Override
  protected RateLimiter limiter(ManualClock clock) {
    return PostgresRateLimiter.create(open(postgres.newDatabase(), clock), clock);
  }

  @Test
  void tryAcquire_twoLimitersWithConcurrentCallers_enforceOneLimit() throws Exception {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    // Two limiters on two Database instances: as two gateway processes on one database.
    RateLimiter first = PostgresRateLimiter.create(open(url, clock), clock);
    RateLimiter second = PostgresRateLimiter.create(open(url, clock), clock);
    Rate rate = Rate.parse("25/h");
    int threadsPerLimiter = 4;
    int attemptsPerThread = 15;
    ExecutorService pool = Executors.newFixedThreadPool(2 * threadsPerLimiter);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Integer>> admitted = new ArrayList<>();
      for (int t = 0; t < 2 * threadsPerLimiter; t++) {
        RateLimiter limiter = t % 2 == 0 ? first : second;
        Callable<Integer> caller =
            () -> {
              start.await();
              int n = 0;
              for (int i = 0; i < attemptsPerThread; i++) {
                if (limiter.tryAcquire("shared", rate, 1).allowed()) {
                  n++;
                }
              }
              return n;
            };
        admitted.add(pool.submit(caller));
      }
      start.countDown();
      int total = 0;
      for (Future<Integer> f : admitted) {
        total += f.get(2, TimeUnit.MINUTES);
      }
      assertThat(total).isEqualTo(25);
    } finally {
      pool.shutdownNow();
    }
    assertThat(first.tryAcquire("shared", rate, 1).allowed()).isFalse();
    clock.advance(Duration.ofHours(1));
    assertThat(second.tryAcquire("shared", rate, 25).allowed()).isTrue();
  }

  @Test
  void refund_byOneLimiter_isSeenByTheOther() {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    RateLimiter first = PostgresRateLimiter.create(open(url, clock), clock);
    RateLimiter second = PostgresRateLimiter.create(open(url, clock), clock);
    Rate rate = Rate.parse("2/min");
    assertThat(first.tryAcquire("k", rate, 2).allowed()).isTrue();
    assertThat(second.tryAcquire("k", rate, 1).allowed()).isFalse();
    first.refund("k", rate, 1);
    assertThat(second.tryAcquire("k", rate, 1).allowed()).isTrue();
    assertThat(first.tryAcquire("k", rate, 1).allowed()).isFalse();
  }

  @Test
  void sweep_deletesOnlyBucketsThatHaveRefilledToFull() {
    ManualClock clock = new ManualClock();
    Database db = open(postgres.newDatabase(), clock);
    PostgresRateLimiter limiter = PostgresRateLimiter.create(db, clock);
    Rate rate = Rate.parse("2/min"); // one token every 30 s
    assertThat(limiter.tryAcquire("one-taken", rate, 1).allowed()).isTrue();
    assertThat(limiter.tryAcquire("both-taken", rate, 2).allowed()).isTrue();
    assertThat(limiter.sweep()).isZero();
    assertThat(buckets(db)).containsExactly("both-taken", "one-taken");

    clock.advance(Duration.ofSeconds(31));
    assertThat(limiter.sweep()).isEqualTo(1);
    assertThat(buckets(db)).containsExactly("both-taken");
    // The bucket that is still refilling keeps its state.
    assertThat(limiter.tryAcquire("both-taken", rate, 2).allowed()).isFalse();

    clock.advance(Duration.ofSeconds(60));
    assertThat(limiter.sweep()).isEqualTo(1);
    assertThat(buckets(db)).isEmpty();
    // A swept bucket is a full one.
    assertThat(limiter.tryAcquire("both-taken", rate, 2).allowed()).isTrue();
    assertThat(limiter.tryAcquire("both-taken", rate, 1).allowed()).isFalse();
  }

  @Test
  void sweep_manyExpiredBuckets_deletesThemAllInBatches() {
    ManualClock clock = new ManualClock();
    Database db = open(postgres.newDatabase(), clock);
    PostgresRateLimiter limiter = PostgresRateLimiter.create(db, clock);
    Rate rate = Rate.parse("10/s");
    db.jdbi().useHandle(h -> h.execute(
        "INSERT INTO sentinel_rate_bucket (id, state, expires_at, explicit_lock)"
            + " SELECT 'k' || n, NULL, 0, n FROM generate_series(1, 2500) AS n"));
    assertThat(limiter.tryAcquire("live", rate, 1).allowed()).isTrue();
    assertThat(limiter.sweep()).isEqualTo(2500);
    assertThat(buckets(db)).containsExactly("live");
  }

  @Test
  void migration_keepsABucketTableCreatedBeforeSchema3_andAddsTheLockColumn() throws Exception {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    // As a schema-2 gateway left it: the limiter created the table itself, without a lock
    // column; the schema rows say 2.
    PostgresAuditPartitionTest.writeOldSchema(url, 2, List.of());
    Jdbi.create(url).useHandle(h -> {
      h.execute("CREATE TABLE sentinel_rate_bucket (id TEXT PRIMARY KEY, state BYTEA,"
          + " expires_at BIGINT)");
      h.execute("INSERT INTO sentinel_rate_bucket (id) VALUES ('old')");
    });
    Database db = open(url, clock);
    assertThat(db.schemaVersion()).isEqualTo(Database.latestSchemaVersion());
    assertThat(buckets(db)).containsExactly("old");
    PostgresRateLimiter limiter = PostgresRateLimiter.create(db, clock);
    assertThat(limiter.tryAcquire("new", Rate.parse("1/s"), 1).allowed()).isTrue();
    clock.advance(Duration.ofSeconds(2));
    assertThat(limiter.sweep()).isEqualTo(1);
    assertThat(buckets(db)).containsExactly("old");
  }

  private static List<String> buckets(Database db) {
    return db.jdbi().withHandle(h -> h.createQuery(
        "SELECT id FROM sentinel_rate_bucket ORDER BY id").mapTo(String.class).list());
  }

  @Test
  void create_onSqlite_isRefusedClearly(@TempDir Path dir) {
    ManualClock clock = new ManualClock();
    Database sqlite = open("jdbc:sqlite:" + dir.resolve("s.db"), clock);
    assertThatThrownBy(() -> PostgresRateLimiter.create(sqlite, clock))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("Shared limits need PostgreSQL");
  }

  @Test
  void jdbcStores_onPostgres_offerOneSharedLimiter() {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    try (JdbcStores a = JdbcStores.open(DatabaseSettings.of(url, null, null), clock);
        JdbcStores b = JdbcStores.open(DatabaseSettings.of(url, null, null), clock)) {
      Rate rate = Rate.parse("1/min");
      assertThat(a.rateLimiter()).containsSame(a.rateLimiter().orElseThrow());
      assertThat(a.rateLimiter().orElseThrow().tryAcquire("k", rate, 1).allowed()).isTrue();
      assertThat(b.rateLimiter().orElseThrow().tryAcquire("k", rate, 1).allowed()).isFalse();
    }
  }

  @Test
  void jdbcStores_onSqlite_haveNoSharedLimiter(@TempDir Path dir) {
    String url = "jdbc:sqlite:" + dir.resolve("s.db");
    try (JdbcStores stores =
        JdbcStores.open(DatabaseSettings.of(url, null, null), new ManualClock())) {
      assertThat(stores.rateLimiter()).isEmpty();
    }
  }
}
