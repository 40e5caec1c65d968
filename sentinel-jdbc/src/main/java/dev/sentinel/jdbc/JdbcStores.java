package dev.sentinel.jdbc;

import dev.sentinel.api.AuditSink;
import dev.sentinel.api.Clock;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.approval.ApprovalStore;
import dev.sentinel.core.config.Audit;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.killswitch.KillSwitchStore;
import dev.sentinel.core.limit.SharedLimits;
import dev.sentinel.core.operator.AuditTrail;
import dev.sentinel.core.pinning.PinStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * A gateway's {@link Stores} on a SQLite or PostgreSQL {@link Database}: the {@link JdbcKeyStore}
 * that {@code identity.api_key} is verified against and the {@link JdbcAuditSink} of the {@code
 * database} audit sink. The runners open it from the config's {@code database:} section:
 *
 * <pre>{@code
 * GatewayRuntime.start(config, clock, JdbcStores.open(config.database(), clock));
 * }</pre>
 *
 * <p>A SQLite file that holds tables but no Sentinel schema is refused and left unchanged: it is
 * someone else's database, most likely a wrong path.
 *
 * <p>Thread-safe. {@link #close()} closes the database; close the audit sinks first.
 */
public final class JdbcStores implements Stores {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcStores.class);
  private static final byte[] SQLITE_HEADER =
      "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  private final Database database;
  private final Clock clock;
  private final JdbcKeyStore keys;
  private final JdbcAuditTrail auditTrail;
  private final JdbcApprovalStore approvals;
  private final JdbcKillSwitchStore killSwitch;
  private final JdbcPinStore pins;
  private final JdbcRequestStateLedger requestStates;
  private final JdbcBreakGlassStore breakGlass;
  private @Nullable PostgresRateLimiter rateLimiter; // guarded by this; created on first use

  private JdbcStores(Database database, Clock clock) {
    this.database = database;
    this.clock = clock;
    this.keys = JdbcKeyStore.builder(database).clock(clock).build();
    this.auditTrail = JdbcAuditTrail.of(database, clock);
    this.approvals = JdbcApprovalStore.create(database);
    this.killSwitch = JdbcKillSwitchStore.create(database, clock);
    this.pins = JdbcPinStore.create(database);
    this.requestStates = JdbcRequestStateLedger.create(database, clock);
    this.breakGlass = JdbcBreakGlassStore.create(database);
  }

  /**
   * Opens the database, creating a SQLite file (and its folders) if there is none, and brings
   * its schema up to date: what a gateway does at start.
   *
   * @throws DatabaseException if the database cannot be reached or used; the message names it
   *     without its password
   */
  public static JdbcStores open(DatabaseSettings settings, Clock clock) {
    return open(settings, clock, false);
  }

  /**
   * Opens a database that must exist already: a SQLite file that is missing is an error rather
   * than a new empty database. What commands that read a trail or keys use, so that a mistyped
   * path is not answered from an empty database.
   *
   * @throws DatabaseException if the database does not exist, cannot be reached or used
   */
  public static JdbcStores openExisting(DatabaseSettings settings, Clock clock) {
    return open(settings, clock, true);
  }

  private static JdbcStores open(DatabaseSettings settings, Clock clock, boolean mustExist) {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(clock, "clock");
    if (settings.sqlite()) {
      Path file = JdbcUrls.sqliteFile(settings.url());
      if (file != null) {
        checkSentinelFile(file.toAbsolutePath(), mustExist);
      }
    }
    Database database =
        Database.builder(settings.url())
            .credentials(settings.user(), settings.password())
            .clock(clock)
            .open();
    return new JdbcStores(database, clock);
  }

  /** The database, for the audit verifier, queries, retention and the key CLI. */
  public Database database() {
    return database;
  }

  /**
   * {@inheritDoc} A new {@link JdbcAuditSink} on the database, with this clock. On PostgreSQL the
   * audit table's partitions for this month and the next are made first ({@link
   * AuditPartitions}); if that fails, the default partition takes the records until housekeeping
   * ({@link #sweep}) succeeds.
   */
  @Override
  public Optional<AuditSink> auditSink() {
    preparePartitions();
    return Optional.of(JdbcAuditSink.builder(database).clock(clock).build());
  }

  private void preparePartitions() {
    try {
      AuditPartitions.maintain(database, clock);
    } catch (RuntimeException e) {
      // Never a reason not to record: the default partition takes what no partition covers.
      LOG.warn("cannot create the audit table's partitions now; trying again later: {}",
          e.toString());
    }
  }

  /**
   * {@inheritDoc} With a checkpoint setting, the sink signs checkpoints of its chain with the
   * setting's key and appends them to its file ({@link JdbcAuditSink.Builder#checkpoints}). The
   * key is read, and the file's folder created, now: a gateway whose checkpoints cannot be taken
   * does not start.
   *
   * @throws AuditCheckpointException if the key cannot be read or is not an Ed25519 private key,
   *     or the checkpoint file's folder cannot be created
   */
  @Override
  public Optional<AuditSink> auditSink(Audit.@Nullable Checkpoint checkpoint) {
    if (checkpoint == null) {
      return auditSink();
    }
    PrivateKey key = AuditCheckpoints.readPrivateKey(checkpoint.key());
    Path parent = checkpoint.file().toAbsolutePath().getParent();
    try {
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new AuditCheckpointException("Cannot create the folder " + parent + " of the audit"
          + " checkpoint file " + checkpoint.file() + ": " + e, e);
    }
    preparePartitions();
    return Optional.of(JdbcAuditSink.builder(database).clock(clock)
        .checkpoints(key, checkpoint.file(), checkpoint.every(), checkpoint.records())
        .build());
  }

  /** {@inheritDoc} The one {@link JdbcKeyStore} of these stores. */
  @Override
  public Optional<KeyStore> keyStore() {
    return Optional.of(keys);
  }

  /**
   * {@inheritDoc} A {@link PostgresRateLimiter} on a PostgreSQL database, so that limits are
   * shared by every gateway on it; empty on SQLite. The limiter is created on the first call
   * (its table is schema 3's, see {@code db/postgresql/V3__rate_buckets.sql}).
   */
  @Override
  public synchronized Optional<RateLimiter> rateLimiter() {
    if (database.dialect() != Dialect.POSTGRESQL) {
      return Optional.empty();
    }
    if (rateLimiter == null) {
      rateLimiter = PostgresRateLimiter.create(database, clock);
    }
    return Optional.of(rateLimiter);
  }

  /**
   * {@inheritDoc} The limiter is created with these settings on the first call; a later call
   * with other settings is refused (one gateway keeps one set of settings until it restarts).
   *
   * @throws IllegalStateException if the limiter exists already with other settings
   */
  @Override
  public synchronized Optional<RateLimiter> rateLimiter(SharedLimits limits) {
    Objects.requireNonNull(limits, "limits");
    if (database.dialect() != Dialect.POSTGRESQL) {
      return Optional.empty();
    }
    if (rateLimiter == null) {
      rateLimiter = PostgresRateLimiter.create(database, clock, limits);
    } else if (!rateLimiter.settings().equals(limits)) {
      throw new IllegalStateException("the shared rate limiter of " + database.describe()
          + " exists already with " + rateLimiter.settings() + ", not " + limits);
    }
    return Optional.of(rateLimiter);
  }

  /**
   * {@inheritDoc} The {@link JdbcKillSwitchStore} on the database (on PostgreSQL with {@code
   * LISTEN/NOTIFY}).
   */
  @Override
  public Optional<KillSwitchStore> killSwitchStore() {
    return Optional.of(killSwitch);
  }

  /**
   * {@inheritDoc} The {@link JdbcRequestStateLedger} on the database (schema 9's {@code
   * sentinel_secret} and {@code sentinel_request_state}).
   */
  @Override
  public Optional<dev.sentinel.core.state.RequestStateLedger> requestStateLedger() {
    return Optional.of(requestStates);
  }

  /** {@inheritDoc} The {@link JdbcPinStore} on the database (schema 6's {@code sentinel_tool_pin}). */
  @Override
  public Optional<PinStore> pinStore() {
    return Optional.of(pins);
  }

  /**
   * {@inheritDoc} The {@link JdbcBreakGlassStore} on the database (schema 7's {@code
   * sentinel_break_glass} and {@code sentinel_totp}).
   */
  @Override
  public Optional<dev.sentinel.core.breakglass.BreakGlassStore> breakGlassStore() {
    return Optional.of(breakGlass);
  }

  /** {@inheritDoc} {@link AuditRetention#purge}, stamped with this clock. */
  @Override
  public long purgeAudit(Instant before) {
    return auditTrail.purge(before);
  }

  /** {@inheritDoc} The {@code sentinel_approval} table of this database. */
  @Override
  public Optional<ApprovalStore> approvalStore() {
    return Optional.of(approvals);
  }

  /** {@inheritDoc} The trail the {@code database} audit sink writes in this database. */
  @Override
  public Optional<AuditTrail> auditTrail() {
    return Optional.of(auditTrail);
  }

  /**
   * {@inheritDoc} On PostgreSQL, creates the audit table's partitions ahead of time and moves
   * what its default partition caught ({@link AuditPartitions}), and deletes the shared
   * rate-limit buckets that have refilled ({@link PostgresRateLimiter#sweep}), once the limiter is
   * in use. Both run even if the other fails; the first failure is thrown.
   */
  @Override
  public void sweep() {
    RuntimeException failure = null;
    try {
      AuditPartitions.maintain(database, clock);
    } catch (RuntimeException e) {
      failure = e;
    }
    PostgresRateLimiter limiter;
    synchronized (this) {
      limiter = rateLimiter;
    }
    try {
      if (limiter != null) {
        limiter.sweep();
      }
    } catch (RuntimeException e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** The key store, typed. */
  public JdbcKeyStore keys() {
    return keys;
  }

  /**
   * {@inheritDoc} A {@link JdbcBundleStore} on the database (schema 8's {@code sentinel_bundle}).
   */
  @Override
  public Optional<dev.sentinel.core.bundle.BundleStore> bundleStore() {
    return Optional.of(JdbcBundleStore.create(database));
  }

  @Override
  public String description() {
    return database.describe();
  }

  /**
   * Writes the tokens the shared limiter took but has not written yet ({@code batched}, {@code
   * delayed}), then closes the database. Idempotent.
   */
  @Override
  public void close() {
    PostgresRateLimiter limiter;
    synchronized (this) {
      limiter = rateLimiter;
    }
    if (limiter != null && !database.isClosed()) {
      limiter.flush();
    }
    database.close();
  }

  @Override
  public String toString() {
    return "JdbcStores[" + database.describe() + "]";
  }

  /**
   * Refuses a SQLite file that is missing (when it must exist) or that is a SQLite database with
   * tables but without Sentinel's schema table. Reads only; a file that is not SQLite at all is
   * left for {@link Database} to refuse.
   */
  private static void checkSentinelFile(Path file, boolean mustExist) {
    if (!Files.exists(file)) {
      if (mustExist) {
        throw new DatabaseException(
            "Cannot open SQLite database "
                + file
                + ": the file does not exist. Check the path (--db jdbc:sqlite:<file>, or the"
                + " database: section of the config); a gateway creates it when it first starts.");
      }
      return;
    }
    if (Files.isDirectory(file) || !startsWithSqliteHeader(file)) {
      return;
    }
    List<String> tables = new ArrayList<>();
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    try (Connection connection = config.createConnection("jdbc:sqlite:" + file);
        Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                    + " AND name NOT LIKE 'sqlite_%' ORDER BY name")) {
      while (rows.next()) {
        tables.add(rows.getString(1));
      }
    } catch (SQLException e) {
      // Database.open reports an unreadable or locked file with its own explanation.
      return;
    }
    if (!tables.isEmpty() && !tables.contains("sentinel_schema")) {
      throw new DatabaseException(
          "Cannot use SQLite database "
              + file
              + ": it is not a Sentinel database (it has tables such as '"
              + tables.get(0)
              + "' but no sentinel_schema). It was left unchanged. Check the path, or point the"
              + " URL at a new file.");
    }
  }

  private static boolean startsWithSqliteHeader(Path file) {
    byte[] header = new byte[SQLITE_HEADER.length];
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(header, 0, header.length) == header.length
          && Arrays.equals(header, SQLITE_HEADER);
    } catch (IOException e) {
      return false;
    }
  }
}
