package dev.sentinel.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The approval queue on a real PostgreSQL, one new database per test. */
class PostgresApprovalStoreTest extends JdbcApprovalStoreContract {
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
  protected Database openDatabase() {
    return Database.builder(postgres.newDatabase()).clock(clock).open();
  }
}
