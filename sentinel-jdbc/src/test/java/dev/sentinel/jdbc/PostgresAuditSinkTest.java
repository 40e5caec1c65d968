package dev.sentinel.jdbc;

import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The audit sink contract on a real PostgreSQL, one new database per test. */
class PostgresAuditSinkTest extends JdbcAuditSinkContract {
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
