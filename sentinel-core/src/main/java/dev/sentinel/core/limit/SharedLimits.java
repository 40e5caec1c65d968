package dev.sentinel.core.limit;

import java.util.Objects;

/**
 * How limits shared through a store (PostgreSQL, Redis) behave: the config's {@code
 * shared_state.limits}.
 *
 * @param sync how a gateway keeps its buckets in step with the store
 * @param onUnavailable what a check does while the store cannot be reached
 */
public record SharedLimits(LimitSync sync, OnUnavailable onUnavailable) {

  /** Exact, and refusing while the store is away: the default. */
  public static final SharedLimits DEFAULTS =
      new SharedLimits(LimitSync.exact(), OnUnavailable.DENY);

  /** What a shared limit does while its store cannot be reached. */
  public enum OnUnavailable {
    /** Refuse every call that a shared limit applies to (fail closed): the default. */
    DENY,
    /**
     * Limit on this gateway alone, with a bucket of the same rate in memory: a fleet of {@code G}
     * gateways then admits up to {@code G} times the limit until the store is back.
     */
    LOCAL
  }

  /** Validates. */
  public SharedLimits {
    Objects.requireNonNull(sync, "sync");
    Objects.requireNonNull(onUnavailable, "onUnavailable");
  }
}
