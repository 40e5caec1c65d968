package dev.sentinel.jdbc;

import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The audit sink contract on a real PostgreSQL, one new database per test. */
class PostgresAuditSinkTest extends JdbcAuditSinkContract {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  private String url;

  @Override
  protected Database openDatabase() {
    url = postgres.newDatabase();
    return Database.open(url, null, null);
  }

  @Override
  protected Database openSameDatabase() {
    return Database.open(url, null, null);
  }

  @Override
  protected void poisonId(Handle h) {
    h.execute("ALTER TABLE sentinel_audit ADD CONSTRAINT poison CHECK (id <> 'poison')");
  }

  @Override
  protected void curePoison(Handle h) {
    h.execute("ALTER TABLE sentinel_audit DROP CONSTRAINT poison");
  }
}
