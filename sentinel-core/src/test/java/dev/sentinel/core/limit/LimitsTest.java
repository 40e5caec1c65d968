package dev.sentinel.core.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.api.Request;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.limit.LimitRule.Key;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LimitsTest {
  private static final Principal ALICE = Principal.of("alice", "dev");
  private static final Principal BOB = Principal.of("bob", "ops");
  private static final Request READ = Request.toolCall("fs", "read_file", null);
  private static final Request WRITE = Request.toolCall("fs", "write_file", null);

  private final ManualClock clock = new ManualClock();
  private final LocalRateLimiter limiter = LocalRateLimiter.create(clock);

  private static LimitRule rule(
      String id,
      String rate,
      Set<Key> per,
      List<String> tools,
      Set<String> backends,
      Set<String> principals,
      Set<String> roles,
      Set<String> methods) {
    List<Glob> globs = new ArrayList<>();
    tools.forEach(t -> globs.add(Glob.compile(t)));
    return new LimitRule(id, Rate.parse(rate), per, globs, backends, principals, roles, methods, 1);
  }

  private Limits limits(LimitRule... rules) {
    return Limits.of(List.of(rules), limiter);
  }

  @Test
  void perRole_theRolesMembersShareOneBucket_otherRolesHaveTheirOwn() {
    Limits limits = limits(LimitRule.of("per-role", Rate.parse("2/min"), Key.ROLE));
    Principal carol = Principal.of("carol", "dev");

    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
    assertThat(limits.acquire(carol, READ).allowed()).isTrue();
    // dev's bucket is empty, whoever of its members asks
    assertThat(limits.acquire(ALICE, READ).allowed()).isFalse();
    assertThat(limits.acquire(carol, WRITE).allowed()).isFalse();
    assertThat(limits.acquire(BOB, READ).allowed()).isTrue();
    clock.advance(Duration.ofMinutes(1));
    assertThat(limits.acquire(carol, READ).allowed()).isTrue();
  }

  @Test
  void perRole_aCallerWithSeveralRoles_takesFromEach_allOrNothing() {
    Limits limits = limits(rule("per-role", "1/min", Set.of(Key.ROLE), List.of(), Set.of(),
        Set.of(), Set.of("dev", "ops"), Set.of()));
    Principal both = Principal.of("dave", "dev", "ops", "reader");

    assertThat(limits.acquire(BOB, READ).allowed()).isTrue();
    // ops is empty: dave is refused, and dev's token he would have taken is given back
    LimitDecision refused = limits.acquire(both, READ);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.limits()).containsExactly("per-role");
    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
    // a caller holding none of the limit's roles is not under it
    assertThat(limits.acquire(Principal.of("erin", "reader"), READ).allowed()).isTrue();
    assertThat(limits.acquire(Principal.of("erin", "reader"), READ).allowed()).isTrue();
  }

  @Test
  void perRole_callersWithNoRole_shareOneBucket_andRoleKeysNeverMeetOtherKeys() {
    Limits limits = limits(LimitRule.of("per-role", Rate.parse("1/min"), Key.ROLE));
    assertThat(limits.acquire(Principal.of("anon-1"), READ).allowed()).isTrue();
    assertThat(limits.acquire(Principal.of("anon-2"), READ).allowed()).isFalse();
    // a role named like the no-role bucket, or like a principal, is a bucket of its own
    assertThat(limits.acquire(Principal.of("x", "\\-"), READ).allowed()).isTrue();
    Limits byPrincipal = limits(LimitRule.of("per-role", Rate.parse("1/min"), Key.PRINCIPAL));
    assertThat(byPrincipal.acquire(Principal.of("dev"), READ).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
  }

  @Test
  void none_allowsEverythingWithTheSharedDecision() {
    assertThat(Limits.none().acquire(ALICE, READ)).isSameAs(LimitDecision.unlimited());
    assertThat(Limits.none().rules()).isEmpty();
    assertThat(LimitDecision.unlimited().remaining()).isEqualTo(-1);
  }

  @Test
  void acquire_whenNoLimitApplies_isUnlimitedAndCreatesNoBucket() {
    Limits limits = limits(LimitRule.of("calls", Rate.parse("1/min")));
    assertThat(limits.acquire(ALICE, Request.of("ping"))).isSameAs(LimitDecision.unlimited());
    assertThat(limiter.size()).isZero();
  }

  @Test
  void acquire_parsedRate_respectsBurstThenRefills() {
    Limits limits =
        Limits.of(
            List.of(
                new LimitRule("calls", Rate.parse("2/10s").withBurst(3), Set.of(), List.of(),
                    Set.of(), Set.of(), Set.of(), Set.of(), 1)),
            limiter);
    assertThat(limits.acquire(ALICE, READ).remaining()).isEqualTo(2);
    assertThat(limits.acquire(ALICE, READ).remaining()).isEqualTo(1);
    assertThat(limits.acquire(ALICE, READ).remaining()).isZero();
    LimitDecision refused = limits.acquire(ALICE, READ);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.limits()).containsExactly("calls");
    assertThat(refused.retryAfter()).isEqualTo(Duration.ofSeconds(5));

    clock.advance(Duration.ofSeconds(5));
    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, READ).allowed()).isFalse();

    clock.advance(Duration.ofMinutes(10));
    for (int i = 0; i < 3; i++) {
      assertThat(limits.acquire(ALICE, READ)).isEqualTo(LimitDecision.allowed(2 - i));
    }
    assertThat(limits.acquire(ALICE, READ).allowed()).isFalse();
  }

  @Test
  void acquire_costTakesSeveralTokens() {
    Limits limits =
        limits(new LimitRule("heavy", Rate.parse("10/min"), Set.of(), List.of(), Set.of(),
            Set.of(), Set.of(), Set.of(), 4));
    assertThat(limits.acquire(ALICE, READ).remaining()).isEqualTo(6);
    assertThat(limits.acquire(ALICE, READ).remaining()).isEqualTo(2);
    assertThat(limits.acquire(ALICE, READ).allowed()).isFalse();
  }

  @Test
  void acquire_whenLaterLimitRefuses_refundsEarlierLimits() {
    LimitRule wide = LimitRule.of("wide", Rate.parse("10/min"));
    LimitRule narrow = LimitRule.of("narrow", Rate.parse("1/min"));
    Limits limits = limits(wide, narrow);

    LimitDecision first = limits.acquire(ALICE, READ);
    assertThat(first.allowed()).isTrue();
    assertThat(first.remaining()).isZero();
    for (int i = 0; i < 5; i++) {
      LimitDecision refused = limits.acquire(ALICE, READ);
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.limits()).containsExactly("narrow");
      assertThat(refused.retryAfter()).isEqualTo(Duration.ofMinutes(1));
    }
    // Only the first request's token is gone from the wide limit.
    assertThat(limits(wide).acquire(ALICE, READ).remaining()).isEqualTo(8);
  }

  @Test
  void acquire_allowed_reportsFewestRemaining() {
    Limits limits =
        limits(LimitRule.of("a", Rate.parse("10/min")), LimitRule.of("b", Rate.parse("4/min")));
    LimitDecision decision = limits.acquire(ALICE, READ);
    assertThat(decision).isEqualTo(new LimitDecision(true, List.of(), 3, Duration.ZERO));
  }

  @Test
  void acquire_whenLimiterThrows_refusesAndRefunds() {
    RateLimiter failing =
        new RateLimiter() {
          @Override
          public RateLimitResult tryAcquire(String key, Rate rate, long cost) {
            if (key.startsWith("broken")) {
              throw new IllegalStateException("database down");
            }
            return limiter.tryAcquire(key, rate, cost);
          }

          @Override
          public void refund(String key, Rate rate, long cost) {
            limiter.refund(key, rate, cost);
          }
        };
    LimitRule ok = LimitRule.of("ok", Rate.parse("5/min"));
    Limits limits = Limits.of(List.of(ok, LimitRule.of("broken", Rate.parse("5/min"))), failing);
    LimitDecision decision = limits.acquire(ALICE, READ);
    assertThat(decision.allowed()).isFalse();
    assertThat(decision.limits()).containsExactly("broken");
    assertThat(decision.retryAfter()).isPositive();
    assertThat(limits(ok).acquire(ALICE, READ).remaining()).isEqualTo(4);
  }

  @Test
  void acquire_perPrincipal_isolatesCallers() {
    Limits limits = limits(LimitRule.of("per-caller", Rate.parse("1/min"), Key.PRINCIPAL));
    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, WRITE).allowed()).isFalse();
    assertThat(limits.acquire(BOB, READ).allowed()).isTrue();
    assertThat(limiter.size()).isEqualTo(2);
  }

  @Test
  void acquire_perPrincipalAndTool_oneBucketEach() {
    Limits limits =
        limits(LimitRule.of("per-caller-tool", Rate.parse("1/min"), Key.PRINCIPAL, Key.TOOL));
    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, READ).allowed()).isFalse();
    assertThat(limits.acquire(ALICE, WRITE).allowed()).isTrue();
    assertThat(limits.acquire(BOB, READ).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, Request.toolCall("git", "read_file", null)).allowed()).isTrue();
  }

  @Test
  void acquire_perBackend_sharedByToolsOfOneBackend() {
    Limits limits = limits(LimitRule.of("per-backend", Rate.parse("1/min"), Key.BACKEND));
    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
    assertThat(limits.acquire(BOB, WRITE).allowed()).isFalse();
    assertThat(limits.acquire(ALICE, Request.toolCall("git", "log", null)).allowed()).isTrue();
  }

  @Test
  void acquire_global_sharedByEveryone() {
    Limits limits = limits(LimitRule.of("global", Rate.parse("2/min")));
    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
    assertThat(limits.acquire(BOB, WRITE).allowed()).isTrue();
    assertThat(limits.acquire(Principal.ANONYMOUS, Request.toolCall("git", "log", null)).allowed())
        .isFalse();
    assertThat(limiter.size()).isEqualTo(1);
  }

  @Test
  void acquire_valuesHoldingSeparators_doNotShareBuckets() {
    Limits limits = limits(LimitRule.of("k", Rate.parse("1/min"), Key.PRINCIPAL, Key.TOOL));
    assertThat(limits.acquire(Principal.of("a|b"), Request.toolCall("c", "d", null)).allowed())
        .isTrue();
    assertThat(limits.acquire(Principal.of("a"), Request.toolCall("b|c", "d", null)).allowed())
        .isTrue();
    assertThat(limits.acquire(Principal.of("a\\"), Request.toolCall("|c", "d", null)).allowed())
        .isTrue();
    assertThat(limits.acquire(Principal.of("a"), Request.toolCall("b", "c|d", null)).allowed())
        .isTrue();
    assertThat(limiter.size()).isEqualTo(4);
  }

  @Test
  void acquire_nullBackendAndNames_keyApart() {
    Limits limits =
        limits(rule("k", "1/min", Set.of(Key.TOOL), List.of(), Set.of(), Set.of(), Set.of(),
            Set.of("ping")));
    assertThat(limits.acquire(ALICE, Request.of("ping")).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, new Request("ping", "", "", null)).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, new Request("ping", "\\-", "\\-", null)).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, Request.of("ping")).allowed()).isFalse();
  }

  @Test
  void acquire_afterReloadWithNewRate_usesFreshBuckets() {
    assertThat(limits(LimitRule.of("calls", Rate.parse("1/min"))).acquire(ALICE, READ).allowed())
        .isTrue();
    assertThat(limits(LimitRule.of("calls", Rate.parse("1/min"))).acquire(ALICE, READ).allowed())
        .isFalse();
    assertThat(limits(LimitRule.of("calls", Rate.parse("2/min"))).acquire(ALICE, READ).allowed())
        .isTrue();
  }

  @Test
  void acquire_toolFilter_matchesGlobs() {
    Limits limits =
        limits(rule("writes", "1/min", Set.of(), List.of("*write*", "delete_?"), Set.of(),
            Set.of(), Set.of(), Set.of()));
    assertThat(limits.acquire(ALICE, READ)).isSameAs(LimitDecision.unlimited());
    assertThat(limits.acquire(ALICE, WRITE).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, Request.toolCall("fs", "delete_x", null)).allowed()).isFalse();
    assertThat(limits.acquire(ALICE, Request.toolCall("fs", "delete_xy", null)))
        .isSameAs(LimitDecision.unlimited());
  }

  @Test
  void acquire_backendFilter() {
    Limits limits =
        limits(rule("fs", "1/min", Set.of(), List.of(), Set.of("fs"), Set.of(), Set.of(), Set.of()));
    assertThat(limits.acquire(ALICE, Request.toolCall("git", "log", null)))
        .isSameAs(LimitDecision.unlimited());
    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, READ).allowed()).isFalse();
  }

  @Test
  void acquire_principalFilter() {
    Limits limits =
        limits(rule("bob", "1/min", Set.of(), List.of(), Set.of(), Set.of("bob"), Set.of(),
            Set.of()));
    assertThat(limits.acquire(ALICE, READ)).isSameAs(LimitDecision.unlimited());
    assertThat(limits.acquire(BOB, READ).allowed()).isTrue();
    assertThat(limits.acquire(BOB, READ).allowed()).isFalse();
  }

  @Test
  void acquire_roleFilter_anyRoleMatches() {
    Limits limits =
        limits(rule("interns", "1/min", Set.of(), List.of(), Set.of(), Set.of(),
            Set.of("intern", "ops"), Set.of()));
    assertThat(limits.acquire(ALICE, READ)).isSameAs(LimitDecision.unlimited());
    assertThat(limits.acquire(BOB, READ).allowed()).isTrue();
    assertThat(limits.acquire(Principal.of("carol", "intern"), READ).allowed()).isFalse();
  }

  @Test
  void acquire_methodFilter_defaultsToToolCalls() {
    Limits limits =
        limits(
            LimitRule.of("calls", Rate.parse("1/min")),
            rule("reads", "1/min", Set.of(), List.of(), Set.of(), Set.of(), Set.of(),
                Set.of(Request.RESOURCES_READ)));
    Request resource = new Request(Request.RESOURCES_READ, "fs", "file:///a", null);
    assertThat(limits.acquire(ALICE, resource).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, resource).limits()).containsExactly("reads");
    assertThat(limits.acquire(ALICE, READ).allowed()).isTrue();
    assertThat(limits.acquire(ALICE, READ).limits()).containsExactly("calls");
  }

  @Test
  void of_duplicateIds_areRejected() {
    assertThatThrownBy(
            () -> limits(LimitRule.of("x", Rate.parse("1/s")), LimitRule.of("x", Rate.parse("2/s"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'x'");
  }

  @Test
  void rules_areKeptInOrder() {
    LimitRule a = LimitRule.of("a", Rate.parse("1/s"));
    LimitRule b = LimitRule.of("b", Rate.parse("1/s"));
    assertThat(limits(b, a).rules()).containsExactly(b, a);
  }

  @Test
  void limitDecision_validates() {
    assertThatThrownBy(() -> new LimitDecision(false, List.of(), 0, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LimitDecision(true, List.of("a"), 0, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LimitDecision(true, List.of(), -2, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void acquire_manyThreadsAcrossTwoLimits_admitExactlyTheNarrowerAndRefundTheRest()
      throws Exception {
    LimitRule wide = LimitRule.of("wide", Rate.of(1_000, Duration.ofHours(1)));
    LimitRule narrow = LimitRule.of("narrow", Rate.of(100, Duration.ofHours(1)));
    Limits limits = limits(wide, narrow);
    int threads = 8;
    int attempts = 1_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Callable<Integer>> tasks = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Principal caller = Principal.of("caller-" + t);
        tasks.add(() -> {
          int admitted = 0;
          for (int i = 0; i < attempts; i++) {
            if (limits.acquire(caller, READ).allowed()) {
              admitted++;
            }
          }
          return admitted;
        });
      }
      int total = 0;
      for (Future<Integer> future : pool.invokeAll(tasks)) {
        total += future.get();
      }
      assertThat(total).isEqualTo(100);
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(1, TimeUnit.MINUTES);
    }
    // Every refusal by the narrow limit gave its wide token back.
    assertThat(limits(wide).acquire(ALICE, READ).remaining()).isEqualTo(899);
  }
}
