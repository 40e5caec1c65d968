package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.SentinelException;
import dev.sentinel.api.StoredKey;
import dev.sentinel.core.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening and migrating real SQLite files. */
class SqliteDatabaseTest {
  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();

  private Database open(Path file) {
    return Database.builder("jdbc:sqlite:" + file).clock(clock).open();
  }

  @Test
  void open_newFile_createsFoldersAndTheWholeSchema() {
    Path file = dir.resolve("a/b/sentinel.db");

    try (Database db = open(file)) {
      assertThat(db.dialect()).isEqualTo(Dialect.SQLITE);
      assertThat(db.schemaVersion()).isEqualTo(Database.latestSchemaVersion()).isEqualTo(10);
      assertThat(tables(db))
          .contains(
              "sentinel_schema",
              "sentinel_api_keys",
              "sentinel_audit",
              "sentinel_audit_chain",
              "sentinel_kill_switch");
      assertThat(schemaRows(db))
          .containsExactly(
              Map.of(
                  "version",
                  1,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "keys and audit"),
              Map.of(
                  "version",
                  2,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "audit chain"),
              Map.of(
                  "version",
                  3,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "rate buckets"),
              Map.of(
                  "version",
                  4,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "approvals"),
              Map.of(
                  "version",
                  5,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "audit partitions"),
              Map.of(
                  "version",
                  6,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "tool pins"),
              Map.of(
                  "version",
                  7,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "break glass"),
              Map.of(
                  "version",
                  8,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "bundles and heartbeats"),
              Map.of(
                  "version",
                  9,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "request states"),
              Map.of(
                  "version",
                  10,
                  "applied_at",
                  Micros.of(clock.instant()),
                  "description",
                  "rollouts"));
      assertThat(tables(db)).doesNotContain("sentinel_rate_bucket", "sentinel_audit_default")
          .contains("sentinel_tool_pin", "sentinel_break_glass", "sentinel_totp",
              "sentinel_bundle", "sentinel_heartbeat", "sentinel_rollout");
    }
    assertThat(file).isRegularFile();
  }

  @Test
  void open_appliesTheConnectionSettings() {
    try (Database db = open(dir.resolve("sentinel.db"))) {
      Map<String, Object> pragmas =
          db.jdbi()
              .withHandle(
                  h ->
                      Map.of(
                          "journal_mode",
                              h.createQuery("PRAGMA journal_mode").mapTo(String.class).one(),
                          "synchronous", h.createQuery("PRAGMA synchronous").mapTo(int.class).one(),
                          "foreign_keys",
                              h.createQuery("PRAGMA foreign_keys").mapTo(int.class).one(),
                          "busy_timeout",
                              h.createQuery("PRAGMA busy_timeout").mapTo(int.class).one(),
                          "mmap_size", h.createQuery("PRAGMA mmap_size").mapTo(long.class).one()));
      assertThat(pragmas)
          .containsEntry("journal_mode", "truncate") // no -shm to map: see StorageFaultTest
          .containsEntry("mmap_size", 0L)
          .containsEntry("synchronous", 1) // NORMAL
          .containsEntry("foreign_keys", 1)
          .containsEntry("busy_timeout", 5000);
    }
  }

  @Test
  void open_again_isIdempotentAndKeepsData() {
    Path file = dir.resolve("sentinel.db");
    Instant first = clock.instant();
    try (Database db = open(file)) {
      JdbcKeyStore.create(db)
          .insert(new StoredKey("k1", "h", "alice", Set.of(), "", first, null, null, null));
    }
    clock.advance(Duration.ofHours(1));

    try (Database db = open(file)) {
      assertThat(db.schemaVersion()).isEqualTo(10);
      assertThat(schemaRows(db))
          .hasSize(10)
          .allSatisfy(row -> assertThat(row.get("applied_at")).isEqualTo(Micros.of(first)));
      assertThat(JdbcKeyStore.create(db).find("k1")).isPresent();
    }
  }

  @Test
  void open_databaseFromNewerSentinel_isRefusedAndLeftUnchanged() throws Exception {
    Path file = dir.resolve("sentinel.db");
    try (Database db = open(file)) {
      db.jdbi()
          .useHandle(
              h -> h.execute("INSERT INTO sentinel_schema VALUES (11, 0, 'from the future')"));
    }
    byte[] before = Files.readAllBytes(file);

    assertThatThrownBy(() -> open(file))
        .isInstanceOf(DatabaseException.class)
        .isInstanceOf(SentinelException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining(
            "written by a newer Sentinel (schema 11, this build knows 10); upgrade Sentinel");

    assertThat(Files.readAllBytes(file)).isEqualTo(before);
  }

  @Test
  void open_textFile_isRefusedAndLeftUnchanged() throws Exception {
    Path file = dir.resolve("notes.txt");
    byte[] text = "These are my notes, not a database.\n".getBytes(StandardCharsets.UTF_8);
    Files.write(file, text);

    assertThatThrownBy(() -> open(file))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("not a SQLite database");

    assertThat(Files.readAllBytes(file)).isEqualTo(text);
    try (var siblings = Files.list(dir)) {
      assertThat(siblings).containsExactly(file); // no -wal, -shm or -journal either
    }
  }

  @Test
  void open_migrationFailingHalfway_leavesNothingBehind() throws Exception {
    Path file = dir.resolve("sentinel.db");
    try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = other.createStatement()) {
      s.execute("CREATE TABLE sentinel_audit (x INTEGER)"); // V1 creates it after other tables
    }

    assertThatThrownBy(() -> open(file))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining(
            "Cannot apply schema migration db/sqlite/V1__keys_and_audit.sql in SQLite database "
                + file)
        .hasMessageContaining("sentinel_audit already exists");

    try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = other.createStatement();
        var rs =
            s.executeQuery("SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("sentinel_audit");
    }
  }

