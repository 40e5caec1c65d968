package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.core.audit.AuditEventJson;
import java.sql.Connection;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** Reading the audit table: parsing stored events, and consistent read-only snapshots. */
final class AuditRows {
  /** Fetched per round trip when streaming from PostgreSQL. */
  static final int FETCH_SIZE = 1000;

  // Decimals stay exact, so that an event read back has the same canonical form. Numbers may be
  // longer than Jackson's default 1000 characters: a client's 1000-digit integer is stored as
  // 1.111...e999, and a record the sink wrote must always read back (else one call would make
  // the whole trail unverifiable).
  private static final JsonMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxNumberLength(Integer.MAX_VALUE).build())
          .build())
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();

  private AuditRows() {}

  /**
   * The event stored as text in record {@code seq}.
   *
   * @throws IllegalArgumentException if the text is not an audit event's JSON
   */
  static AuditEvent parse(long seq, String text) {
    try {
      return AuditEventJson.fromJson(MAPPER.readTree(text));
    } catch (JacksonException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "audit record " + seq + " does not hold an audit event: " + e.getMessage(), e);
    }
  }

  /**
   * Runs a read-only callback on one consistent snapshot of the database: a repeatable-read
   * transaction on PostgreSQL (which never blocks writers), a deferred read transaction on SQLite
   * (a shared lock, which a writer's commit waits for: keep the callback short, as the chunked
   * readers do).
   */
  static <T> T inSnapshot(
      Database database, String action, HandleCallback<T, RuntimeException> callback) {
    return database.withHandle(
        action,
        h -> {
          if (database.dialect() == Dialect.POSTGRESQL) {
            h.setReadOnly(true);
            return h.inTransaction(TransactionIsolationLevel.REPEATABLE_READ, callback);
          }
          // The data source makes transactions IMMEDIATE (a write lock); a reader needs none.
          h.execute("BEGIN DEFERRED");
          try {
            return callback.withHandle(h);
          } finally {
            endSqliteRead(h);
          }
        });
  }

  private static void endSqliteRead(Handle h) {
    try {
      Connection c = h.getConnection();
      if (c.getAutoCommit()) {
        h.execute("COMMIT");
      }
    } catch (java.sql.SQLException | JdbiException e) {
      // A read transaction holds nothing worth keeping; the connection closes with the handle.
    }
  }
}
