package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.limit.LimitSync;
import dev.sentinel.core.limit.SharedLimits;
import dev.sentinel.core.limit.SharedRateLimiter;
import dev.sentinel.core.limit.SharedStoreLimiter;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.jdbc.CustomColumnProvider;
import io.github.bucket4j.distributed.jdbc.LockIdSupplier;
import io.github.bucket4j.distributed.jdbc.PrimaryKeyMapper;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.distributed.remote.RemoteBucketState;
import io.github.bucket4j.postgresql.Bucket4jPostgreSQL;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A {@link RateLimiter} whose buckets live in PostgreSQL, so that every gateway on one database
 * enforces one limit per key. Built on Bucket4j's advisory-lock proxy manager: each call locks the
 * key's row with {@code pg_advisory_xact_lock} (on the key's hash; a collision only serialises two
 * keys) and reads and writes the bucket state in one transaction.
 *
 * <p>Buckets are stored in {@value #TABLE}, created by schema migration 3 ({@code
 * db/postgresql/V3__rate_buckets.sql}); keys are stored as text, not hashed. Every write of a
 * bucket also writes {@code expires_at}: the time (milliseconds since the epoch) at which the
 * bucket will have refilled to full, after which its row carries no information. {@link #sweep}
 * deletes such rows, so that keys seen once (a principal, a session) do not stay forever; the
 * gateway runs it periodically, off the hot path. Time is the clock's wall-clock time ({@link
 * Clock#instant()}), as the gateways sharing the buckets are different processes.
 *
 * <p>How each gateway keeps in step with the table is {@link SharedLimits}: {@code exact} by
 * default (calls for one key arriving together on one gateway share one transaction, and each is
 * checked against the stored bucket), or {@code batched(N)} and {@code delayed(interval)}, which
 * take tokens from a copy of the bucket and write them in one transaction later, with the
 * over-admission that {@link dev.sentinel.core.limit.LimitSync} bounds. The checks are those of
 * core's {@link SharedRateLimiter}; a database that fails refuses (or limits locally) as it says.
 *
 * <p>SQLite is refused: it is a single process's database, so its limits would not be shared.
 *
 * <p>Thread-safe.
 */
public final class PostgresRateLimiter implements SharedStoreLimiter {
  /** The table holding the buckets. */
  public static final String TABLE = "sentinel_rate_bucket";

  /** How many rows one statement of a sweep deletes at most, so that no transaction is long. */
  private static final int SWEEP_BATCH = 1000;

  /** The advisory lock id of a key: its hash code (a collision only serialises two keys). */
  private static final LockIdSupplier<String> LOCK_IDS = key -> key.hashCode();

  private static final String SWEEP =
      "DELETE FROM "
          + TABLE
          + " WHERE expires_at < ? AND id IN (SELECT id FROM "
          + TABLE
          + " WHERE expires_at < ? AND pg_try_advisory_xact_lock(explicit_lock) LIMIT ?)";

  private final SharedRateLimiter buckets;
  private final DataSource dataSource;
  private final Clock clock;
  private final String url;

  private PostgresRateLimiter(
      SharedRateLimiter buckets, DataSource dataSource, Clock clock, String url) {
    this.buckets = buckets;
    this.dataSource = dataSource;
    this.clock = clock;
    this.url = url;
  }

  /**
   * An exact limiter on the given database, refusing while the database is away ({@link
   * SharedLimits#DEFAULTS}).
   *
   * @throws DatabaseException if the database is not PostgreSQL
   */
  public static PostgresRateLimiter create(Database database, Clock clock) {
    return create(database, clock, SharedLimits.DEFAULTS);
  }

  /**
   * A limiter on the given database that keeps in step with it as {@code settings} say.
   *
   * @throws DatabaseException if the database is not PostgreSQL
   */
  public static PostgresRateLimiter create(
      Database database, Clock clock, SharedLimits settings) {
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(settings, "settings");
    if (database.dialect() != Dialect.POSTGRESQL) {
      throw new DatabaseException(
          "Shared limits need PostgreSQL; "
              + database.url()
              + " is "
              + database.dialect()
              + ", a single process's database. Use a jdbc:postgresql:// URL, or local limits.");
    }
    DataSource dataSource = database.dataSource();
    // Bucket4j's own expiry (expirationAfterWrite, removeExpired) stamps rows with the system
    // clock; these columns use the limiter's clock, so that expiry follows the time the buckets
    // themselves are computed with (and tests can drive it).
    ProxyManager<String> buckets =
        Bucket4jPostgreSQL.advisoryLockBasedBuilder(dataSource)
            .primaryKeyMapper(PrimaryKeyMapper.STRING)
            .lockIdSupplier(LOCK_IDS)
            .table(TABLE)
            .idColumn("id")
            .stateColumn("state")
            .addCustomColumn(new ExpiresAt())
            .addCustomColumn(new ExplicitLock())
            .clientClock(SharedRateLimiter.wallClock(clock))
            .build();
    return new PostgresRateLimiter(
        SharedRateLimiter.create(buckets, "PostgreSQL " + database.url(), settings, clock),
        dataSource, clock, database.url());
  }

  /**
   * Deletes the buckets that have refilled to full by now (by the clock): as far as limits go, a
   * missing bucket and a full one are the same. A bucket that a caller holds at this moment is
   * skipped (it is being written anyway). Rows from before schema 3, without an expiry, are kept
   * until their next use gives them one.
   *
   * @return how many buckets were deleted
   * @throws DatabaseException if the database cannot be written
   */
  public long sweep() {
    long now = clock.instant().toEpochMilli();
    long total = 0;
    try (Connection c = dataSource.getConnection();
        PreparedStatement delete = c.prepareStatement(SWEEP)) {
      int deleted;
      do {
        delete.setLong(1, now);
        delete.setLong(2, now);
        delete.setInt(3, SWEEP_BATCH);
        deleted = delete.executeUpdate(); // autocommit: one short transaction per batch
        total += deleted;
      } while (deleted == SWEEP_BATCH);
    } catch (SQLException e) {
      throw new DatabaseException(
          "Cannot delete expired rate limit buckets in " + url + ": " + e.getMessage(), e);
    }
    return total;
  }

  /**
   * {@inheritDoc}
   *
   * @throws dev.sentinel.core.limit.SharedLimitUnavailableException if the database cannot be
   *     reached (with {@code on_unavailable: deny})
   */
  @Override
  public RateLimitResult tryAcquire(String key, Rate rate, long cost) {
    return buckets.tryAcquire(key, rate, cost);
  }

  /**
   * The same buckets kept in step with the database as {@code sync} says (a limit's own {@code
   * sync:}); this limiter for its default mode. {@link #flush()} writes every mode's buckets.
   */
  @Override
  public RateLimiter withSync(LimitSync sync) {
    RateLimiter mode = buckets.withSync(sync);
    return mode == buckets ? this : mode;
  }

  /** Gives the tokens back ({@code addTokens}), up to the bucket's capacity. */
  @Override
  public void refund(String key, Rate rate, long cost) {
    buckets.refund(key, rate, cost);
  }

  /**
   * Writes the tokens this gateway took but has not written yet ({@code batched}, {@code
   * delayed}) to the database; what {@link JdbcStores#close()} does before it closes the
   * database.
   *
   * @return how many buckets could not be written
   */
  public int flush() {
    return buckets.flush();
  }

  /** How this limiter keeps in step with the database. */
  public SharedLimits settings() {
    return buckets.settings();
  }

  /** The {@code expires_at} column: when the bucket will be full again, in epoch milliseconds. */
  private static final class ExpiresAt implements CustomColumnProvider<String> {
    private static final ExpirationAfterWriteStrategy REFILLED =
        ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ZERO);

    @Override
    public void setCustomField(
        String key, int index, PreparedStatement statement, RemoteBucketState state, long nanos)
        throws SQLException {
      long ttlMillis = REFILLED.calculateTimeToLiveMillis(state, nanos);
      long nowMillis = nanos / 1_000_000L;
      statement.setLong(
          index, ttlMillis < 0 ? Long.MAX_VALUE : Math.addExact(nowMillis, ttlMillis));
    }

    @Override
    public String getCustomFieldName() {
      return "expires_at";
    }
  }

  /**
   * The {@code explicit_lock} column: the advisory lock id Bucket4j takes for the key, so that a
   * sweep can skip a bucket in use.
   */
  private static final class ExplicitLock implements CustomColumnProvider<String> {
    @Override
    public void setCustomField(
        String key, int index, PreparedStatement statement, RemoteBucketState state, long nanos)
        throws SQLException {
      statement.setLong(index, LOCK_IDS.toLockId(key));
    }

    @Override
    public String getCustomFieldName() {
      return "explicit_lock";
    }
  }
}
