package dev.sentinel.core.gateway;

import dev.sentinel.api.AuditSink;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.RateLimiter;
import java.util.Optional;

/**
 * What a database brings to a gateway: the key store that {@code identity.api_key} is verified
 * against, and the {@code database} audit sink. sentinel-core does not depend on a database
 * module, so the runners open an implementation (sentinel-jdbc's {@code JdbcStores}) from the
 * config's {@link DatabaseSettings} and hand it to {@link GatewayRuntime#start(GatewayConfig,
 * dev.sentinel.api.Clock, Stores)}; {@link #none()} stands for no database.
 *
 * <p>Implementations are thread-safe.
 */
public interface Stores extends AutoCloseable {

  /**
   * A new audit sink writing to the database, or empty without one. Each call opens a sink; the
   * caller owns it (the audit dispatcher closes it).
   */
  Optional<AuditSink> auditSink();

  /** The database's key store, or empty without one. */
  Optional<KeyStore> keyStore();

  /**
   * A rate limiter whose buckets the database shares with every gateway on it, or empty when
   * limits are per process (no database, or one a single process owns, such as SQLite). The
   * gateway uses it instead of a local limiter when present.
   */
  default Optional<RateLimiter> rateLimiter() {
    return Optional.empty();
  }

  /** What the stores are, for messages: such as {@code SQLite database /srv/sentinel.db}. */
  String description();

  /** Releases the database. Sinks opened earlier must be closed first. */
  @Override
  void close();

  /** No database: no key store and no database audit sink. */
  static Stores none() {
    return NoStores.INSTANCE;
  }
}
