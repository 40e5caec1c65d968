package dev.sentinel.redis;

import dev.sentinel.api.AuditSink;
import dev.sentinel.api.Clock;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.config.Audit;
import dev.sentinel.core.config.RedisSettings;
import dev.sentinel.core.config.SharedState;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.killswitch.KillSwitchStore;
import dev.sentinel.core.limit.SharedLimits;
import dev.sentinel.core.limit.SharedRateLimiter;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A gateway's {@link Stores} with the shared state on Redis (or Valkey): the shared rate limits
 * live in Redis, through Bucket4j's Lettuce integration (compare-and-swap on one key per bucket),
 * and kill-switch changes are announced on a Redis channel; everything else (the key store, the
 * audit sinks and retention, the operators' kill-switch state itself) is the database's, which
 * these stores wrap and own.
 *
 * <pre>{@code
 * Stores stores = RedisStores.wrap(config.sharedState(), JdbcStores.open(config.database(), clock), clock);
 * GatewayRuntime.start(config, clock, stores);
 * }</pre>
 *
 * <p>Bucket keys are {@value #KEY_PREFIX} followed by the limit's key; a key expires {@value
 * #EXPIRY_MARGIN_SECONDS} s after its bucket would be full again, so Redis needs no sweep.
 * Commands fail after {@link RedisSettings#timeout()}, and at once while the connection is down
 * (Lettuce's {@code REJECT_COMMANDS}); Lettuce reconnects in the background, and the limiter
 * ({@link SharedRateLimiter}) refuses or limits locally meanwhile, as {@code
 * shared_state.limits.on_unavailable} says. Credentials come from the settings (the config's
 * secret references) and are never logged: messages name the server by {@link
 * RedisSettings#safeUrl()}.
 *
 * <p>Thread-safe. {@link #close()} writes back what a batched limiter took, closes the Redis
 * connections and then the database.
 */
public final class RedisStores implements Stores {
  /** What every bucket key starts with. */
  public static final String KEY_PREFIX = "sentinel:limit:";

  /** The longest wait between two attempts to reconnect to Redis. */
  public static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(1);

  /** How long after its refill a bucket's key is kept. */
  public static final long EXPIRY_MARGIN_SECONDS = 10;

  private final RedisSettings settings;
  private final Stores database;
  private final Clock clock;
  private final RedisClient client;
  private final ClientResources resources;
  private final StatefulRedisConnection<String, byte[]> connection;
  private final ProxyManager<String> buckets;
  private final @Nullable KillSwitchStore killSwitch; // null when the database has none
  private @Nullable SharedRateLimiter limiter; // guarded by this; created on first use

  private RedisStores(RedisSettings settings, Stores database, Clock clock, RedisClient client,
      ClientResources resources, StatefulRedisConnection<String, byte[]> connection) {
    this.settings = settings;
    this.database = database;
    this.clock = clock;
    this.client = client;
    this.resources = resources;
    this.connection = connection;
    this.buckets = Bucket4jLettuce.casBasedBuilder(connection)
        .clientClock(SharedRateLimiter.wallClock(clock))
        .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(
            Duration.ofSeconds(EXPIRY_MARGIN_SECONDS)))
        .build()
        .withMapper((String key) -> KEY_PREFIX + key);
    KillSwitchStore stored = database.killSwitchStore().orElse(null);
    this.killSwitch = stored == null || !settings.killSwitch()
        ? stored : new RedisKillSwitchStore(stored, client, connection, describe(settings));
  }

  /**
   * The database's stores with the shared state on Redis when {@code sharedState} names a
   * Redis; else {@code database} itself.
   *
   * @param database the stores of the config's {@code database:}; owned by the result
   * @throws RedisStoreException if Redis cannot be reached or refuses the credentials; {@code
   *     database} is closed then
   */
  public static Stores wrap(SharedState sharedState, Stores database, Clock clock) {
    Objects.requireNonNull(sharedState, "sharedState");
    Objects.requireNonNull(database, "database");
    Optional<RedisSettings> redis = sharedState.redisSettings();
    if (redis.isEmpty()) {
      return database;
    }
    try {
      return open(redis.get(), database, clock);
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
  }

  /**
   * Connects to Redis (once, now: a server that cannot be reached stops the gateway at start)
   * and wraps the database's stores.
   *
   * @throws RedisStoreException if Redis cannot be reached or refuses the credentials
   */
  public static RedisStores open(RedisSettings settings, Stores database, Clock clock) {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(clock, "clock");
    RedisURI uri;
    try {
      uri = RedisURI.create(settings.url());
    } catch (RuntimeException e) {
      throw new RedisStoreException("Cannot use the Redis url " + settings.safeUrl()
          + ": it is not a valid redis:// or rediss:// URL", e);
    }
    if (settings.password() != null) {
      if (settings.username() != null) {
        uri.setAuthentication(settings.username(), settings.password());
      } else {
        uri.setAuthentication(settings.password());
      }
    }
    uri.setTimeout(settings.timeout());
    ClientOptions.Builder options = ClientOptions.builder()
        .autoReconnect(true)
        // While the connection is down, a command fails at once rather than waiting in a queue:
        // a limit check then refuses (or limits locally) without holding the call.
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .timeoutOptions(TimeoutOptions.enabled(settings.timeout()))
        .socketOptions(SocketOptions.builder().connectTimeout(settings.timeout()).build());
    if (settings.caFile() != null) {
      options.sslOptions(SslOptions.builder().jdkSslProvider()
          .trustManager(settings.caFile().toFile()).build());
    }
    // Reconnect attempts back off up to 1 s, not Lettuce's default 30 s: limits that refuse while
    // Redis is away should work again within about a second of its return.
    ClientResources resources = DefaultClientResources.builder()
        .reconnectDelay(Delay.exponential(Duration.ofMillis(10), MAX_RECONNECT_DELAY, 2,
            TimeUnit.MILLISECONDS))
        .build();
    RedisClient client = RedisClient.create(resources, uri);
    client.setOptions(options.build());
    StatefulRedisConnection<String, byte[]> connection;
    try {
      connection = client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    } catch (RuntimeException e) {
      client.shutdown();
      resources.shutdown();
      throw new RedisStoreException("Cannot connect to " + describe(settings) + ": "
          + reason(e) + ". Check the url, the credentials and that Redis is running.", e);
    }
    return new RedisStores(settings, database, clock, client, resources, connection);
  }

  private static String describe(RedisSettings settings) {
    return "Redis " + settings.safeUrl();
  }

  /** The innermost message, which says what went wrong (refused, timed out, WRONGPASS). */
  private static String reason(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return message == null ? root.getClass().getSimpleName() : message;
  }

  @Override
  public Optional<AuditSink> auditSink() {
    return database.auditSink();
  }

  @Override
  public Optional<AuditSink> auditSink(Audit.@Nullable Checkpoint checkpoint) {
    return database.auditSink(checkpoint);
  }

  @Override
  public Optional<KeyStore> keyStore() {
    return database.keyStore();
  }

  /** {@inheritDoc} The Redis limiter; exact unless {@link #rateLimiter(SharedLimits)} came first. */
  @Override
  public synchronized Optional<RateLimiter> rateLimiter() {
    if (limiter == null) {
      limiter = newLimiter(SharedLimits.DEFAULTS);
    }
    return Optional.of(limiter);
  }

  /**
   * {@inheritDoc} The limiter is created with these settings on the first call.
   *
   * @throws IllegalStateException if the limiter exists already with other settings
   */
  @Override
  public synchronized Optional<RateLimiter> rateLimiter(SharedLimits limits) {
    Objects.requireNonNull(limits, "limits");
    if (limiter == null) {
      limiter = newLimiter(limits);
    } else if (!limiter.settings().equals(limits)) {
      throw new IllegalStateException("the shared rate limiter on " + describe(settings)
          + " exists already with " + limiter.settings() + ", not " + limits);
    }
    return Optional.of(limiter);
  }

  private SharedRateLimiter newLimiter(SharedLimits limits) {
    return SharedRateLimiter.create(buckets, describe(settings), limits, clock);
  }

  /** {@inheritDoc} The database's, with changes announced on Redis (unless turned off). */
  @Override
  public Optional<KillSwitchStore> killSwitchStore() {
    return Optional.ofNullable(killSwitch);
  }

  @Override
  public long purgeAudit(Instant before) {
    return database.purgeAudit(before);
  }

  /** The database's housekeeping; Redis expires the buckets itself. */
  @Override
  public void sweep() {
    database.sweep();
  }

  @Override
  public String description() {
    return database.description() + ", shared state on " + describe(settings);
  }

  /** The database's stores these wrap. */
  public Stores database() {
    return database;
  }

  /** Writes back what the limiter took, closes Redis, then the database. Idempotent. */
  @Override
  public void close() {
    SharedRateLimiter current;
    synchronized (this) {
      current = limiter;
    }
    try {
      if (current != null && connection.isOpen()) {
        current.flush();
      }
    } finally {
      try {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
      } finally {
        database.close();
      }
    }
  }

  @Override
  public String toString() {
    return "RedisStores[" + description() + "]";
  }
}
