package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Rate;
import dev.sentinel.core.killswitch.KillSwitchStore;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The PostgreSQL connection pool: bounded, reused, released on close. */
class PostgresPoolTest {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  @Test
  void burstOfCalls_reusesAtMostPoolSizeConnections_andCloseReleasesThem() throws Exception {
    String url = postgres.newDatabase();
    String name = databaseName(url);
    int poolSize = 3;
    int threads = 8;
    int callsPerThread = 50;
    ManualClock clock = new ManualClock();
    Database db = Database.builder(url).clock(clock).poolSize(poolSize).open();
    PostgresRateLimiter limiter = PostgresRateLimiter.create(db, clock);
    Rate rate = Rate.parse("100/h");
    Set<Integer> backends = ConcurrentHashMap.newKeySet();
    AtomicInteger mostSeen = new AtomicInteger();
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    CountDownLatch start = new CountDownLatch(1);
    try (Connection observer = observer()) {
      Future<?> watcher = pool.submit(() -> {
        while (!done.get()) {
          mostSeen.accumulateAndGet(sentinelConnections(observer, name), Math::max);
        }
        return null;
      });
      List<Future<Integer>> callers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Callable<Integer> caller = () -> {
          start.await();
          int admitted = 0;
          for (int i = 0; i < callsPerThread; i++) {
            if (limiter.tryAcquire("k", rate, 1).allowed()) {
              admitted++;
            }
            backends.add(db.jdbi().withHandle(
                h -> h.createQuery("SELECT pg_backend_pid()").mapTo(Integer.class).one()));
          }
          return admitted;
        };
        callers.add(pool.submit(caller));
      }
      start.countDown();
      int admitted = 0;
      for (Future<Integer> f : callers) {
        admitted += f.get(2, TimeUnit.MINUTES);
      }
      done.set(true);
      watcher.get(1, TimeUnit.MINUTES);

      assertThat(admitted).isEqualTo(100);
      // 800 calls, each on a connection of its own before the pool, shared a few connections.
      assertThat(backends).isNotEmpty().hasSizeLessThanOrEqualTo(poolSize);
      assertThat(mostSeen.get()).isBetween(1, poolSize);
      assertThat(sentinelConnections(observer, name)).isBetween(1, poolSize);

      db.close();
      Conditions.await("the pool's connections to close",
          () -> sentinelConnections(observer, name) == 0);
      assertThatThrownBy(() -> limiter.tryAcquire("k", rate, 1)).isInstanceOf(RuntimeException.class);
    } finally {
      done.set(true);
      pool.shutdownNow();
      db.close();
    }
  }

  @Test
  void close_withAKillSwitchListener_releasesItsConnectionToo() throws Exception {
    String url = postgres.newDatabase();
    String name = databaseName(url);
    ManualClock clock = new ManualClock();
    Database db = Database.builder(url).clock(clock).poolSize(2).open();
    CountDownLatch notified = new CountDownLatch(1);
    KillSwitchStore.Watch watch = JdbcKillSwitchStore.create(db, clock).watch(notified::countDown);
    try (Connection observer = observer()) {
      // The listener calls back once it listens, on its own connection outside the pool.
      assertThat(notified.await(1, TimeUnit.MINUTES)).isTrue();
      assertThat(sentinelConnections(observer, name)).isBetween(1, 3);
      db.close();
      Conditions.await("the pool's and the listener's connections to close",
          () -> sentinelConnections(observer, name) == 0);
    } finally {
      watch.close();
      db.close();
    }
  }

  @Test
  void open_setsTheApplicationName_unlessTheUrlNamesOne() throws Exception {
    String url = postgres.newDatabase();
    try (Database db = Database.open(url, null, null);
        Database named = Database.open(url + "&ApplicationName=gw-eu", null, null)) {
      assertThat(applicationName(db)).isEqualTo("sentinel");
      assertThat(applicationName(named)).isEqualTo("gw-eu");
    }
  }

  @Test
  void serverGoneAfterOpen_failsWithTheDriversReason_notThePoolsTimeout() {
    EmbeddedPostgresServer own = EmbeddedPostgresServer.start();
    Database db;
    try {
      db = Database.builder(own.newDatabase() + "&connectTimeout=1").poolSize(1).open();
      int one = db.withHandle("read", h -> h.createQuery("SELECT 1").mapTo(Integer.class).one());
      assertThat(one).isEqualTo(1);
    } finally {
      own.close();
    }
    try (Database gone = db) {
      // The first call may get the pooled connection the server ended ("terminating connection
      // due to administrator command"), which the pool then drops; the next must connect anew.
      for (int call = 0; call < 2; call++) {
        assertThatThrownBy(() -> gone.withHandle(
                "read", h -> h.createQuery("SELECT 1").mapTo(Integer.class).one()))
            .isInstanceOf(DatabaseException.class)
            .hasMessageContaining("Check that PostgreSQL is running")
            .hasMessageNotContaining("Connection is not available");
      }
    }
  }

  @Test
  void poolSize_belowOne_isRefused() {
    assertThatThrownBy(() -> Database.builder(postgres.newDatabase()).poolSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("poolSize must be at least 1");
  }

  private static String applicationName(Database db) {
    return db.jdbi().withHandle(
        h -> h.createQuery("SHOW application_name").mapTo(String.class).one());
  }

  private static Connection observer() throws SQLException {
    return DriverManager.getConnection(postgres.url("postgres") + "&ApplicationName=observer");
  }

  /** Backends of the given database that Sentinel opened, as the server counts them. */
  private static int sentinelConnections(Connection observer, String database) {
    try (PreparedStatement s = observer.prepareStatement(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND application_name = ?")) {
      s.setString(1, database);
      s.setString(2, "sentinel");
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getInt(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String databaseName(String url) {
    String path = url.substring(url.lastIndexOf('/') + 1);
    return path.substring(0, path.indexOf('?'));
  }
}
