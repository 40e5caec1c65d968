package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.distributed.BucketProxy;
import io.github.bucket4j.distributed.jdbc.PrimaryKeyMapper;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.postgresql.Bucket4jPostgreSQL;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A {@link RateLimiter} whose buckets live in PostgreSQL, so that every gateway on one database
 * enforces one limit per key. Built on Bucket4j's advisory-lock proxy manager: each call locks the
 * key's row with {@code pg_advisory_xact_lock} (on the key's hash; a collision only serialises two
 * keys) and reads and writes the bucket state in one transaction.
 *
 * <p>Buckets are stored in {@value #TABLE} ({@code id TEXT PRIMARY KEY, state BYTEA, expires_at
 * BIGINT}); keys are stored as text, not hashed. The table is created if missing when the limiter
 * is created. Time is the clock's wall-clock time ({@link Clock#instant()}), as the gateways
 * sharing the buckets are different processes.
 *
 * <p>SQLite is refused: it is a single process's database, so its limits would not be shared.
 *
 * <p>Thread-safe.
 */
public final class PostgresRateLimiter implements RateLimiter {
  /** The table holding the buckets. */
  public static final String TABLE = "sentinel_rate_bucket";

  private final ProxyManager<String> buckets;

  private PostgresRateLimiter(ProxyManager<String> buckets) {
    this.buckets = buckets;
  }

  /**
   * A limiter on the given database.
   *
   * @throws DatabaseException if the database is not PostgreSQL, or the bucket table cannot be
   *     created
   */
  public static PostgresRateLimiter create(Database database, Clock clock) {
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(clock, "clock");
    if (database.dialect() != Dialect.POSTGRESQL) {
      throw new DatabaseException(
          "Shared limits need PostgreSQL; "
              + database.url()
              + " is "
              + database.dialect()
              + ", a single process's database. Use a jdbc:postgresql:// URL, or local limits.");
    }
    DataSource dataSource = database.dataSource();
    createTable(dataSource, database.url());
    ProxyManager<String> buckets =
        Bucket4jPostgreSQL.advisoryLockBasedBuilder(dataSource)
            .primaryKeyMapper(PrimaryKeyMapper.STRING)
            .table(TABLE)
            .idColumn("id")
            .stateColumn("state")
            .clientClock(new WallClockMeter(clock))
            .build();
    return new PostgresRateLimiter(buckets);
  }

  private static void createTable(DataSource dataSource, String url) {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (id TEXT PRIMARY KEY, state BYTEA, expires_at BIGINT)");
    } catch (SQLException e) {
      throw new DatabaseException(
          "Cannot create the rate limit table " + TABLE + " in " + url + ": " + e.getMessage(), e);
    }
  }

  @Override
  public RateLimitResult tryAcquire(String key, Rate rate, long cost) {
    if (cost <= 0) {
      throw new IllegalArgumentException("rate limit cost must be positive, got " + cost);
    }
    ConsumptionProbe probe;
    try {
      probe = bucket(key, rate).tryConsumeAndReturnRemaining(cost);
    } catch (RuntimeException e) {
      throw new DatabaseException("Cannot take from the shared rate limit: " + e.getMessage(), e);
    }
    if (probe.isConsumed()) {
      return RateLimitResult.allowed(probe.getRemainingTokens());
    }
    return RateLimitResult.refused(
        Math.max(0, probe.getRemainingTokens()), Duration.ofNanos(probe.getNanosToWaitForRefill()));
  }

  /** Gives the tokens back ({@code addTokens}), up to the bucket's capacity. */
  @Override
  public void refund(String key, Rate rate, long cost) {
    if (cost <= 0) {
      return;
    }
    try {
      bucket(key, rate).addTokens(cost);
    } catch (RuntimeException e) {
      throw new DatabaseException("Cannot refund the shared rate limit: " + e.getMessage(), e);
    }
  }

  private BucketProxy bucket(String key, Rate rate) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(rate, "rate");
    return buckets.builder().build(key, () -> configuration(rate));
  }

  private static BucketConfiguration configuration(Rate rate) {
    return BucketConfiguration.builder()
        .addLimit(
            limit -> limit.capacity(rate.burst()).refillGreedy(rate.permits(), rate.period()))
        .build();
  }

  /** Nanoseconds since the epoch by the clock's wall-clock time, comparable across processes. */
  private static final class WallClockMeter implements TimeMeter {
    private final Clock clock;

    WallClockMeter(Clock clock) {
      this.clock = clock;
    }

    @Override
    public long currentTimeNanos() {
      Instant now = clock.instant();
      return Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
    }

    @Override
    public boolean isWallClockBased() {
      return true;
    }
  }
}
