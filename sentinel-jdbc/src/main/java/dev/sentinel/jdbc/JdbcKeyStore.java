package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.StoredKey;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * API keys in the {@code sentinel_api_keys} table of a SQLite or PostgreSQL {@link Database}.
 *
 * <p>{@link #find} is on the hot path of every authenticated request, so it reads through a small
 * cache: an answer (a key, or that there is none) is reused for a short time, 5 seconds by default
 * ({@link Builder#cacheTtl}). A key revoked or inserted through this store takes effect here at
 * once; one revoked through another store on the same database (another replica, the CLI) takes
 * effect here within that time.
 *
 * <p>{@link #touch} is coarsened: it writes {@code last_used} at most once per minute per key
 * ({@link Builder#touchInterval}), measured on the injected {@link Clock}, and skips the write
 * otherwise, so authentication rarely waits on a write. A write never moves {@code last_used}
 * backwards.
 *
 * <p>Times are stored to the microsecond; finer digits are dropped.
 *
 * <p>Thread-safe. Database failures are {@link DatabaseException}s.
 */
public final class JdbcKeyStore implements KeyStore {
  private static final String COLUMNS =
      "id, hash, principal, roles, name, created, expires, revoked, last_used";

  private final Database database;
  private final Clock clock;
  private final long cacheTtlNanos;
  private final long touchIntervalNanos;
  private final int maxEntries;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();
  private final Map<String, Long> touched = new ConcurrentHashMap<>();
  // Counts local writes, so that find never caches what it read before one of them.
  private final AtomicLong writes = new AtomicLong();

  /** One answer of {@link #find}, and when (monotonic nanos) it was read. */
  private record Cached(Optional<StoredKey> key, long readAt) {}

  private JdbcKeyStore(Builder builder) {
    this.database = builder.database;
    this.clock = builder.clock;
    this.cacheTtlNanos = builder.cacheTtl.toNanos();
    this.touchIntervalNanos = builder.touchInterval.toNanos();
    this.maxEntries = builder.maxEntries;
  }

  /** A key store on a database with the system clock and the default cache and touch settings. */
  public static JdbcKeyStore create(Database database) {
    return builder(database).build();
  }

  /** A builder for a key store on a database. */
  public static Builder builder(Database database) {
    return new Builder(database);
  }

  /** {@inheritDoc} Answers from the cache when it read this id less than the cache TTL ago. */
  @Override
  public Optional<StoredKey> find(String id) {
    Objects.requireNonNull(id, "id");
    if (cacheTtlNanos == 0) {
      return load(id);
    }
    long now = clock.nanoTime();
    Cached cached = cache.get(id);
    if (cached != null && now - cached.readAt() < cacheTtlNanos) {
      return cached.key();
    }
    long writesBefore = writes.get();
    Optional<StoredKey> key = load(id);
    if (cache.size() >= maxEntries) {
      evict(cache, now, cacheTtlNanos, Cached::readAt);
    }
    Cached entry = new Cached(key, now);
    cache.put(id, entry);
    // A local insert or revoke ran meanwhile: what was read may be stale, so do not keep it.
    // (A write after this check removes the entry itself.)
    if (writes.get() != writesBefore) {
      cache.remove(id, entry);
    }
    return key;
  }

  private Optional<StoredKey> load(String id) {
    return database.withHandle(
        "read API key " + id,
        h ->
            h.createQuery("SELECT " + COLUMNS + " FROM sentinel_api_keys WHERE id = :id")
                .bind("id", id)
                .map((rs, ctx) -> row(rs))
                .findOne());
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalArgumentException if a key with the same id exists
   */
  @Override
  public void insert(StoredKey key) {
    Objects.requireNonNull(key, "key");
    int rows =
        database.withHandle(
            "store API key " + key.id(),
            h ->
                h.createUpdate(
                        "INSERT INTO sentinel_api_keys ("
                            + COLUMNS
                            + ") VALUES (:id, :hash,"
                            + " :principal, :roles, :name, :created, :expires, :revoked, :lastUsed)"
                            + " ON CONFLICT (id) DO NOTHING")
                    .bind("id", key.id())
                    .bind("hash", key.hash())
                    .bind("principal", key.principal())
                    .bind("roles", rolesJson(key.roles()))
                    .bind("name", key.name())
                    .bind("created", Micros.of(key.created()))
                    .bind("expires", Micros.of(key.expires()))
                    .bind("revoked", Micros.of(key.revoked()))
                    .bind("lastUsed", Micros.of(key.lastUsed()))
                    .execute());
    forget(key.id());
    if (rows == 0) {
      throw new IllegalArgumentException("an API key with id " + key.id() + " already exists");
    }
  }

  /** {@inheritDoc} An expired key is not active: revoking it answers false and changes nothing. */
  @Override
  public boolean revoke(String id, Instant time) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(time, "time");
    int rows =
        database.withHandle(
            "revoke API key " + id,
            h ->
                h.createUpdate(
                        "UPDATE sentinel_api_keys SET revoked = :time WHERE id = :id"
                            + " AND revoked IS NULL AND (expires IS NULL OR expires > :time)")
                    .bind("id", id)
                    .bind("time", Micros.of(time))
                    .execute());
    forget(id);
    return rows == 1;
  }

  /** {@inheritDoc} Read from the database, never from the cache; ties in creation time by id. */
  @Override
  public List<StoredKey> list() {
    return database.withHandle(
        "list API keys",
        h ->
            h.createQuery("SELECT " + COLUMNS + " FROM sentinel_api_keys ORDER BY created, id")
                .map((rs, ctx) -> row(rs))
                .list());
  }

  /**
   * {@inheritDoc} Writes at most once per touch interval per key (see the class comment); an
   * unknown id changes nothing.
   */
  @Override
  public void touch(String id, Instant time) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(time, "time");
    long now = clock.nanoTime();
    Long previous = touched.get(id);
    if (previous != null && now - previous < touchIntervalNanos) {
      return;
    }
    // Claim the write, so that of several threads touching at once only one writes.
    boolean claimed =
        previous == null
            ? touched.putIfAbsent(id, now) == null
            : touched.replace(id, previous, now);
    if (!claimed) {
      return;
    }
    if (touched.size() > maxEntries) {
      evict(touched, now, touchIntervalNanos, Long::longValue);
    }
    database.withHandle(
        "record the use of API key " + id,
        h ->
            h.createUpdate(
                    "UPDATE sentinel_api_keys SET last_used = :time WHERE id = :id"
                        + " AND (last_used IS NULL OR last_used < :time)")
                .bind("id", id)
                .bind("time", Micros.of(time))
                .execute());
  }

  private void forget(String id) {
    writes.incrementAndGet();
    cache.remove(id);
  }

  /** Makes room in a bounded map: drops expired entries, then, if that was not enough, any. */
  private <V> void evict(Map<String, V> map, long now, long lifetime, ToLongFunction<V> stamp) {
    map.values().removeIf(v -> now - stamp.applyAsLong(v) >= lifetime);
    Iterator<String> keys = map.keySet().iterator();
    while (map.size() >= maxEntries && keys.hasNext()) {
      keys.next();
      keys.remove();
    }
  }

  private StoredKey row(ResultSet rs) throws SQLException {
    String id = rs.getString("id");
    return new StoredKey(
        id,
        rs.getString("hash"),
        rs.getString("principal"),
        roles(id, rs.getString("roles")),
        rs.getString("name"),
        Micros.toInstant(rs.getLong("created")), // NOT NULL
        instant(rs, "expires"),
        instant(rs, "revoked"),
        instant(rs, "last_used"));
  }

  private static @Nullable Instant instant(ResultSet rs, String column) throws SQLException {
    long micros = rs.getLong(column);
    return rs.wasNull() ? null : Micros.toInstant(micros);
  }

  private static String rolesJson(Set<String> roles) {
    return JsonMapper.shared().writeValueAsString(new TreeSet<>(roles));
  }

  private Set<String> roles(String id, String json) {
    try {
      return Set.copyOf(Arrays.asList(JsonMapper.shared().readValue(json, String[].class)));
    } catch (JacksonException | NullPointerException e) {
      throw new DatabaseException(
          "API key "
              + id
              + " in "
              + database.url()
              + " has invalid roles: expected a JSON array of strings, found "
              + json
              + ". Fix the row's roles column.",
          e);
    }
  }

  /** Settings for a {@link JdbcKeyStore}. Each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private final Database database;
    private Clock clock = Clock.system();
    private Duration cacheTtl = Duration.ofSeconds(5);
    private Duration touchInterval = Duration.ofMinutes(1);
    private int maxEntries = 10_000;

    private Builder(Database database) {
      this.database = Objects.requireNonNull(database, "database");
    }

    /** The clock that times the cache and touch coarsening; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How long an answer of {@code find} is reused: the longest time a revocation made elsewhere
     * goes unnoticed. Default 5 seconds; zero disables the cache.
     */
    public Builder cacheTtl(Duration cacheTtl) {
      Objects.requireNonNull(cacheTtl, "cacheTtl");
      if (cacheTtl.isNegative()) {
        throw new IllegalArgumentException("cacheTtl must not be negative: " + cacheTtl);
      }
      this.cacheTtl = cacheTtl;
      return this;
    }

    /** The least time between two writes of a key's {@code last_used}; default one minute. */
    public Builder touchInterval(Duration touchInterval) {
      Objects.requireNonNull(touchInterval, "touchInterval");
      if (touchInterval.isNegative()) {
        throw new IllegalArgumentException("touchInterval must not be negative: " + touchInterval);
      }
      this.touchInterval = touchInterval;
      return this;
    }

    /** How many key ids the cache and the touch record each hold at most; default 10,000. */
    public Builder maxEntries(int maxEntries) {
      if (maxEntries < 1) {
        throw new IllegalArgumentException("maxEntries must be at least 1: " + maxEntries);
      }
      this.maxEntries = maxEntries;
      return this;
    }

    /** The key store. */
    public JdbcKeyStore build() {
      return new JdbcKeyStore(this);
    }
  }
}
