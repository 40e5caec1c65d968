package dev.sentinel.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

/** The request state ledger on a real PostgreSQL, new databases per test. */
class PostgresRequestStateLedgerTest extends JdbcRequestStateLedgerContract {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  @Override
  protected String newUrl() {
    return postgres.newDatabase();
  }
}
