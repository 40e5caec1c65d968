package dev.sentinel.core.limit;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.api.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A set of {@link LimitRule}s applied together to each request: every rule whose
 * {@link LimitRule#appliesTo} holds takes its cost from its bucket, and all must admit the
 * request.
 *
 * <p>All-or-nothing: rules are acquired in order, and at the first refusal the tokens already
 * taken for this request are refunded and the rest are not tried, so a refused request spends
 * nothing. The refusal names that one limit and its wait; once the wait is over a later limit
 * may still refuse. A limiter that throws counts as a refusal (deciders fail closed).
 *
 * <p>Bucket keys are the limit id, a fingerprint of its rate (so a reloaded limit with a new rate
 * starts with fresh buckets), and the values it is keyed by, escaped so that values holding the
 * separator cannot collide. A global limit's key is computed once. A limit keyed by role has a
 * bucket per role: a request takes from each of its caller's (see {@link LimitRule.Key#ROLE}),
 * all or none; the role is marked with {@code \r}, which no escaped value contains, so that a
 * role's bucket never meets a principal's of the same name.
 *
 * <p>Immutable and thread-safe, given a thread-safe limiter.
 */
public final class Limits {
  /** The wait reported when the limiter failed rather than refused. */
  private static final Duration FAILURE_RETRY_AFTER = Duration.ofSeconds(1);
  private static final Limits NONE = new Limits(List.of(), new Bound[0], null);

  private final List<LimitRule> rules;
  private final Bound[] bound;
  private final @Nullable RateLimiter limiter;

  private Limits(List<LimitRule> rules, Bound[] bound, @Nullable RateLimiter limiter) {
    this.rules = rules;
    this.bound = bound;
    this.limiter = limiter;
  }

  /** No limits: every request is allowed at no cost. */
  public static Limits none() {
    return NONE;
  }

  /**
   * The given limits on the given limiter.
   *
   * @throws IllegalArgumentException if two limits share an id
   */
  public static Limits of(List<LimitRule> rules, RateLimiter limiter) {
    List<LimitRule> copy = List.copyOf(rules);
    Objects.requireNonNull(limiter, "limiter");
    Set<String> ids = new HashSet<>();
    Bound[] bound = new Bound[copy.size()];
    for (int i = 0; i < bound.length; i++) {
      LimitRule rule = copy.get(i);
      if (!ids.add(rule.id())) {
        throw new IllegalArgumentException("limit id '" + rule.id() + "' is used more than once");
      }
      bound[i] = new Bound(rule, limiter);
    }
    return new Limits(copy, bound, limiter);
  }

  /**
   * Takes tokens for the request from every applicable limit, or from none of them.
   *
   * @return {@link LimitDecision#unlimited()} when no limit applies
   */
  public LimitDecision acquire(Principal principal, Request request) {
    Bound[] all = bound;
    long remaining = Long.MAX_VALUE;
    for (int i = 0; i < all.length; i++) {
      Bound limit = all[i];
      if (!limit.rule.appliesTo(principal, request)) {
        continue;
      }
      if (limit.byRole) {
        String[] keys = limit.roleKeys(principal, request);
        for (int k = 0; k < keys.length; k++) {
          RateLimitResult result = tryAcquire(keys[k], limit);
          remaining = Math.min(remaining, result.remaining());
          if (!result.allowed()) {
            for (int taken = 0; taken < k; taken++) {
              refund(keys[taken], limit);
            }
            refundBefore(i, principal, request);
            return LimitDecision.refused(limit.rule.id(), remaining, result.retryAfter());
          }
        }
        continue;
      }
      RateLimitResult result;
      try {
        result = limit.limiter.tryAcquire(limit.key(principal, request), limit.rule.rate(),
            limit.rule.cost());
      } catch (RuntimeException e) {
        result = RateLimitResult.refused(0, FAILURE_RETRY_AFTER);
      }
      remaining = Math.min(remaining, result.remaining());
      if (!result.allowed()) {
        refundBefore(i, principal, request);
        return LimitDecision.refused(limit.rule.id(), remaining, result.retryAfter());
      }
    }
    return remaining == Long.MAX_VALUE ? LimitDecision.unlimited() : LimitDecision.allowed(remaining);
  }

  private static RateLimitResult tryAcquire(String key, Bound limit) {
    try {
      return limit.limiter.tryAcquire(key, limit.rule.rate(), limit.rule.cost());
    } catch (RuntimeException e) {
      return RateLimitResult.refused(0, FAILURE_RETRY_AFTER);
    }
  }

  private static void refund(String key, Bound limit) {
    try {
      limit.limiter.refund(key, limit.rule.rate(), limit.rule.cost());
    } catch (RuntimeException e) {
      // The tokens stay spent: the request is refused either way.
    }
  }

  /** The limits, in the order they are acquired. */
  public List<LimitRule> rules() {
    return rules;
  }

  /**
   * Refunds the applicable limits before index {@code end}: exactly those acquire took. Keys are
   * recomputed (rules are immutable, so they apply and key the same way) to keep the allowed path
   * free of bookkeeping.
   */
  private void refundBefore(int end, Principal principal, Request request) {
    for (int i = 0; i < end; i++) {
      Bound limit = bound[i];
      if (limit.byRole && limit.rule.appliesTo(principal, request)) {
        for (String key : limit.roleKeys(principal, request)) {
          refund(key, limit);
        }
      } else if (limit.rule.appliesTo(principal, request)) {
        try {
          limit.limiter.refund(limit.key(principal, request), limit.rule.rate(), limit.rule.cost());
        } catch (RuntimeException e) {
          // The tokens stay spent: the request is refused either way.
        }
      }
    }
  }

  /** The parts a bucket key is made of, as a cache key. */
  private record KeyParts(@Nullable String principal, @Nullable String backend, @Nullable String tool) {}

  /**
   * A rule with its key prefix precomputed, and a bounded cache of the keys it built: returning
   * the same String instance lets the limiter's map use its cached hash and an identity check
   * instead of hashing and comparing a new string on every call.
   */
  private static final class Bound {
    private static final int MAX_CACHED_KEYS = 10_000;

    final LimitRule rule;
    /** The limiter, in this limit's own sync mode when it names one and the store is shared. */
    final RateLimiter limiter;
    final String prefix;
    final ConcurrentHashMap<Object, String> keys = new ConcurrentHashMap<>();
    final boolean byPrincipal;
    final boolean byBackend;
    final boolean byTool;
    final boolean byRole;

    Bound(LimitRule rule, RateLimiter limiter) {
      this.rule = rule;
      this.limiter = rule.sync() != null && limiter instanceof SharedStoreLimiter shared
          ? shared.withSync(rule.sync()) : limiter;
      this.byRole = rule.per().contains(LimitRule.Key.ROLE);
      this.byPrincipal = rule.per().contains(LimitRule.Key.PRINCIPAL);
      this.byTool = rule.per().contains(LimitRule.Key.TOOL);
      // A tool is qualified by its backend, so TOOL implies the backend.
      this.byBackend = byTool || rule.per().contains(LimitRule.Key.BACKEND);
      StringBuilder key = new StringBuilder();
      escape(key, rule.id());
      key.append('|').append(fingerprint(rule.rate()));
      this.prefix = key.toString();
    }

    String key(Principal principal, Request request) {
      if (!byPrincipal && !byBackend) {
        return prefix;
      }
      Object parts = byBackend
          ? new KeyParts(byPrincipal ? principal.id() : null, request.backend(), byTool ? request.name() : null)
          : principal.id();
      String key = keys.get(parts);
      if (key == null) {
        key = build(principal, request);
        if (keys.size() >= MAX_CACHED_KEYS) {
          keys.clear();
        }
        keys.put(parts, key);
      }
      return key;
    }

    /**
     * The keys of the role buckets a request takes from: one per role the caller holds (of the
     * limit's roles, when it names some), in name order; one for callers holding none.
     */
    String[] roleKeys(Principal principal, Request request) {
      java.util.TreeSet<String> roles = new java.util.TreeSet<>(principal.roles());
      if (!rule.roles().isEmpty()) {
        roles.retainAll(rule.roles());
      }
      String base = build(principal, request) + "|\\r";
      if (roles.isEmpty()) {
        StringBuilder key = new StringBuilder(base);
        escape(key, null);
        return new String[] {key.toString()};
      }
      String[] out = new String[roles.size()];
      int i = 0;
      for (String role : roles) {
        StringBuilder key = new StringBuilder(base);
        escape(key, role);
        out[i++] = key.toString();
      }
      return out;
    }

    private String build(Principal principal, Request request) {
      StringBuilder key = new StringBuilder(prefix.length() + 48).append(prefix);
      if (byPrincipal) {
        escape(key.append('|'), principal.id());
      }
      if (byBackend) {
        escape(key.append('|'), request.backend());
      }
      if (byTool) {
        escape(key.append('|'), request.name());
      }
      return key.toString();
    }

    private static String fingerprint(Rate rate) {
      return rate.permits() + "/" + rate.period() + "/" + rate.burst();
    }
  }

  /**
   * Appends the value with {@code \} and {@code |} escaped by a {@code \}; {@code null} becomes
   * {@code \-}, which no escaped value contains. Parts appended so and separated by {@code |}
   * make a key that no other parts spell: the limits' and the token budgets' bucket keys.
   *
   * @param out where the value goes
   * @param value the part, or {@code null}
   */
  public static void escape(StringBuilder out, @Nullable String value) {
    if (value == null) {
      out.append("\\-");
      return;
    }
    if (value.indexOf('|') < 0 && value.indexOf('\\') < 0) {
      out.append(value);
      return;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '|' || c == '\\') {
        out.append('\\');
      }
      out.append(c);
    }
  }

  @Override
  public String toString() {
    List<String> ids = new ArrayList<>(rules.size());
    for (LimitRule rule : rules) {
      ids.add(rule.id());
    }
    return "Limits" + ids;
  }
}
