package dev.sentinel.jdbc;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL for tests, from zonky's embedded binaries, listening on 127.0.0.1 only. Each
 * test gets a database of its own from {@link #newDatabase}. Close it to stop the server.
 */
final class EmbeddedPostgresServer implements AutoCloseable {
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  static EmbeddedPostgresServer start() {
    try {
      return new EmbeddedPostgresServer(
          EmbeddedPostgres.builder().setServerConfig("listen_addresses", "127.0.0.1").start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
    }
  }

  /** Creates an empty database and answers its JDBC URL (user postgres, no password). */
  String newDatabase() {
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
  String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/" + database + "?user=postgres";
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
