package dev.sentinel.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sentinel.api.Clock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jdbi.v3.core.ConnectionException;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jspecify.annotations.Nullable;
import org.postgresql.ds.PGSimpleDataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * An open SQLite or PostgreSQL database whose schema is up to date, the ground Sentinel's stores
 * stand on.
 *
 * <p>{@link #open(String, String, String)} connects, checks that the database is one this build can
 * use, and applies the schema migrations it is missing (see the {@code db/} resources), each in one
 * transaction. A database written by a newer Sentinel, or a file that is not a SQLite database, is
 * refused before anything in it is changed.
 *
 * <p><b>SQLite</b> ({@code jdbc:sqlite:<path>}): the parent folders are created; every connection
 * runs with a rollback journal ({@code journal_mode=TRUNCATE}) and {@code mmap_size=0}, so that no
 * file of the database is ever memory-mapped: a disk that fails or turns read-only shows as an
 * I/O error, never as a {@code SIGBUS} that kills the process (WAL mode maps its {@code -shm}
 * file; see {@link SqliteConnections}). Both settings are read back on every new connection, and
 * a connection on which they did not take is refused (a file another process holds in WAL mode).
 * Connections have a busy timeout (default 5 s: a writer waits that long for another writer, or
 * for readers to finish, instead of failing at once), foreign keys enforced, {@code
 * synchronous=NORMAL} and immediate transactions. With a rollback journal {@code NORMAL} syncs the
 * journal and the database at each commit: a crash of this process loses nothing committed and
 * the file is not corrupted; a power cut may undo the last transaction. {@code FULL} also syncs
 * the emptied journal. Immediate transactions take the write lock at {@code BEGIN}, where the busy
 * timeout applies, rather than failing mid-transaction on a lock upgrade that no timeout can
 * resolve. In-memory databases are refused: every connection would see a different one.
 *
 * <p><b>PostgreSQL</b> ({@code jdbc:postgresql://host:port/database}): connections come from a
 * HikariCP pool over the driver's {@code PGSimpleDataSource}, at most {@link
 * Builder#poolSize(int)} of them (default {@value #DEFAULT_POOL_SIZE}), so that a shared rate limit
 * costs one round trip per call rather than a new connection and authentication. {@link #open}
 * first connects once without the pool, so that a wrong URL, an unreachable host or a wrong
 * password fail at once with the driver's own reason; the pool itself opens connections in the
 * background and on demand. A caller waits for a pooled connection at most the driver's connect
 * timeout (10 s unless the URL's {@code connectTimeout} says otherwise; 30 s if that is 0).
 * Connections say {@code ApplicationName=sentinel} to the server unless the URL names another.
 * Driver parameters such as {@code connectTimeout} go in the URL. {@link #close} closes the pool.
 *
 * <p>Every failure is a {@link DatabaseException} whose message names the database by its URL with
 * passwords removed, says what failed, and what to check.
 *
 * <p>Thread-safe: one instance is shared by every store on the database.
 */
public final class Database implements AutoCloseable {
  /**
   * The default bound of the PostgreSQL pool. A store holds a connection for one short statement or
   * transaction, so ten serve far more concurrent calls than a gateway's cores can start, and a
   * few gateways sharing one server stay well inside PostgreSQL's default {@code
   * max_connections} of 100.
   */
  public static final int DEFAULT_POOL_SIZE = 10;

  private static final String APPLICATION_NAME = "sentinel";
  private static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(30);
  private static final AtomicInteger POOLS = new AtomicInteger();
  private static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(5);
  private static final byte[] SQLITE_HEADER =
      "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  private final Dialect dialect;
  private final String url;
  private final @Nullable Path file; // null for PostgreSQL
  private final Duration busyTimeout;
  private final Jdbi jdbi;
  private final DataSource dataSource;
  private final DataSource unpooled;
  private final int schemaVersion;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Database(
      Builder builder, Dialect dialect, @Nullable Path file, DataSource dataSource,
      DataSource unpooled) {
    this.dialect = dialect;
    this.url = JdbcUrls.redact(builder.jdbcUrl);
    this.file = file;
    this.busyTimeout = builder.busyTimeout;
    this.dataSource = dataSource;
    this.unpooled = unpooled;
    this.jdbi = Jdbi.create(dataSource);
    this.schemaVersion = Migrations.migrate(this, builder.clock);
  }

  /**
   * A database that was never opened, for messages about why it could not be. Suppressed: only
   * {@link #failure} reads it, and never its connection fields, which stay null.
   */
  @SuppressWarnings("NullAway")
  private Database(Builder builder) {
    this.dialect = Dialect.of(builder.jdbcUrl);
    this.url = JdbcUrls.redact(builder.jdbcUrl);
    this.file = null;
    this.busyTimeout = builder.busyTimeout;
    this.dataSource = null;
    this.unpooled = null;
    this.jdbi = null;
    this.schemaVersion = 0;
    this.closed.set(true);
  }

  /**
   * Opens a database and brings its schema up to date.
   *
   * @param jdbcUrl {@code jdbc:sqlite:<path>} or {@code jdbc:postgresql://host:port/database}
   * @param user the user name, or {@code null} to use the URL's (or none, for SQLite)
   * @param password the password, or {@code null} to use the URL's (or none, for SQLite)
   * @throws DatabaseException if the database cannot be reached, is not a database this build can
   *     use, or cannot be migrated
   */
  public static Database open(
      String jdbcUrl, @Nullable String user, @Nullable String password) {
    return builder(jdbcUrl).credentials(user, password).open();
  }

  /** A builder for a database with options beyond the URL and credentials. */
  public static Builder builder(String jdbcUrl) {
    return new Builder(jdbcUrl);
  }

  /** Which database product this is. */
  public Dialect dialect() {
    return dialect;
  }

  /** The Jdbi instance over this database, for stores; it must not be used after {@link #close}. */
  public Jdbi jdbi() {
    return jdbi;
  }

  /**
   * The data source under {@link #jdbi()} (pooled for PostgreSQL), for stores that need plain JDBC;
   * every connection taken from it must be closed promptly, to return it to the pool.
   */
  DataSource dataSource() {
    return dataSource;
  }

  /**
   * A data source outside the pool, for a connection held for a long time (a {@code LISTEN}) that
   * would otherwise take a pooled connection for good. The same as {@link #dataSource()} for
   * SQLite.
   */
  DataSource unpooledDataSource() {
    return unpooled;
  }

  /** The JDBC URL with any password removed, as it appears in messages. */
  public String url() {
    return url;
  }

  /** The schema version the database is at (the highest this build knows, once open). */
  public int schemaVersion() {
    return schemaVersion;
  }

  /** The highest schema version this build knows how to create and use. */
  public static int latestSchemaVersion() {
    return Migrations.LATEST;
  }

  /**
   * Closes the database: stores built on it fail from now on, and the PostgreSQL pool is closed
   * (a connection in use is closed when it is given back). Close the stores that still write
   * (audit sinks) first. Idempotent.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && dataSource instanceof HikariDataSource) {
      ((HikariDataSource) dataSource).close();
    }
  }

  /** Runs a callback on a handle, turning database failures into {@link DatabaseException}s. */
  <T> T withHandle(String action, HandleCallback<T, RuntimeException> callback) {
    if (closed.get()) {
      throw new IllegalStateException("database " + url + " is closed");
    }
    try {
      return jdbi.withHandle(callback);
    } catch (JdbiException e) {
      throw failure(action, e);
    }
  }

  /**
   * Opens a handle the caller keeps and closes, turning failures into {@link DatabaseException}s.
   */
  Handle openHandle(String action) {
    if (closed.get()) {
      throw new IllegalStateException("database " + url + " is closed");
    }
    try {
      return jdbi.open();
    } catch (JdbiException e) {
      throw failure(action, e);
    }
  }

  /** Whether {@link #close} was called. */
  boolean isClosed() {
    return closed.get();
  }

  /**
   * Runs a callback in a transaction, turning database failures into {@link DatabaseException}s.
   */
  <T> T inTransaction(String action, HandleCallback<T, RuntimeException> callback) {
    return withHandle(action, handle -> handle.inTransaction(callback));
  }

  /** A failure of an action on this database, explained. */
  DatabaseException failure(String action, Exception e) {
    // The driver's own message says most; fall back to the deepest cause.
    Throwable reason = e;
    for (Throwable t = e; t != null; t = t.getCause()) {
      reason = t;
      // The pool's "Connection is not available" carries the driver's last failure as its cause.
      if (t instanceof SQLException
          && !(t instanceof SQLTransientConnectionException
              && t.getCause() instanceof SQLException)) {
        break;
      }
    }
    String detail =
        reason.getMessage() == null
            ? reason.getClass().getSimpleName()
            : reason.getMessage().strip();
    if (detail.endsWith(".")) {
      detail = detail.substring(0, detail.length() - 1);
    }
    String message =
        (e instanceof ConnectionException ? "Cannot connect to " : "Cannot " + action + " in ")
            + describe()
            + ": "
            + detail
            + hint(e);
    return new DatabaseException(message, e);
  }

  /** How messages name this database: the SQLite file, or the URL without passwords. */
  String describe() {
    return dialect == Dialect.SQLITE && file != null // a SQLite database has a file
        ? "SQLite database " + file.toAbsolutePath()
        : "PostgreSQL database " + url;
  }

  private String hint(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLiteException) {
        return sqliteHint(((SQLiteException) t).getResultCode());
      }
      if (t instanceof SQLException && ((SQLException) t).getSQLState() != null) {
        String state = ((SQLException) t).getSQLState();
        // 08: connection exceptions; 57P01-57P03: the server shut down or is starting.
        if (state.startsWith("08") || state.startsWith("57P")) {
          return ". Check that PostgreSQL is running and accepts connections at that host and port"
              + " (listen_addresses, pg_hba.conf, firewalls).";
        }
        if (state.startsWith("28")) {
          return ". Check the user name and password.";
        }
        if (state.equals("3D000")) {
          return ". Check the database name, and create the database first.";
        }
        if (state.equals("53100")) {
          return ". The disk holding the database is full; nothing of the failed transaction was"
              + " written. Free space on the database server.";
        }
        if (state.startsWith("42501")) {
          return ". Check that the user may create and use tables in this database and schema.";
        }
      }
    }
    return ".";
  }

  private String sqliteHint(SQLiteErrorCode code) {
    switch (code.code & 0xff) {
      case 5: // SQLITE_BUSY
      case 6: // SQLITE_LOCKED
        return ". Another connection or process held a lock for longer than the busy timeout ("
            + busyTimeout.toMillis()
            + " ms). Check for another process with a long transaction on this file, such as an"
            + " open sqlite3 shell.";
      case 13: // SQLITE_FULL
        return ". The disk (or the database's size limit) is full; nothing of the failed transaction"
            + " was written. Free space on the volume holding the file.";
      case 26: // SQLITE_NOTADB
        return ". The file is not a SQLite database.";
      case 8: // SQLITE_READONLY
      case 14: // SQLITE_CANTOPEN
      case 3: // SQLITE_PERM
        return ". Check that the file and its folder exist and are readable and writable by this"
            + " process.";
      default:
        return ".";
    }
  }

  private static Database start(Builder builder) {
    String jdbcUrl = builder.jdbcUrl;
    Dialect dialect = Dialect.of(jdbcUrl);
    if (dialect == null) {
      throw new DatabaseException(
          "Unsupported JDBC URL "
              + JdbcUrls.redact(jdbcUrl)
              + ": expected jdbc:sqlite:<file> or jdbc:postgresql://<host>:<port>/<database>.");
    }
    if (dialect == Dialect.SQLITE) {
      Path file = JdbcUrls.sqliteFile(jdbcUrl);
      if (file == null) {
        throw new DatabaseException(
            "In-memory SQLite databases are not supported ("
                + JdbcUrls.redact(jdbcUrl)
                + "): each connection would see a different database. Use a file, such as"
                + " jdbc:sqlite:/var/lib/sentinel/sentinel.db (a temporary file in tests).");
      }
      checkSqliteFile(file);
      DataSource sqlite = sqlite(jdbcUrl, file, builder);
      return new Database(builder, dialect, file, sqlite, sqlite);
    }
    PGSimpleDataSource unpooled = postgresql(builder);
    checkConnection(builder, unpooled);
    HikariDataSource pool = pool(unpooled, builder.poolSize);
    try {
      return new Database(builder, dialect, null, pool, unpooled);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  /**
   * Connects once without the pool, so that a database that cannot be reached fails with the
   * driver's own reason rather than the pool's time-out.
   */
  private static void checkConnection(Builder builder, DataSource unpooled) {
    try (Connection c = unpooled.getConnection()) {
      // Reached, and authenticated.
    } catch (SQLException e) {
      Database unopened = new Database(builder);
      throw unopened.failure("connect", new ConnectionException(e));
    }
  }

  /**
   * A bounded pool over the driver's data source that opens no connection while it is built
   * ({@code initializationFailTimeout} -1: {@link #checkConnection} has already connected), keeps
   * one idle connection, and lets a caller wait for a connection as long as the driver would wait
   * to connect.
   */
  private static HikariDataSource pool(PGSimpleDataSource unpooled, int poolSize) {
    HikariConfig config = new HikariConfig();
    config.setDataSource(unpooled);
    // A counter, never the URL or user: the name appears in logs and thread names.
    config.setPoolName("sentinel-postgresql-" + POOLS.incrementAndGet());
    config.setMaximumPoolSize(poolSize);
    config.setMinimumIdle(1);
    config.setInitializationFailTimeout(-1);
    Duration timeout =
        unpooled.getConnectTimeout() > 0
            ? Duration.ofSeconds(unpooled.getConnectTimeout())
            : DEFAULT_CONNECTION_TIMEOUT;
    config.setConnectionTimeout(timeout.toMillis());
    config.setValidationTimeout(Math.min(timeout.toMillis(), Duration.ofSeconds(5).toMillis()));
    return new HikariDataSource(config);
  }

  private static void checkSqliteFile(Path file) {
    Path absolute = file.toAbsolutePath();
    if (Files.isDirectory(absolute)) {
      throw new DatabaseException(
          "Cannot open SQLite database "
              + absolute
              + ": it is a directory. Point the URL at a file.");
    }
    if (Files.exists(absolute)) {
      byte[] header = new byte[SQLITE_HEADER.length];
      int read;
      try (InputStream in = Files.newInputStream(absolute)) {
        read = in.readNBytes(header, 0, header.length);
      } catch (IOException e) {
        throw new DatabaseException(
            "Cannot read SQLite database "
                + absolute
                + ": "
                + e.getMessage()
                + ". Check that the file is readable and writable by this process.",
            e);
      }
      // An empty file is an empty database; anything else must start with SQLite's header.
      if (read > 0 && !Arrays.equals(header, SQLITE_HEADER)) {
        throw new DatabaseException(
            "Cannot open SQLite database "
                + absolute
                + ": the file is not a SQLite database (it does not start with the SQLite header)."
                + " It was left unchanged. Check the path, or point the URL at a new file.");
      }
      return;
    }
    Path parent = absolute.getParent();
    try {
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new DatabaseException(
          "Cannot create the folder "
              + parent
              + " for SQLite database "
              + absolute
              + ": "
              + e
              + ". Check the path and the permissions of its folders.",
          e);
    }
  }

  private static DataSource sqlite(String jdbcUrl, Path file, Builder builder) {
    Duration busyTimeout = builder.busyTimeout;
    SQLiteConfig config = new SQLiteConfig();
    if (builder.maxPageCount > 0) {
      config.setMaxPageCount(builder.maxPageCount);
    }
    // No journal mode here: SqliteConnections sets it (and mmap_size) and reads both back.
    config.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, busyTimeout.toMillis()));
    config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    config.enforceForeignKeys(true);
    config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    SQLiteDataSource dataSource = new SQLiteDataSource(config);
    dataSource.setUrl(jdbcUrl);
    return new SqliteConnections(dataSource, file.toAbsolutePath().toString());
  }

  private static PGSimpleDataSource postgresql(Builder builder) {
    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    try {
      dataSource.setURL(builder.jdbcUrl);
    } catch (IllegalArgumentException e) {
      // The driver's message repeats the URL, password included: do not chain it.
      throw new DatabaseException(
          "Invalid PostgreSQL JDBC URL "
              + JdbcUrls.redact(builder.jdbcUrl)
              + ": expected jdbc:postgresql://<host>:<port>/<database>[?<parameters>].");
    }
    if (builder.user != null) {
      dataSource.setUser(builder.user);
    }
    if (builder.password != null) {
      dataSource.setPassword(builder.password);
    }
    if (!builder.jdbcUrl.contains("ApplicationName=")) {
      dataSource.setApplicationName(APPLICATION_NAME);
    }
    return dataSource;
  }

  /**
   * Options for opening a database. Each setter validates at once; {@link #open} connects. Not
   * thread-safe.
   */
  public static final class Builder {
    private final String jdbcUrl;
    private @Nullable String user;
    private @Nullable String password;
    private Duration busyTimeout = DEFAULT_BUSY_TIMEOUT;
    private Clock clock = Clock.system();
    private int maxPageCount;
    private int poolSize = DEFAULT_POOL_SIZE;

    private Builder(String jdbcUrl) {
      this.jdbcUrl = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    }

    /** The user and password, each {@code null} to use the URL's (or none). */
    public Builder credentials(@Nullable String user, @Nullable String password) {
      this.user = user;
      this.password = password;
      return this;
    }

    /**
     * How long a SQLite connection waits for another connection's lock before failing; default 5
     * seconds. Ignored for PostgreSQL.
     */
    public Builder busyTimeout(Duration busyTimeout) {
      Objects.requireNonNull(busyTimeout, "busyTimeout");
      if (busyTimeout.isNegative()) {
        throw new IllegalArgumentException("busyTimeout must not be negative: " + busyTimeout);
      }
      this.busyTimeout = busyTimeout;
      return this;
    }

    /**
     * Caps a SQLite database at this many pages (SQLite's {@code max_page_count}), so that tests
     * can fill it as a full disk would; 0, the default, leaves SQLite's own limit.
     */
    Builder maxPageCount(int pages) {
      if (pages < 0) {
        throw new IllegalArgumentException("pages must not be negative: " + pages);
      }
      this.maxPageCount = pages;
      return this;
    }

    /**
     * The most connections the PostgreSQL pool holds at once, at least 1; default {@value
     * Database#DEFAULT_POOL_SIZE}. Callers beyond it wait for a connection to be given back.
     * Ignored for SQLite.
     */
    public Builder poolSize(int poolSize) {
      if (poolSize < 1) {
        throw new IllegalArgumentException("poolSize must be at least 1: " + poolSize);
      }
      this.poolSize = poolSize;
      return this;
    }

    /** The clock that stamps applied migrations; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Opens the database and brings its schema up to date.
     *
     * @throws DatabaseException if the database cannot be reached, is not a database this build can
     *     use, or cannot be migrated
     */
    public Database open() {
      return start(this);
    }
  }
}
