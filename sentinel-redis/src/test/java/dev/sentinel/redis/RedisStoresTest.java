package dev.sentinel.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.config.RedisSettings;
import dev.sentinel.core.config.SharedState;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.killswitch.KillSwitchStore;
import dev.sentinel.core.limit.LimitSync;
import dev.sentinel.core.limit.SharedLimitUnavailableException;
import dev.sentinel.core.limit.SharedLimits;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.jdbc.JdbcStores;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared limits and kill-switch announcements on a real redis-server that the test starts and
 * stops: several gateways' stores (each with its own connection) on one server, many threads.
 */
class RedisStoresTest {
  private static final int GATEWAYS = 4;
  private static final int THREADS_PER_GATEWAY = 4;
  private static final int ATTEMPTS_PER_THREAD = 40;

  @TempDir Path dir;
  private RedisServer redis;
  private final List<Stores> opened = new ArrayList<>();

  @BeforeEach
  void startRedis() {
    redis = RedisServer.start(null);
  }

  @AfterEach
  void stopRedis() {
    for (Stores stores : opened) {
      try {
        stores.close();
      } catch (RuntimeException e) {
        // Closing after the server went away: nothing more to release.
      }
    }
    if (redis != null) {
      redis.close();
    }
  }

  private RedisSettings settings(String url) {
    return new RedisSettings(url, null, null, null, Duration.ofSeconds(2), true);
  }

  private JdbcStores sqlite(ManualClock clock) {
    return JdbcStores.open(DatabaseSettings.of("jdbc:sqlite:" + dir.resolve("s.db"), null, null),
        clock);
  }

  private RedisStores gateway(ManualClock clock) {
    RedisStores stores = RedisStores.open(settings(redis.url()), Stores.none(), clock);
    opened.add(stores);
    return stores;
  }

  private RateLimiter limiter(ManualClock clock, SharedLimits limits) {
    return gateway(clock).rateLimiter(limits).orElseThrow();
  }

  private static SharedLimits sync(LimitSync sync) {
    return new SharedLimits(sync, SharedLimits.OnUnavailable.DENY);
  }

