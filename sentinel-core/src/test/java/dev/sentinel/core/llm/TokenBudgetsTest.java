package dev.sentinel.core.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.core.RefusedException;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Token budgets: reserve max_tokens before forwarding, settle with the usage after. */
class TokenBudgetsTest {
  private static final Principal ALICE = Principal.of("alice", "developer");
  private static final Principal BOB = Principal.of("bob", "developer");
  private final ManualClock clock = new ManualClock();
  private final TokenBudgets budgets = TokenBudgets.of(List.of(new TokenBudget("daily",
      Rate.of(1000, Duration.ofDays(1)), Set.of(TokenBudget.Per.PRINCIPAL), null, null,
      List.of(Glob.name("gpt-*")))), LocalRateLimiter.create(clock));

  @Test
  void reservationThatCannotFit_isRefusedWithTheWait() {
    budgets.reserve(ALICE, "gpt-4o", 900).settle(900);
    RefusedException refused = catchThrowableOfType(RefusedException.class,
        () -> budgets.reserve(ALICE, "gpt-4o", 200));
    assertThat(refused.refusal().outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(refused.refusal().rules()).containsExactly("daily");
    assertThat(refused.refusal().retryAfter()).isPositive();
    // another principal has a bucket of its own; another model is outside the budget
    budgets.reserve(BOB, "gpt-4o", 200);
    budgets.reserve(ALICE, "claude", 5000);
  }

  @Test
  void perRole_theRolesMembersShareOneBudget() {
    TokenBudgets byRole = TokenBudgets.of(List.of(new TokenBudget("team-daily",
        Rate.of(1000, Duration.ofDays(1)), Set.of(TokenBudget.Per.ROLE), null, null, null)),
        LocalRateLimiter.create(clock));
    byRole.reserve(ALICE, "gpt-4o", 600).settle(600);
    RefusedException refused = catchThrowableOfType(RefusedException.class,
        () -> byRole.reserve(BOB, "gpt-4o", 600));
    assertThat(refused).as("bob shares alice's role, and its budget").isNotNull();
    assertThat(refused.refusal().rules()).containsExactly("team-daily");
    byRole.reserve(Principal.of("ian", "intern"), "gpt-4o", 700);
    // a caller in two roles takes from both budgets, or from neither: developer's 400 would do,
    // intern's 300 would not, so developer's part is given back
    Principal both = Principal.of("dana", "developer", "intern");
    assertThat(catchThrowableOfType(RefusedException.class,
        () -> byRole.reserve(both, "gpt-4o", 350))).isNotNull();
    assertThat(byRole.reserve(BOB, "gpt-4o", 400).remaining()).isZero();
  }

  @Test
  void principalsModelsAndRoles_thatSpellAnothersKey_neverShareItsBucket() {
    TokenBudgets perPrincipalAndModel = TokenBudgets.of(List.of(new TokenBudget("daily",
        Rate.of(1000, Duration.ofDays(1)), Set.of(TokenBudget.Per.PRINCIPAL, TokenBudget.Per.MODEL), null, null,
        null)), LocalRateLimiter.create(clock));
    // "ann" asking for "gpt:m:x" once spelled the key of "ann:m:gpt" asking for "x".
    perPrincipalAndModel.reserve(Principal.of("ann:m:gpt"), "x", 1000).settle(1000);
    assertThat(perPrincipalAndModel.reserve(Principal.of("ann"), "gpt:m:x", 1000).remaining()).isZero();
    perPrincipalAndModel.reserve(Principal.of("ann|m|gpt"), "x", 1000).settle(1000);
    assertThat(perPrincipalAndModel.reserve(Principal.of("ann"), "gpt|m|x", 1000).remaining()).isZero();

    TokenBudgets perRole = TokenBudgets.of(List.of(new TokenBudget("team",
        Rate.of(1000, Duration.ofDays(1)), Set.of(TokenBudget.Per.PRINCIPAL, TokenBudget.Per.ROLE), null, null,
        null)), LocalRateLimiter.create(clock));
    // "bo:r:ops" in role "dev" once spelled the key of "bo" in role "ops:r:dev" (roles come from
    // token claims too).
    perRole.reserve(Principal.of("bo:r:ops", "dev"), "gpt-4o", 1000).settle(1000);
    assertThat(perRole.reserve(Principal.of("bo", "ops:r:dev"), "gpt-4o", 1000).remaining()).isZero();
  }

  @Test
  void settle_givesBackTheUnused_andTakesTheExcess() {
    budgets.reserve(ALICE, "gpt-4o", 800).settle(100);
    assertThat(budgets.reserve(ALICE, "gpt-4o", 900).remaining()).isZero();
    TokenBudgets.Reservation more = budgets.reserve(BOB, "gpt-4o", 10);
    more.settle(600);
    assertThat(catchThrowableOfType(RefusedException.class,
        () -> budgets.reserve(BOB, "gpt-4o", 500))).isNotNull();
  }

  @Test
  void exhaustedBudget_refillsWithTime() {
    budgets.reserve(ALICE, "gpt-4o", 1000).settle(1000);
    assertThat(catchThrowableOfType(RefusedException.class,
        () -> budgets.reserve(ALICE, "gpt-4o", 100))).isNotNull();
    clock.advance(Duration.ofHours(12));
    assertThat(budgets.reserve(ALICE, "gpt-4o", 400).remaining()).isBetween(0L, 100L);
  }
}
