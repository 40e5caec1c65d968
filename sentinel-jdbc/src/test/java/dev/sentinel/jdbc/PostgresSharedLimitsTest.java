package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.api.Request;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.limit.LimitSync;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.SharedLimitUnavailableException;
import dev.sentinel.core.limit.SharedLimits;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Shared limits as a fleet sees them: several limiters on one real PostgreSQL (each on a {@link
 * Database} of its own, as separate gateway processes), many threads each, in every sync mode;
 * and a database that goes away and comes back.
 */
class PostgresSharedLimitsTest {
  private static final int GATEWAYS = 4;
  private static final int THREADS_PER_GATEWAY = 4;
  private static final int ATTEMPTS_PER_THREAD = 40;

  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  private final List<Database> databases = new ArrayList<>();

  @AfterEach
  void closeDatabases() {
    databases.forEach(Database::close);
  }

  private PostgresRateLimiter gateway(String url, ManualClock clock, SharedLimits limits) {
    Database db = Database.builder(url).clock(clock).open();
    databases.add(db);
    return PostgresRateLimiter.create(db, clock, limits);
  }

  private static SharedLimits sync(LimitSync sync) {
    return new SharedLimits(sync, SharedLimits.OnUnavailable.DENY);
  }

  /** Every gateway's threads hammer one key at once; answers how many calls were admitted. */
  private static int hammer(List<? extends RateLimiter> gateways, Rate rate) throws Exception {
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

  private List<PostgresRateLimiter> fleet(String url, ManualClock clock, LimitSync sync) {
    List<PostgresRateLimiter> fleet = new ArrayList<>();
    for (int g = 0; g < GATEWAYS; g++) {
      fleet.add(gateway(url, clock, sync(sync)));
    }
    return fleet;
  }

  @Test
  void perRole_membersOnDifferentGateways_shareTheRolesBucket() {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    List<PostgresRateLimiter> fleet = fleet(url, clock, LimitSync.exact());
    LimitRule team = LimitRule.of("team", Rate.parse("3/h"), LimitRule.Key.ROLE);
    Limits a = Limits.of(List.of(team), fleet.get(0));
    Limits b = Limits.of(List.of(team), fleet.get(1));
    Request call = Request.toolCall("db", "query", null);
    Principal alice = Principal.of("alice", "developer");
    Principal carol = Principal.of("carol", "developer");

    assertThat(a.acquire(alice, call).allowed()).isTrue();
    assertThat(a.acquire(alice, call).allowed()).isTrue();
    assertThat(b.acquire(carol, call).allowed()).isTrue();
    // the developers' three are spent, on whichever gateway and by whichever member
    assertThat(b.acquire(carol, call).allowed()).isFalse();
    assertThat(a.acquire(alice, call).allowed()).isFalse();
    assertThat(b.acquire(Principal.of("bob", "ops"), call).allowed()).isTrue();
  }

  @Test
  void exact_fourGatewaysManyThreads_admitExactlyTheLimit() throws Exception {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    Rate rate = Rate.parse("60/h");
    List<PostgresRateLimiter> fleet = fleet(url, clock, LimitSync.exact());

    assertThat(hammer(fleet, rate)).isEqualTo(60);
    for (PostgresRateLimiter gateway : fleet) {
      assertThat(gateway.tryAcquire("shared", rate, 1).allowed()).isFalse();
    }
  }

  @Test
  void batched_fourGatewaysManyThreads_overAdmitAtMostTheBound_andTheExcessIsCharged()
      throws Exception {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    Rate rate = Rate.parse("60/h");
    LimitSync sync = LimitSync.batched(5);
    List<PostgresRateLimiter> fleet = fleet(url, clock, sync);

    int admitted = hammer(fleet, rate);

    long bound = sync.maxOverAdmission(rate, GATEWAYS);
    assertThat(bound).isEqualTo(15);
    assertThat(admitted).isBetween(60, 60 + (int) bound);
    fleet.forEach(PostgresRateLimiter::flush);
    // Every admitted call was charged to the stored bucket: after an hour's refill (60 tokens),
    // an exact gateway finds exactly what the excess left of it.
    PostgresRateLimiter exact = gateway(url, clock, SharedLimits.DEFAULTS);
    clock.advance(Duration.ofHours(1));
    int left = 0;
    while (exact.tryAcquire("shared", rate, 1).allowed()) {
      left++;
    }
    assertThat(left).isEqualTo(60 - (admitted - 60));
  }

  @Test
  void delayed_fourGatewaysManyThreads_overAdmitAtMostTheBound() throws Exception {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    Rate rate = Rate.parse("20/h");
    LimitSync sync = LimitSync.delayed(Duration.ofSeconds(1));
    List<PostgresRateLimiter> fleet = fleet(url, clock, sync);

    int admitted = hammer(fleet, rate);

    // Each gateway may take a whole bucket the others do not see (the clock stands still).
    assertThat(sync.maxOverAdmission(rate, GATEWAYS)).isEqualTo(3 * (20 + 1));
    assertThat(admitted).isBetween(20, 20 + 3 * 20);
  }

  /** A limit on calls to one backend, kept in step as {@code sync} says (null: the default). */
  private static LimitRule onBackend(String id, String backend, Rate rate, LimitSync sync) {
    return new LimitRule(id, rate, Set.of(), List.of(), Set.of(backend), Set.of(), Set.of(),
        Set.of(), 1, sync);
  }

  @Test
  void ownSync_exactLimitStaysExactWhileABatchedNeighbourBatches() {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    Rate rate = Rate.parse("60/h");
    List<LimitRule> rules = List.of(onBackend("money", "pay", rate, LimitSync.exact()),
        onBackend("reads", "db", rate, null));
    Limits batched = Limits.of(rules, gateway(url, clock, sync(LimitSync.batched(5))));
    Principal alice = Principal.of("alice");
    Request pay = Request.toolCall("pay", "send", null);
    Request read = Request.toolCall("db", "query", null);
    for (int i = 0; i < 3; i++) {
      assertThat(batched.acquire(alice, pay).allowed()).isTrue();
      assertThat(batched.acquire(alice, read).allowed()).isTrue();
    }

    // Another gateway, exact, drains both buckets: every payment was written as it was taken;
    // of the reads, only the first (which read the bucket) was, the other two wait on the
    // batched gateway.
    Limits exact = Limits.of(rules, gateway(url, clock, SharedLimits.DEFAULTS));
    assertThat(drain(exact, alice, pay)).isEqualTo(57);
    assertThat(drain(exact, alice, read)).isEqualTo(59);
  }

  @Test
  void ownSync_exactLimitOnBatchedGateways_fourGatewaysManyThreads_admitExactlyTheLimit()
      throws Exception {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    Rate rate = Rate.parse("60/h");
    List<LimitRule> rules = List.of(onBackend("money", "pay", rate, LimitSync.exact()));
    List<PostgresRateLimiter> fleet = fleet(url, clock, LimitSync.batched(5));
    List<RateLimiter> views = new ArrayList<>();
    for (PostgresRateLimiter gateway : fleet) {
      Limits limits = Limits.of(rules, gateway);
      Principal alice = Principal.of("alice");
      Request pay = Request.toolCall("pay", "send", null);
      views.add(new RateLimiter() {
        @Override
        public dev.sentinel.api.RateLimitResult tryAcquire(String key, Rate r, long cost) {
          return limits.acquire(alice, pay).allowed()
              ? dev.sentinel.api.RateLimitResult.allowed(0)
              : dev.sentinel.api.RateLimitResult.refused(0, Duration.ZERO);
        }

        @Override
        public void refund(String key, Rate r, long cost) {}
      });
    }

    assertThat(hammer(views, rate)).isEqualTo(60);
  }

  private static int drain(Limits limits, Principal principal, Request request) {
    int n = 0;
    while (limits.acquire(principal, request).allowed()) {
      n++;
    }
    return n;
  }

  @Test
  void batched_aloneOnTheDatabase_isExact() throws Exception {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    Rate rate = Rate.parse("60/h");
    assertThat(hammer(List.of(gateway(url, clock, sync(LimitSync.batched(7)))), rate))
        .isEqualTo(60);
  }

  @Test
  void close_writesWhatABatchedGatewayTookButHadNotWritten() {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    Rate rate = Rate.parse("10/h");
    PostgresRateLimiter observer = gateway(url, clock, SharedLimits.DEFAULTS);
    JdbcStores batched = JdbcStores.open(DatabaseSettings.of(url, null, null), clock);
    RateLimiter limiter = batched.rateLimiter(sync(LimitSync.batched(5))).orElseThrow();
    assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isTrue(); // read the bucket: a write
    assertThat(limiter.tryAcquire("k", rate, 3).allowed()).isTrue(); // kept on the gateway

    batched.close();

    // 10 - 1 - 3 = 6 tokens left in the stored bucket.
    assertThat(observer.tryAcquire("k", rate, 6).allowed()).isTrue();
    assertThat(observer.tryAcquire("k", rate, 1).allowed()).isFalse();
  }

  @Test
  void jdbcStores_rateLimiterWithOtherSettings_isRefused() {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    try (JdbcStores stores = JdbcStores.open(DatabaseSettings.of(url, null, null), clock)) {
      assertThat(stores.rateLimiter(sync(LimitSync.batched(5)))).isPresent();
      assertThatThrownBy(() -> stores.rateLimiter(SharedLimits.DEFAULTS))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("exists already");
    }
  }

  @Test
  void databaseAway_deny_refusesEveryCall_andRecoversWhenItIsBack() {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    Rate rate = Rate.parse("100/h");
    PostgresRateLimiter limiter = gateway(url + "&connectTimeout=2", clock, SharedLimits.DEFAULTS);
    assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isTrue();

    postgres.refuseConnections(url);
    try {
      // The first call waits for the pool, fails and is refused; the next ones fail at once.
      assertThatThrownBy(() -> {
        for (int i = 0; i < 3; i++) {
          limiter.tryAcquire("k", rate, 1);
        }
      }).isInstanceOf(SharedLimitUnavailableException.class)
          .hasMessageContaining("PostgreSQL")
          .hasMessageNotContaining("password");
      assertThatThrownBy(() -> limiter.tryAcquire("k", rate, 1))
          .isInstanceOf(SharedLimitUnavailableException.class)
          .hasMessageContaining("unavailable");
    } finally {
      postgres.allowConnections(url);
    }
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
  void databaseAway_local_limitsOnThisGatewayAlone() {
    ManualClock clock = new ManualClock();
    String url = postgres.newDatabase();
    Rate rate = Rate.parse("3/h");
    PostgresRateLimiter limiter = gateway(url + "&connectTimeout=2", clock,
        new SharedLimits(LimitSync.exact(), SharedLimits.OnUnavailable.LOCAL));
    assertThat(limiter.tryAcquire("k", rate, 3).allowed()).isTrue();

    postgres.refuseConnections(url);
    try {
      // A bucket of this process alone, full at first: the stored one's state is out of reach.
      assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isTrue();
      assertThat(limiter.tryAcquire("k", rate, 2).allowed()).isTrue();
      assertThat(limiter.tryAcquire("k", rate, 1).allowed()).isFalse();
    } finally {
      postgres.allowConnections(url);
    }
    // Back on the stored bucket, which is empty.
    Conditions.await("the shared limit to be used again", () -> {
      clock.advance(Duration.ofMillis(1001));
      try {
        return !limiter.tryAcquire("other", rate, 1).allowed() || storedBucketUsed(limiter, rate);
      } catch (RuntimeException e) {
        return false;
      }
    });
  }

  /** Whether the limiter answers from the stored bucket of key k (empty) rather than locally. */
  private static boolean storedBucketUsed(PostgresRateLimiter limiter, Rate rate) {
    return !limiter.tryAcquire("k", rate, 1).allowed();
  }
}
