package dev.sentinel.core.limit;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.Request;
import dev.sentinel.core.internal.Glob;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One configured limit: a rate, what the buckets are keyed by, and which requests it applies to.
 *
 * <p>A limit keyed by nothing is global (one bucket); keyed by {@code PRINCIPAL} there is one
 * bucket per caller; by {@code PRINCIPAL} and {@code TOOL}, one per caller and tool; by {@code
 * ROLE}, one per role, shared by the role's members; and so on.
 * Empty filters match everything; a filter that is set must match.
 *
 * @param id a unique id, named in refusals and the audit trail
 * @param rate the bucket rate
 * @param per what the buckets are keyed by; empty for one global bucket
 * @param tools globs on the request's target name; empty for any
 * @param backends backend names; empty for any
 * @param principals principal ids; empty for any
 * @param roles directly granted roles, any of which must be held; empty for any
 * @param methods MCP methods; empty for {@code tools/call} only
 * @param cost tokens each matching request takes; positive
 * @param sync how this limit's buckets keep in step with a shared store (PostgreSQL, Redis),
 *     overriding the gateway's {@code shared_state.limits.sync} for this limit alone; {@code null}
 *     to use that default. A limiter without a shared store ignores it
 */
public record LimitRule(
    String id,
    Rate rate,
    Set<Key> per,
    List<Glob> tools,
    Set<String> backends,
    Set<String> principals,
    Set<String> roles,
    Set<String> methods,
    long cost,
    @Nullable LimitSync sync) {

  /** What a limit's buckets can be keyed by. */
  public enum Key {
    /** One bucket per principal id. */
    PRINCIPAL,
    /** One bucket per tool (target name, qualified by backend). */
    TOOL,
    /** One bucket per backend. */
    BACKEND,
    /**
     * One bucket per role, shared by everyone holding it directly. A caller takes from the
     * bucket of each role it holds (those the limit's {@code roles} name, when it names some),
     * all or none; callers holding no role share one bucket.
     */
    ROLE
  }

  /** Validates and copies. */
  public LimitRule {
    Objects.requireNonNull(id, "id");
    if (id.isBlank()) {
      throw new IllegalArgumentException("limit id must not be blank");
    }
    Objects.requireNonNull(rate, "rate");
    per = per.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(per));
    tools = List.copyOf(tools);
    backends = Set.copyOf(backends);
    principals = Set.copyOf(principals);
    roles = Set.copyOf(roles);
    methods = methods.isEmpty() ? Set.of(Request.TOOLS_CALL) : Set.copyOf(methods);
    if (cost <= 0) {
      throw new IllegalArgumentException("limit '" + id + "' cost must be positive, got " + cost);
    }
  }

  /** A limit that keeps in step with a shared store as the gateway's default says. */
  public LimitRule(String id, Rate rate, Set<Key> per, List<Glob> tools, Set<String> backends,
      Set<String> principals, Set<String> roles, Set<String> methods, long cost) {
    this(id, rate, per, tools, backends, principals, roles, methods, cost, null);
  }

  /** A limit on every tool call, keyed as given, costing one token a call. */
  public static LimitRule of(String id, Rate rate, Key... per) {
    return new LimitRule(id, rate, Set.of(per), List.of(), Set.of(), Set.of(), Set.of(), Set.of(), 1);
  }

  /** The same limit kept in step with a shared store as {@code mode} says ({@code null}: the default). */
  public LimitRule withSync(@Nullable LimitSync mode) {
    return new LimitRule(id, rate, per, tools, backends, principals, roles, methods, cost, mode);
  }

  /** Whether this limit applies to the request. */
  public boolean appliesTo(Principal principal, Request request) {
    if (!methods.contains(request.method())) {
      return false;
    }
    if (!backends.isEmpty() && !backends.contains(request.backend())) {
      return false;
    }
    if (!principals.isEmpty() && !principals.contains(principal.id())) {
      return false;
    }
    if (!roles.isEmpty() && roles.stream().noneMatch(principal.roles()::contains)) {
      return false;
    }
    if (!tools.isEmpty()) {
      String name = request.name();
      for (Glob glob : tools) {
        if (glob.matches(name)) {
          return true;
        }
      }
      return false;
    }
    return true;
  }
}
