package dev.sentinel.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

/** The kill switch store on a real PostgreSQL, one new database per test. */
class PostgresKillSwitchStoreTest extends JdbcKillSwitchStoreContract {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  @Override
  protected Database openDatabase() {
    return Database.builder(postgres.newDatabase()).clock(clock).open();
  }
}
