package dev.sentinel.core.config;

import dev.sentinel.core.limit.SharedLimits;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The {@code shared_state:} section: how the state that gateways share (rate limits, the
 * operators' kill switch) is kept, beside the {@code database:} that keeps keys and the audit
 * trail.
 *
 * <pre>
 * shared_state:
 *   limits: { sync: batched(20), on_unavailable: deny }
 *   redis:  { url: "rediss://redis.internal:6380/0", password: "${env:REDIS_PASSWORD}" }
 * </pre>
 *
 * <p>Without {@code redis}, shared limits live in the PostgreSQL {@code database:} (SQLite keeps
 * limits per process); with it, in Redis (or Valkey), and kill-switch changes are also announced
 * on a Redis channel. Read at start: a reload that changes the section is refused.
 *
 * @param limits how shared limits keep in step with their store ({@link SharedLimits#DEFAULTS}
 *     when absent)
 * @param redis the Redis holding shared limits, or {@code null} for the database
 */
public record SharedState(SharedLimits limits, @Nullable RedisSettings redis) {

  /** No section: exact limits in the database. */
  public static final SharedState DEFAULTS = new SharedState(SharedLimits.DEFAULTS, null);

  /** Validates. */
  public SharedState {
    Objects.requireNonNull(limits, "limits");
  }

  /** The Redis settings, if limits are kept in Redis. */
  public Optional<RedisSettings> redisSettings() {
    return Optional.ofNullable(redis);
  }
}
