package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit sink contract on a real SQLite file, and SQLite's own failure modes. */
class SqliteAuditSinkTest extends JdbcAuditSinkContract {
  @TempDir Path dir;

  private Path file() {
    return dir.resolve("sentinel.db");
  }

  @Override
  protected Database openDatabase() {
    return Database.open("jdbc:sqlite:" + file(), null, null);
  }

  @Override
  protected Database openSameDatabase() {
    return openDatabase();
  }

  @Override
  protected void poisonId(Handle h) {
    h.execute("CREATE TRIGGER poison BEFORE INSERT ON sentinel_audit WHEN NEW.id = 'poison'"
        + " BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
  }

  @Override
  protected void curePoison(Handle h) {
    h.execute("DROP TRIGGER poison");
  }

  @Test
  void write_diskFull_failsClearlyLeavesNothingAndRecoversWithSpace() throws Exception {
    sink.close();
    database.close();
    Path full = dir.resolve("full.db");
    Database.open("jdbc:sqlite:" + full, null, null).close(); // the schema, at its natural size
    long pages;
    try (Database db = Database.open("jdbc:sqlite:" + full, null, null)) {
      pages = db.jdbi().withHandle(h -> h.createQuery("PRAGMA page_count").mapTo(long.class).one());
    }
    database = Database.builder("jdbc:sqlite:" + full).maxPageCount((int) pages + 4).open();
    sink = JdbcAuditSink.create(database);
    sink.write(List.of(event("small")));
    List<AuditEvent> big = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      big.add(event("big-" + i));
    }

    assertThatThrownBy(() -> sink.write(big))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("Cannot append 2000 audit events in SQLite database " + full)
        .hasMessageContaining("full");
    assertThat(stored()).extracting(AuditEvent::id).containsExactly("small");
    assertThat(verify()).isEqualTo(VerifyReport.intact(1));

    sink.close();
    database.close();
    database = Database.open("jdbc:sqlite:" + full, null, null); // space again
    sink = JdbcAuditSink.create(database);
    sink.write(big);
    assertThat(verify()).isEqualTo(VerifyReport.intact(2_001));
  }

  @Test
  void write_databaseLockedByAnotherProcess_failsClearlyThenSucceeds() throws Exception {
    sink.close();
    database.close();
    database = Database.builder("jdbc:sqlite:" + file()).busyTimeout(Duration.ofMillis(50)).open();
    sink = JdbcAuditSink.create(database);
    try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file());
        Statement s = other.createStatement()) {
      s.execute("BEGIN IMMEDIATE");

      assertThatThrownBy(() -> sink.write(List.of(event("a"))))
          .isInstanceOf(DatabaseException.class)
          .hasMessageContaining(file().toString())
          .hasMessageContaining("busy timeout (50 ms)");

      s.execute("ROLLBACK");
    }
    sink.write(List.of(event("a")));
    assertThat(verify()).isEqualTo(VerifyReport.intact(1));
  }

  @Test
  void query_aWriterCommitsWhileALongQueryIsBeingRead() throws Exception {
    sink.close();
    database.close();
    // A short busy timeout: a writer that had to wait for the reader would fail fast.
    database = Database.builder("jdbc:sqlite:" + file()).busyTimeout(Duration.ofMillis(50)).open();
    sink = JdbcAuditSink.create(database);
    List<AuditEvent> batch = new ArrayList<>();
    for (int i = 0; i < AuditQuery.CHUNK * 2 + 10; i++) {
      batch.add(event("e" + i));
    }
    sink.write(batch);
    JdbcAuditSink writer = JdbcAuditSink.create(database);
    int[] written = {0};

    long read = AuditQuery.builder().build().forEach(database, r -> {
      if (r.seq() % 500 == 0) {
        // The reader holds no lock between chunks: with one read transaction over the whole
        // query, this commit would wait for it (a rollback journal) and fail after 50 ms.
        assertThatCode(() -> writer.write(List.of(event("during-" + r.seq()))))
            .doesNotThrowAnyException();
        written[0]++;
      }
    });

    writer.close();
    assertThat(read).isEqualTo(batch.size()); // the records appended meanwhile are left out
    assertThat(verify()).isEqualTo(VerifyReport.intact(batch.size() + written[0]));
  }

  @Test
  void synchronousFull_setsTheSinksConnection() throws Exception {
    JdbcAuditSink full = JdbcAuditSink.builder(database).synchronousFull(true).build();
    try {
      full.write(List.of(event("a")));
      assertThat(verify().ok()).isTrue();
    } finally {
      full.close();
    }
  }

  @Test
  void verify_notASentinelDatabase_failsClearly() throws Exception {
    Path other = dir.resolve("other.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + other);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE sentinel_audit (x INTEGER)");
    }

    // A SQLite file with a table of that name but not Sentinel's schema: migration fails, named.
    assertThatThrownBy(() -> Database.open("jdbc:sqlite:" + other, null, null))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining(other.toString());
  }
}
