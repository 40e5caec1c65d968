package dev.sentinel.jdbc;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL for tests (these, and the runners' through this module's test jar), from
 * zonky's embedded binaries, listening on 127.0.0.1 only. Each test gets a database of its own
 * from {@link #newDatabase}.
 *
 * <p>A test class that needs one server for all its tests registers it as an extension, which
 * starts it before the first test and stops it after the last:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();
 * }</pre>
 *
 * <p>{@link #start} starts one at once instead; close it to stop it. Not thread-safe to start and
 * stop; its other methods may be called from any thread while it runs.
 */
public final class EmbeddedPostgresServer implements AutoCloseable, BeforeAllCallback,
    AfterAllCallback {
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private volatile EmbeddedPostgres postgres;
  /** The test class whose extension started it, so that nested classes share it. */
  private String owner;

  private EmbeddedPostgresServer() {}

  /** Starts a server now; the caller closes it. */
  public static EmbeddedPostgresServer start() {
    EmbeddedPostgresServer server = new EmbeddedPostgresServer();
    server.startServer();
    return server;
  }

  /**
   * A server that runs while the test class that registers it (on a static field, with
   * {@code @RegisterExtension}) runs: started before its first test, stopped after its last.
   */
  public static EmbeddedPostgresServer perTestClass() {
    return new EmbeddedPostgresServer();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (postgres == null) {
      owner = context.getUniqueId();
      startServer();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (context.getUniqueId().equals(owner)) {
      owner = null;
      close();
    }
  }

  private void startServer() {
    try {
      postgres = EmbeddedPostgres.builder().setServerConfig("listen_addresses", "127.0.0.1").start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
    }
  }

  private EmbeddedPostgres running() {
    EmbeddedPostgres running = postgres;
    if (running == null) {
      throw new IllegalStateException("the embedded PostgreSQL is not running: register it with"
          + " @RegisterExtension on a static field, or use EmbeddedPostgresServer.start()");
    }
    return running;
  }

  /** Creates an empty database and answers its JDBC URL (user postgres, no password). */
  public String newDatabase() {
    String name = "sentinel_test_" + DATABASES.incrementAndGet();
    try (Connection c = running().getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name, e);
    }
    return url(name);
  }

  /** The JDBC URL of a database on this server, whether or not it exists. */
  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + running().getPort() + "/" + database + "?user=postgres";
  }

  /**
   * Makes the database refuse connections and ends those it has, as if its server went away
   * for the gateways using it; {@link #allowConnections} brings it back.
   */
  public void refuseConnections(String url) {
    String name = name(url);
    admin("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false");
    admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name
        + "' AND pid <> pg_backend_pid()");
  }

  /** Lets the database take connections again after {@link #refuseConnections}. */
  public void allowConnections(String url) {
    admin("ALTER DATABASE " + name(url) + " ALLOW_CONNECTIONS true");
  }

  private static String name(String url) {
    String rest = url.substring(url.lastIndexOf('/') + 1);
    int q = rest.indexOf('?');
    return q < 0 ? rest : rest.substring(0, q);
  }

  private void admin(String sql) {
    try (Connection c = running().getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot run " + sql, e);
    }
  }

  /** Stops the server; does nothing when it is not running. */
  @Override
  public void close() {
    EmbeddedPostgres running = postgres;
    if (running == null) {
      return;
    }
    postgres = null;
    try {
      running.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stop embedded PostgreSQL", e);
    }
  }
}
