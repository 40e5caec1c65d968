package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.testing.ManualClock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Opening and migrating a real PostgreSQL, and failing clearly when there is none. */
class PostgresDatabaseTest {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  private final ManualClock clock = new ManualClock();

  private Database open(String url) {
    return Database.builder(url).clock(clock).open();
  }

  @Test
  void open_newDatabase_createsTheSchemaOnce_andReopenIsIdempotent() {
    String url = postgres.newDatabase();
    try (Database db = open(url)) {
      assertThat(db.dialect()).isEqualTo(Dialect.POSTGRESQL);
      assertThat(db.schemaVersion()).isEqualTo(10);
      assertThat(tables(db))
          .containsExactly(
              "sentinel_api_keys",
              "sentinel_approval",
              "sentinel_audit",
              "sentinel_audit_chain",
              "sentinel_audit_default", // the partitions: the clock's month and the next two
              "sentinel_audit_y2026m01",
              "sentinel_audit_y2026m02",
              "sentinel_audit_y2026m03",
              "sentinel_break_glass",
              "sentinel_bundle",
              "sentinel_heartbeat",
              "sentinel_kill_switch",
              "sentinel_rate_bucket",
              "sentinel_request_state",
              "sentinel_rollout",
              "sentinel_schema",
              "sentinel_secret",
              "sentinel_tool_pin",
              "sentinel_totp");
    }
    try (Database db = open(url)) {
      assertThat(db.schemaVersion()).isEqualTo(10);
      assertThat(SqliteDatabaseTest.schemaRows(db))
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
    }
  }

  @Test
  void open_concurrentlyOnANewDatabase_appliesEachMigrationOnce() throws Exception {
    String url = postgres.newDatabase();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<Integer>> openers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        openers.add(
            () -> {
              try (Database db = open(url)) {
                return db.schemaVersion();
              }
            });
      }
      for (Future<Integer> version : pool.invokeAll(openers)) {
        assertThat(version.get()).isEqualTo(10);
      }
    } finally {
      pool.shutdownNow();
    }
    try (Database db = open(url)) {
      assertThat(SqliteDatabaseTest.schemaRows(db)).hasSize(10);
    }
  }

  @Test
  void open_databaseFromNewerSentinel_isRefusedAndLeftUnchanged() {
    String url = postgres.newDatabase();
    try (Database db = open(url)) {
      db.jdbi()
          .useHandle(
              h -> h.execute("INSERT INTO sentinel_schema VALUES (11, 0, 'from the future')"));
      db.jdbi().useHandle(h -> h.execute("DROP TABLE sentinel_kill_switch")); // as if 11 had
    }
    Jdbi raw = Jdbi.create(url);
    List<Map<String, Object>> before =
        raw.withHandle(h -> h.select("SELECT * FROM sentinel_schema").mapToMap().list());

    assertThatThrownBy(() -> open(url))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("PostgreSQL database " + url)
        .hasMessageContaining(
            "written by a newer Sentinel (schema 11, this build knows 10); upgrade Sentinel");

    List<Map<String, Object>> after =
        raw.withHandle(h -> h.select("SELECT * FROM sentinel_schema").mapToMap().list());
    boolean stillDropped =
        raw.withHandle(
            h ->
                h.select("SELECT to_regclass('sentinel_kill_switch') IS NULL")
                    .mapTo(boolean.class)
                    .one());
    assertThat(after).isEqualTo(before);
    assertThat(stillDropped).isTrue();
  }

  @Test
  void open_unreachableServer_failsClearlyWithoutThePassword() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort(); // free again once closed: nothing listens there
    }
    String url =
        "jdbc:postgresql://127.0.0.1:"
            + port
            + "/sentinel?user=sentinel&password=url-secret-1&connectTimeout=2";

    Throwable thrown =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> Database.open(url, "sentinel", "arg-secret-2"));

    assertThat(thrown)
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining(
            "Cannot connect to PostgreSQL database jdbc:postgresql://127.0.0.1:"
                + port
                + "/sentinel?user=sentinel&connectTimeout=2")
        .hasMessageContaining("Check that PostgreSQL is running");
    StringWriter trace = new StringWriter();
    thrown.printStackTrace(new PrintWriter(trace));
    assertThat(trace.toString()).doesNotContain("url-secret-1").doesNotContain("arg-secret-2");
  }

  @Test
  void open_missingDatabase_saysToCreateIt() {
    String url = postgres.url("no_such_database");
    assertThatThrownBy(() -> open(url))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining(url)
        .hasMessageContaining("create the database first");
  }

  private static List<String> tables(Database db) {
    return db.jdbi()
        .withHandle(
            h ->
                h.createQuery(
                        "SELECT table_name FROM information_schema.tables"
                            + " WHERE table_schema = current_schema() ORDER BY table_name")
                    .mapTo(String.class)
                    .list());
  }
}
