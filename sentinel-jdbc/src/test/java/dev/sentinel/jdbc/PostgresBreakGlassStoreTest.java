package dev.sentinel.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** Break-glass windows and enrolments on a real PostgreSQL, one new database per test. */
class PostgresBreakGlassStoreTest extends JdbcBreakGlassStoreContract {
  private static EmbeddedPostgresServer postgres;
  private String url;

  @BeforeAll
  static void startPostgres() {
    postgres = EmbeddedPostgresServer.start();
  }

  @AfterAll
  static void stopPostgres() {
    if (postgres != null) {
      postgres.close();
    }
  }

  @BeforeEach
  void newDatabase() {
    url = postgres.newDatabase();
  }

  @Override
  protected Database openDatabase() {
    return Database.builder(url).clock(clock).open();
  }
}
