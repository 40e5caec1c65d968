package dev.sentinel.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

/** The JDBC key store contract on a real PostgreSQL, one new database per test. */
class PostgresKeyStoreTest extends JdbcKeyStoreContract {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  @Override
  protected Database openDatabase() {
    return Database.builder(postgres.newDatabase()).clock(clock).open();
  }
}
