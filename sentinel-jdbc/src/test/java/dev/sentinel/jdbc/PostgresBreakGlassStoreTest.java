package dev.sentinel.jdbc;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Break-glass windows and enrolments on a real PostgreSQL, one new database per test. */
class PostgresBreakGlassStoreTest extends JdbcBreakGlassStoreContract {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  private String url;

  @BeforeEach
  void newDatabase() {
    url = postgres.newDatabase();
  }

  @Override
  protected Database openDatabase() {
    return Database.builder(url).clock(clock).open();
  }
}
