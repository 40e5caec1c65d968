package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.core.bundle.BundleException;
import dev.sentinel.core.bundle.BundleSources;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.config.DatabaseSettings;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The {@link BundleSources} of a gateway with a database module: bundle files, and channels of
 * the databases that {@code bundle: { source: database }} sections name, each database opened
 * once (schema brought up to date, a small pool) and kept open until {@link #close}, so that a
 * gateway polling its channel does not reconnect each time. A database that cannot be opened is
 * tried again at the next load.
 *
 * <pre>{@code
 * try (JdbcBundleSources sources = JdbcBundleSources.create(clock)) {
 *   GatewayConfig config = GatewayConfig.load(file, System.getenv(), policyOptions, sources);
 *   ...
 * }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class JdbcBundleSources implements BundleSources, AutoCloseable {
  private static final int POOL_SIZE = 2;

  private final Clock clock;
  private final Map<DatabaseSettings, Open> open = new HashMap<>(); // guarded by this
  private boolean closed; // guarded by this

  private record Open(Database database, JdbcBundleStore store) {}

  private JdbcBundleSources(Clock clock) {
    this.clock = clock;
  }

  /** Sources that open databases with this clock stamping migrations. */
  public static JdbcBundleSources create(Clock clock) {
    return new JdbcBundleSources(Objects.requireNonNull(clock, "clock"));
  }

  /**
   * {@inheritDoc} The {@link JdbcBundleStore} on the database, opened at the first call.
   *
   * @throws BundleException if the database cannot be opened (named without its password), or
   *     these sources are closed
   */
  @Override
  public synchronized BundleStore store(DatabaseSettings settings) {
    Objects.requireNonNull(settings, "settings");
    if (closed) {
      throw new BundleException("the bundle sources are closed: the gateway is stopping");
    }
    Open existing = open.get(settings);
    if (existing != null) {
      return existing.store();
    }
    Database database;
    try {
      database = Database.builder(settings.url())
          .credentials(settings.user(), settings.password())
          .poolSize(POOL_SIZE)
          .clock(clock)
          .open();
    } catch (RuntimeException e) {
      throw new BundleException("cannot open the database " + settings.safeUrl()
          + " to read bundles: " + e.getMessage(), e);
    }
    JdbcBundleStore store = JdbcBundleStore.create(database);
    open.put(settings, new Open(database, store));
    return store;
  }

  /** Closes every database opened. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    for (Open each : open.values()) {
      each.database().close();
    }
    open.clear();
  }
}
