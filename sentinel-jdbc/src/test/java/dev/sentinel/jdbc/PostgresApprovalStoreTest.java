package dev.sentinel.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

/** The approval queue on a real PostgreSQL, one new database per test. */
class PostgresApprovalStoreTest extends JdbcApprovalStoreContract {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  @Override
  protected Database openDatabase() {
    return Database.builder(postgres.newDatabase()).clock(clock).open();
  }
}
