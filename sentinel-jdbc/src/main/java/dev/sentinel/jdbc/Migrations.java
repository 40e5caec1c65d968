package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Handle;
import org.jspecify.annotations.Nullable;

/**
 * Brings a database's schema up to date: the versions applied are rows of {@code sentinel_schema};
 * each missing version's SQL file ({@code db/<dialect>/V<n>__<name>.sql}) runs in one transaction
 * together with the row that records it. Concurrent openers serialize on a lock (SQLite's write
 * lock, a PostgreSQL advisory lock) and re-read the version under it, so a migration is applied
 * once.
 *
 * <p>SQL files hold plain statements, each ending with {@code ;} at the end of a line, and {@code
 * --} comments on lines of their own or after code (never inside string literals).
 */
final class Migrations {
  /** The migrations this build knows, in order; the last one's version is {@link #LATEST}. */
  private static final List<Migration> ALL =
      List.of(
          new Migration(1, "keys_and_audit"),
          new Migration(2, "audit_chain"),
          new Migration(3, "rate_buckets"),
          new Migration(4, "approvals"),
          new Migration(5, "audit_partitions", AuditPartitions::migrate),
          new Migration(6, "tool_pins"),
          new Migration(7, "break_glass"),
          new Migration(8, "bundles_and_heartbeats"),
          new Migration(9, "request_states"),
          new Migration(10, "rollouts"));

  /** The newest schema version this build knows. */
  static final int LATEST = ALL.get(ALL.size() - 1).version();

  // Any constant works, as long as no other application on the database uses it.
  private static final long ADVISORY_LOCK = 0x53454e54494e454cL; // "SENTINEL"

  private Migrations() {}

  /**
   * One schema version and the SQL that creates it from the one before, and on PostgreSQL a step
   * after the SQL for what depends on the data (or {@code null}), in the same transaction.
   */
  record Migration(int version, String name, @Nullable PostgresStep postgresStep) {
    Migration(int version, String name) {
      this(version, name, null);
    }

    String resource(Dialect dialect) {
      return "db/" + dialect.directory() + "/V" + version + "__" + name + ".sql";
    }

    String description() {
      return name.replace('_', ' ');
    }
  }

  /**
   * Applies the missing migrations and answers the resulting version.
   *
   * @throws DatabaseException if the database is newer than this build or a migration fails
   */
  static int migrate(Database database, Clock clock) {
    Dialect dialect = database.dialect();
    // Read first, without a write lock: a newer database must be left exactly as it is.
    int current = database.withHandle("read the schema version", h -> version(h, dialect));
    checkNotNewer(database, current);
    for (Migration migration : ALL) {
      if (migration.version() <= current) {
        continue;
      }
      String sql = load(migration, dialect);
      current =
          database.inTransaction(
              "apply schema migration " + migration.resource(dialect),
              h -> apply(h, database, migration, sql, clock));
      checkNotNewer(database, current);
    }
    return current;
  }

  private static int apply(
      Handle h, Database database, Migration migration, String sql, Clock clock) {
    Dialect dialect = database.dialect();
    if (dialect == Dialect.POSTGRESQL) {
      h.createQuery("SELECT 1 FROM (SELECT pg_advisory_xact_lock(:key)) AS locked")
          .bind("key", ADVISORY_LOCK)
          .mapTo(int.class)
          .one();
    }
    h.execute(schemaTable(dialect));
    int now = version(h, dialect);
    if (now >= migration.version()) {
      return now; // another process applied it while we waited for the lock
    }
    // Plain JDBC: the SQL runs verbatim, untouched by Jdbi's parameter and template syntax.
    try (Statement jdbc = h.getConnection().createStatement()) {
      for (String statement : statements(sql)) {
        jdbc.execute(statement);
      }
    } catch (SQLException e) {
      // Thrown inside the transaction, so Jdbi rolls the whole migration back.
      throw database.failure("apply schema migration " + migration.resource(dialect), e);
    }
    if (dialect == Dialect.POSTGRESQL && migration.postgresStep() != null) {
      migration.postgresStep().apply(h, clock);
    }
    h.execute(
        "INSERT INTO sentinel_schema (version, applied_at, description) VALUES (?, ?, ?)",
        migration.version(),
        Micros.of(clock.instant()),
        migration.description());
    return migration.version();
  }

  private static void checkNotNewer(Database database, int version) {
    if (version > LATEST) {
      throw new DatabaseException(
          "Cannot use "
              + database.describe()
              + ": it was written by a newer Sentinel (schema "
              + version
              + ", this build knows "
              + LATEST
              + "); upgrade Sentinel. The database was left unchanged.");
    }
  }

  private static String schemaTable(Dialect dialect) {
    String time = dialect == Dialect.SQLITE ? "INTEGER" : "BIGINT";
    return "CREATE TABLE IF NOT EXISTS sentinel_schema ("
        + " version INTEGER NOT NULL PRIMARY KEY,"
        + " applied_at "
        + time
        + " NOT NULL," // microseconds since the epoch, UTC
        + " description TEXT NOT NULL)";
  }

  /** A migration's step in Java, after its SQL, on PostgreSQL. */
  @FunctionalInterface
  interface PostgresStep {
    void apply(Handle h, Clock clock);
  }

  /** The highest version recorded, or 0 for a database Sentinel has never written to. */
  private static int version(Handle h, Dialect dialect) {
    String exists =
        dialect == Dialect.SQLITE
            ? "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name ="
                  + " 'sentinel_schema'"
            : "SELECT to_regclass('sentinel_schema') IS NOT NULL";
    boolean present = h.createQuery(exists).mapTo(boolean.class).one();
    if (!present) {
      return 0;
    }
    return h.createQuery("SELECT coalesce(max(version), 0) FROM sentinel_schema")
        .mapTo(int.class)
        .one();
  }

  private static String load(Migration migration, Dialect dialect) {
    String resource = migration.resource(dialect);
    try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing migration resource " + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read migration resource " + resource, e);
    }
  }

  /** The statements of a migration file: comments dropped, split at a {@code ;} ending a line. */
  static List<String> statements(String sql) {
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : sql.split("\n", -1)) {
      int comment = line.indexOf("--");
      String code = (comment >= 0 ? line.substring(0, comment) : line).strip();
      if (code.isEmpty()) {
        continue;
      }
      if (code.endsWith(";")) {
        current.append(code, 0, code.length() - 1);
        statements.add(current.toString().strip());
        current.setLength(0);
      } else {
        current.append(code).append('\n');
      }
    }
    if (!current.toString().isBlank()) {
      throw new IllegalStateException("migration ends without ';': " + current.toString().strip());
    }
    return statements;
  }
}