  private static int hammer(List<RateLimiter> gateways, Rate rate) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(gateways.size() * THREADS_PER_GATEWAY);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Integer>> admitted = new ArrayList<>();
      for (RateLimiter gateway : gateways) {
        for (int t = 0; t < THREADS_PER_GATEWAY; t++) {
          Callable<Integer> caller = () -> {
            start.await();
            int n = 0;
            for (int i = 0; i < ATTEMPTS_PER_THREAD; i++) {
              if (gateway.tryAcquire("shared", rate, 1).allowed()) {
                n++;
              }
            }
            return n;
          };
          admitted.add(pool.submit(caller));
        }
      }
      start.countDown();
      int total = 0;
      for (Future<Integer> f : admitted) {
        total += f.get(5, TimeUnit.MINUTES);
      }
      return total;
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(1, TimeUnit.MINUTES);
    }
  }

  private List<RateLimiter> fleet(ManualClock clock, LimitSync sync) {
    List<RateLimiter> fleet = new ArrayList<>();
    for (int g = 0; g < GATEWAYS; g++) {
      fleet.add(limiter(clock, sync(sync)));
    }
    return fleet;
  }

  @Test
  void exact_fourGatewaysManyThreads_admitExactlyTheLimit() throws Exception {
    ManualClock clock = new ManualClock();
    Rate rate = Rate.parse("60/h");
    List<RateLimiter> fleet = fleet(clock, LimitSync.exact());
    assertThat(hammer(fleet, rate)).isEqualTo(60);
    assertThat(fleet.get(0).tryAcquire("shared", rate, 1).allowed()).isFalse();
  }

  @Test
  void batched_fourGatewaysManyThreads_overAdmitAtMostTheBound() throws Exception {
    ManualClock clock = new ManualClock();
    Rate rate = Rate.parse("60/h");
    LimitSync sync = LimitSync.batched(5);
    int admitted = hammer(fleet(clock, sync), rate);
    assertThat(admitted).isBetween(60, 60 + (int) sync.maxOverAdmission(rate, GATEWAYS));
  }

  @Test
  void refund_byOneGateway_isSeenByAnother() {
    ManualClock clock = new ManualClock();
    RateLimiter first = limiter(clock, SharedLimits.DEFAULTS);
    RateLimiter second = limiter(clock, SharedLimits.DEFAULTS);
    Rate rate = Rate.parse("2/min");
    assertThat(first.tryAcquire("k", rate, 2).allowed()).isTrue();
    assertThat(second.tryAcquire("k", rate, 1).allowed()).isFalse();
    first.refund("k", rate, 1);
    assertThat(second.tryAcquire("k", rate, 1).allowed()).isTrue();
  }

  @Test
  void redisStopped_deny_refusesEveryCall_andRecoversWhenItIsBack() {
    ManualClock clock = new ManualClock();
    Rate rate = Rate.parse("100/h");
    RateLimiter limiter = limiter(clock, SharedLimits.DEFAULTS);
    assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isTrue();

    redis.stop();
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> limiter.tryAcquire("k", rate, 1))
          .isInstanceOf(SharedLimitUnavailableException.class)
          .hasMessageContaining("Redis redis://127.0.0.1:" + redis.port());
    }

    redis.start(); // empty again: no persistence
    Conditions.await("the shared limit to work again", () -> {
      clock.advance(Duration.ofMillis(1001));
      try {
        return limiter.tryAcquire("k", rate, 1).allowed();
      } catch (SharedLimitUnavailableException e) {
        return false;
      }
    });
  }

  @Test
  void redisStopped_local_limitsOnThisGatewayAlone() {
    ManualClock clock = new ManualClock();
    Rate rate = Rate.parse("3/h");
    RateLimiter limiter = limiter(clock,
        new SharedLimits(LimitSync.exact(), SharedLimits.OnUnavailable.LOCAL));
    redis.stop();
    assertThat(limiter.tryAcquire("k", rate, 2).allowed()).isTrue();
    assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isTrue();
    assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isFalse();
  }

  @Test
  void open_whenRedisIsAway_failsAtStartNamingIt() {
    redis.stop();
    ManualClock clock = new ManualClock();
    JdbcStores database = sqlite(clock);
    SharedState shared = new SharedState(SharedLimits.DEFAULTS, settings(redis.url()));
    assertThatThrownBy(() -> RedisStores.wrap(shared, database, clock))
        .isInstanceOf(RedisStoreException.class)
        .hasMessageContaining("Cannot connect to Redis redis://127.0.0.1:" + redis.port());
  }

  @Test
  void wrap_withoutRedis_isTheDatabaseItself() {
    ManualClock clock = new ManualClock();
    try (JdbcStores database = sqlite(clock)) {
      assertThat(RedisStores.wrap(SharedState.DEFAULTS, database, clock)).isSameAs(database);
    }
  }

  @Test
  void killSwitch_savedThroughOneGateway_isAnnouncedToAnother() {
    ManualClock clock = new ManualClock();
    SharedState shared = new SharedState(SharedLimits.DEFAULTS, settings(redis.url()));
    // Two gateways on one SQLite file: SQLite has no notifications, so only Redis can tell.
    Stores a = RedisStores.wrap(shared, sqlite(clock), clock);
    opened.add(a);
    Stores b = RedisStores.wrap(shared, sqlite(clock), clock);
    opened.add(b);
    KillSwitchStore storeA = a.killSwitchStore().orElseThrow();
    KillSwitchStore storeB = b.killSwitchStore().orElseThrow();
    AtomicInteger announced = new AtomicInteger();
    try (KillSwitchStore.Watch watch = storeB.watch(announced::incrementAndGet)) {
      KillSwitch.State state =
          new KillSwitch.State("incident 42", Map.of(), Map.of(), Map.of());
      storeA.save(state);
      Conditions.await("the announcement to arrive", () -> announced.get() > 0);
      assertThat(storeB.load()).isEqualTo(state);
    }
  }

  @Test
  void auth_rightPasswordConnects_wrongOneFailsWithoutShowingIt() {
    redis.stop();
    redis = RedisServer.start("s3cret-pass");
    ManualClock clock = new ManualClock();
    RedisSettings wrong = new RedisSettings(redis.url(), null, "not-the-pass", null,
        Duration.ofSeconds(2), true);
    assertThatThrownBy(() -> RedisStores.open(wrong, Stores.none(), clock))
        .isInstanceOf(RedisStoreException.class)
        .hasMessageNotContaining("not-the-pass")
        .hasMessageNotContaining("s3cret-pass");
    RedisSettings right = new RedisSettings(redis.url(), null, "s3cret-pass", null,
        Duration.ofSeconds(2), true);
    RedisStores stores = RedisStores.open(right, Stores.none(), clock);
    opened.add(stores);
    assertThat(stores.rateLimiter().orElseThrow().tryAcquire("k", Rate.parse("1/min"), 1)
        .allowed()).isTrue();
    assertThat(stores.description()).doesNotContain("s3cret");
  }
}
