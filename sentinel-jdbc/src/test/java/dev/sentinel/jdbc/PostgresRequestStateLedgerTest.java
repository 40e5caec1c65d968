package dev.sentinel.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The request state ledger on a real PostgreSQL, new databases per test. */
class PostgresRequestStateLedgerTest extends JdbcRequestStateLedgerContract {
  private static EmbeddedPostgresServer postgres;

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

  @Override
  protected String newUrl() {
    return postgres.newDatabase();
  }
}
