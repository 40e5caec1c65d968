package dev.sentinel.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The pin store on a real PostgreSQL, one new database per test. */
class PostgresPinStoreTest extends JdbcPinStoreContract {
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