  @Test
  void open_emptyFile_becomesADatabase() throws Exception {
    Path file = Files.createFile(dir.resolve("empty.db"));
    try (Database db = open(file)) {
      assertThat(db.schemaVersion()).isEqualTo(10);
    }
  }

  @Test
  void open_fileLockedByAnotherConnection_failsClearlyAfterTheBusyTimeout() throws Exception {
    Path file = dir.resolve("sentinel.db");
    try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = other.createStatement()) {
      s.execute("BEGIN EXCLUSIVE");
      s.execute("CREATE TABLE other_app (x INTEGER)");

      assertThatThrownBy(
              () ->
                  Database.builder("jdbc:sqlite:" + file)
                      .busyTimeout(Duration.ofMillis(100))
                      .open())
          .isInstanceOf(DatabaseException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("locked")
          .hasMessageContaining("busy timeout (100 ms)");

      s.execute("ROLLBACK");
    }
    try (Database db = open(file)) {
      assertThat(db.schemaVersion()).isEqualTo(10);
    }
  }

  @Test
  void write_whileAnotherConnectionHoldsTheWriteLock_failsClearly_andReadsGoOn() throws Exception {
    Path file = dir.resolve("sentinel.db");
    StoredKey k1 =
        new StoredKey("k1", "h", "alice", Set.of(), "", clock.instant(), null, null, null);
    try (Database db =
        Database.builder("jdbc:sqlite:" + file).busyTimeout(Duration.ofMillis(100)).open()) {
      JdbcKeyStore store = JdbcKeyStore.builder(db).cacheTtl(Duration.ZERO).build();
      store.insert(k1);
      try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
          Statement s = other.createStatement()) {
        // A writer in its transaction (not yet committing): readers go on, writers wait.
        s.execute("BEGIN IMMEDIATE");
        s.execute("UPDATE sentinel_api_keys SET name = 'changing'");

        StoredKey k2 =
            new StoredKey("k2", "h", "bob", Set.of(), "", clock.instant(), null, null, null);
        assertThatThrownBy(() -> store.insert(k2))
            .isInstanceOf(DatabaseException.class)
            .hasMessageContaining("store API key k2")
            .hasMessageContaining(file.toString())
            .hasMessageContaining("busy timeout");
        assertThat(store.find("k1")).contains(k1); // readers wait only for a writer's commit

        s.execute("ROLLBACK");
      }
      assertThat(store.list()).containsExactly(k1);
    }
  }

  @Test
  void open_inMemoryDatabase_isRefused() {
    assertThatThrownBy(() -> Database.open("jdbc:sqlite::memory:", null, null))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("In-memory SQLite databases are not supported");
  }

  @Test
  void open_directory_isRefused() {
    assertThatThrownBy(() -> open(dir))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("is a directory");
  }

  @Test
  void open_unsupportedUrl_isRefusedWithoutItsPassword() {
    assertThatThrownBy(
            () -> Database.open("jdbc:mysql://db:3306/s?user=u&password=hunter2", null, null))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("Unsupported JDBC URL jdbc:mysql://db:3306/s?user=u")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void close_thenUse_failsClearly() {
    Database db = open(dir.resolve("sentinel.db"));
    JdbcKeyStore store = JdbcKeyStore.create(db);
    db.close();

    assertThatThrownBy(() -> store.list())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  private static List<String> tables(Database db) {
    return db.jdbi()
        .withHandle(
            h ->
                h.createQuery("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                    .mapTo(String.class)
                    .list());
  }

  static List<Map<String, Object>> schemaRows(Database db) {
    return db.jdbi()
        .withHandle(
            h ->
                h.createQuery(
                        "SELECT version, applied_at, description FROM sentinel_schema ORDER BY"
                            + " version")
                    .map(
                        (rs, ctx) ->
                            Map.<String, Object>of(
                                "version", rs.getInt("version"),
                                "applied_at", rs.getLong("applied_at"),
                                "description", rs.getString("description")))
                    .list());
  }
}
