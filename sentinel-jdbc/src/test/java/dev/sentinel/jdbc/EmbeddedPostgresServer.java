package dev.sentinel.jdbc;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL for tests (these, and the runners' through this module's test jar), from
 * zonky's embedded binaries, listening on 127.0.0.1 only. Each test gets a database of its own
 * from {@link #newDatabase}. Close it to stop the server.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  public static EmbeddedPostgresServer start() {
    try {
      return new EmbeddedPostgresServer(
          EmbeddedPostgres.builder().setServerConfig("listen_addresses", "127.0.0.1").start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
    }
  }

  /** Creates an empty database and answers its JDBC URL (user postgres, no password). */
  public String newDatabase() {
    String name = "sentinel_test_" + DATABASES.incrementAndGet();
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name, e);
    }
    return url(name);
  }

  /** The JDBC URL of a database on this server, whether or not it exists. */
  public String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + database + "?user=postgres";
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
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot run " + sql, e);
    }
  }

  @Override
  public void close() {
    try {
      postgres.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stop embedded PostgreSQL", e);
    }
  }
}
