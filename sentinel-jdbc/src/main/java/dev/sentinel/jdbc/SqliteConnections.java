package dev.sentinel.jdbc;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Locale;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.sqlite.SQLiteDataSource;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * SQLite connections that never memory-map a file: each new connection is switched to a rollback
 * journal ({@code journal_mode=TRUNCATE}) with {@code mmap_size=0}, and both settings are read
 * back before the connection is handed out; a connection on which they did not take is closed
 * and refused.
 *
 * <p>Why: in WAL mode every connection maps the shared-memory index ({@code <db>-shm}) into the
 * process. When that mapping is pulled away under it (the file truncated, or the disk remounted
 * read-only after an error) the next access is a {@code SIGBUS} inside the native library, which
 * kills the JVM and every acknowledged audit record still queued in it. A rollback journal needs
 * no shared memory: a failing disk then shows as an {@code SQLITE_IOERR} that the audit sink
 * reports and the dispatcher retries, refusing calls meanwhile. {@code TRUNCATE} rather than
 * {@code DELETE} keeps the journal file between transactions (emptied), so a commit changes no
 * directory.
 *
 * <p>The price, compared with WAL: a commit syncs the journal and the database (two fsyncs rather
 * than none), and a writer's commit waits for readers to finish (readers do not wait for a
 * writer's transaction, only for its commit). The stores therefore keep read transactions short:
 * {@link AuditVerifier} and {@link AuditQuery} read the trail in chunks.
 *
 * <p>Thread-safe, as the underlying data source.
 */
final class SqliteConnections implements DataSource {
  /** The journal mode every connection runs in: a rollback journal, emptied after each commit. */
  static final String JOURNAL_MODE = "truncate";

  private final SQLiteDataSource delegate;
  private final String file;

  SqliteConnections(SQLiteDataSource delegate, String file) {
    this.delegate = delegate;
    this.file = file;
  }

  @Override
  public Connection getConnection() throws SQLException {
    Connection c = delegate.getConnection();
    try {
      settle(c);
      return c;
    } catch (SQLException | RuntimeException e) {
      try {
        c.close();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** Applies and checks the settings that keep every file of the database out of memory maps. */
  private void settle(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      // First, so that nothing the switch below reads is mapped (SQLite's default is 0 already,
      // but a build may change the default).
      s.execute("PRAGMA mmap_size = 0");
      String mode;
      try {
        mode = text(s, "PRAGMA journal_mode = " + JOURNAL_MODE);
      } catch (SQLiteException e) {
        // Leaving WAL needs the only connection to the file: BUSY means another one holds it.
        if ((e.getResultCode().code & 0xff) == SQLiteErrorCode.SQLITE_BUSY.code
            && "wal".equals(modeOrNull(s))) {
          throw new SQLException(walHeld(), "55000");
        }
        throw e;
      }
      if (!JOURNAL_MODE.equals(mode)) {
        throw new SQLException(
            "the database is in journal mode '"
                + mode
                + "' and could not be switched to '"
                + JOURNAL_MODE
                + "'. "
                + (mode.equals("wal") ? walHeld() : "Check that nothing else changes it."),
            "55000");
      }
      long mmap = Long.parseLong(text(s, "PRAGMA mmap_size"));
      if (mmap != 0) {
        throw new SQLException(
            "mmap_size is "
                + mmap
                + " after setting it to 0: this SQLite build does not let Sentinel turn memory"
                + " mapping off, so a disk error could crash the process. Use the sqlite-jdbc"
                + " version Sentinel ships with.",
            "55000");
      }
    }
  }

  private String walHeld() {
    return "The file is in WAL mode and another process has it open (an older Sentinel, or a"
        + " sqlite3 shell), so it cannot be switched to a rollback journal. Sentinel does not run"
        + " SQLite in WAL mode: its memory-mapped -shm file crashes the process (SIGBUS) when the"
        + " disk fails. Stop the other process; the next start converts "
        + file
        + " by itself";
  }

  private static @Nullable String modeOrNull(Statement s) {
    try {
      return text(s, "PRAGMA journal_mode");
    } catch (SQLException e) {
      return null;
    }
  }

  private static String text(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      if (!rs.next()) {
        throw new SQLException("'" + sql + "' returned nothing");
      }
      return String.valueOf(rs.getString(1)).toLowerCase(Locale.ROOT);
    }
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return getConnection(); // SQLite has no users
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return delegate.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    delegate.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    delegate.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return delegate.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return delegate.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    if (iface.isInstance(this)) {
      return iface.cast(this);
    }
    return delegate.unwrap(iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) throws SQLException {
    return iface.isInstance(this) || delegate.isWrapperFor(iface);
  }
}
