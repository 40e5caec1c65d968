package dev.sentinel.core.llm;

import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.api.Refusal;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.limit.Limits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The token budgets of the LLM route on a {@link RateLimiter} (the gateway's: local, or shared
 * through a database). A request {@linkplain #reserve reserves} its {@code max_tokens} from every
 * budget that applies before it is forwarded; when its usage is known it {@linkplain
 * Reservation#settle settles}: the tokens it did not use are given back, and those it used beyond
 * the reservation are taken (as far as the buckets hold them: a bucket never goes below empty).
 *
 * <p>Thread-safe as the limiter is.
 */
public final class TokenBudgets {
  private static final String KEY_PREFIX = "llm-tokens:";
  private final List<TokenBudget> budgets;
  private final RateLimiter limiter;

  private TokenBudgets(List<TokenBudget> budgets, RateLimiter limiter) {
    this.budgets = List.copyOf(budgets);
    this.limiter = Objects.requireNonNull(limiter, "limiter");
  }

  /** Budgets on a limiter. */
  public static TokenBudgets of(List<TokenBudget> budgets, RateLimiter limiter) {
    return new TokenBudgets(budgets, limiter);
  }

  /** Whether any budget is configured. */
  public boolean any() {
    return !budgets.isEmpty();
  }

  /**
   * Takes {@code tokens} from every budget that applies to the principal and model, all or none.
   *
   * @return the reservation to settle
   * @throws dev.sentinel.core.RefusedException when a budget cannot give them: {@code LIMITED},
   *     naming the budget, with its refill wait
   */
  public Reservation reserve(Principal principal, String model, long tokens) {
    List<Taken> taken = new ArrayList<>();
    for (TokenBudget budget : budgets) {
      if (!applies(budget, principal, model)) {
        continue;
      }
      for (String key : keys(budget, principal, model)) {
        RateLimitResult result = limiter.tryAcquire(key, budget.rate(), Math.max(1, tokens));
        if (!result.allowed()) {
          for (Taken t : taken) {
            limiter.refund(t.key, t.budget.rate(), t.tokens);
          }
          // A request larger than the bucket never fits: say so, and wait no longer than a period.
          Duration wait = result.retryAfter().compareTo(budget.rate().period()) > 0
              ? budget.rate().period() : result.retryAfter();
          String why = Math.max(1, tokens) > budget.rate().burst()
              ? "the request may use " + Math.max(1, tokens)
                  + " tokens, more than the token budget '" + budget.id() + "' ever holds (" + budget.rate().burst() + "); lower max_tokens"
              : "the token budget '" + budget.id() + "' cannot give the " + Math.max(1, tokens)
                  + " tokens this request may use (" + result.remaining() + " left)";
          throw new dev.sentinel.core.RefusedException(
              new Refusal(Outcome.LIMITED, List.of(budget.id()), why, wait));
        }
        taken.add(new Taken(budget, key, Math.max(1, tokens), result.remaining()));
      }
    }
    return new Reservation(taken);
  }

  private static boolean applies(TokenBudget budget, Principal principal, String model) {
    if (budget.roles() != null && budget.roles().stream().noneMatch(principal.roles()::contains)) {
      return false;
    }
    if (budget.principals() != null && !matchesAny(budget.principals(), principal.id())) {
      return false;
    }
    return budget.models() == null || matchesAny(budget.models(), model);
  }

  private static boolean matchesAny(List<Glob> globs, String value) {
    for (Glob glob : globs) {
      if (glob.matches(value)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The buckets a request takes from: one, or with {@code per: role} one per role the caller
   * holds (of the budget's roles, when it names some; one shared by callers holding none).
   */
  private static List<String> keys(TokenBudget budget, Principal principal, String model) {
    // Each part escaped and '|'-separated, as the request limits' keys are: no principal, model
    // or role can spell a key of another's bucket.
    StringBuilder key = new StringBuilder(KEY_PREFIX);
    Limits.escape(key, budget.id());
    if (budget.per().contains(TokenBudget.Per.PRINCIPAL)) {
      Limits.escape(key.append("|p|"), principal.id());
    }
    if (budget.per().contains(TokenBudget.Per.MODEL)) {
      Limits.escape(key.append("|m|"), model);
    }
    if (!budget.per().contains(TokenBudget.Per.ROLE)) {
      return List.of(key.toString());
    }
    java.util.TreeSet<String> roles = new java.util.TreeSet<>(principal.roles());
    if (budget.roles() != null) {
      roles.retainAll(budget.roles());
    }
    if (roles.isEmpty()) {
      // "|n" is no "|r|" key: callers without a role never meet a role's bucket
      return List.of(key.append("|n").toString());
    }
    List<String> out = new ArrayList<>(roles.size());
    for (String role : roles) {
      StringBuilder roleKey = new StringBuilder(key).append("|r|");
      Limits.escape(roleKey, role);
      out.add(roleKey.toString());
    }
    return out;
  }

  private record Taken(TokenBudget budget, String key, long tokens, long remaining) {}

  /** Tokens taken for one request, to settle when its usage is known. Not thread-safe. */
  public final class Reservation {
    private final List<Taken> taken;
    private boolean settled;

    private Reservation(List<Taken> taken) {
      this.taken = taken;
    }

    /** The least tokens left in a budget that applied after the reservation, or -1 for none. */
    public long remaining() {
      long least = -1;
      for (Taken t : taken) {
        least = least < 0 ? t.remaining : Math.min(least, t.remaining);
      }
      return least;
    }

    /**
     * Gives back what the request did not use, or takes what it used beyond the reservation.
     * Once; later calls do nothing. A negative {@code used} (unknown) keeps the reservation.
     */
    public void settle(long used) {
      if (settled || used < 0) {
        settled = true;
        return;
      }
      settled = true;
      for (Taken t : taken) {
        long difference = used - t.tokens;
        if (difference < 0) {
          limiter.refund(t.key, t.budget.rate(), -difference);
        } else if (difference > 0) {
          // Best effort: the tokens are spent whether or not the bucket still holds them.
          RateLimitResult more = limiter.tryAcquire(t.key, t.budget.rate(), difference);
          if (!more.allowed() && more.remaining() > 0) {
            limiter.tryAcquire(t.key, t.budget.rate(), more.remaining());
          }
        }
      }
    }
  }
}
