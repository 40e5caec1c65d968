package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.operator.KillSwitchOperations;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * {@link GatewayRuntime} on a real database: {@code audit.retention} purges old records and the
 * rest verifies; the operators' kill switch is shared by every runtime on the database, on SQLite
 * by polling and on PostgreSQL at once by {@code NOTIFY}. The backend is a program that does not
 * exist, so no process is started.
 */
class GatewayRuntimeOnDatabaseTest {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();

  private GatewayConfig config(String url, String yaml) {
    return GatewayConfig.parse("gateway: { start_timeout: 1s }\n"
        + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "policy: { rules: [ { id: all, allow: {} } ] }\n"
        + "identity: { principal: { id: bob } }\n"
        + "database: { url: \"" + url + "\", sync_interval: 1h }\n"
        + yaml, "sentinel.yaml", dir, Map.of());
  }

  private GatewayRuntime start(GatewayConfig config) {
    return GatewayRuntime.start(config, clock, JdbcStores.open(config.database(), clock));
  }

  private static Outcome call(GatewayRuntime runtime, String tool) {
    return runtime.sentinel().call(Call.of(Credentials.launch(),
        Request.toolCall("fs", tool, JsonNodeFactory.instance.objectNode())), r -> "ok")
        .outcome();
  }

  private static long rows(Database db) {
    return db.jdbi().withHandle(
        h -> h.createQuery("SELECT count(*) FROM sentinel_audit").mapTo(Long.class).one());
  }

  @Test
  void retention_onSqlite_purgesOldRecordsAndTheRestVerifies() {
    String url = "jdbc:sqlite:" + dir.resolve("trail.db");
    GatewayConfig config = config(url, "audit: { retention: 1d }\n");
    assertThat(config.audit().retention()).isEqualTo(Duration.ofDays(1));
    try (GatewayRuntime runtime = start(config)) {
      for (int i = 0; i < 3; i++) {
        call(runtime, "old" + i);
      }
      assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
      clock.advance(Duration.ofDays(2));
      call(runtime, "new0");
      call(runtime, "new1");
      assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();

      runtime.purgeAudit(); // the hourly run, triggered now (the run at start may have done it)
      assertThat(runtime.purgeAudit()).isZero();
    }
    try (Database db = Database.builder(url).clock(clock).open()) {
      assertThat(rows(db)).isEqualTo(2);
      List<String> tools = db.jdbi().withHandle(h -> h.createQuery(
          "SELECT tool FROM sentinel_audit ORDER BY seq").mapTo(String.class).list());
      assertThat(tools).containsExactly("new0", "new1");
      VerifyReport report = AuditVerifier.verify(db);
      assertThat(report.ok()).as(report.problem()).isTrue();
      assertThat(report.rowsChecked()).isEqualTo(2);
    }
  }

  @Test
  void checkpoint_signsTheChainAsItIsWritten_andCatchesATruncationLater() throws Exception {
    KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    AuditCheckpointTest.pem(dir.resolve("checkpoint.key"), "PRIVATE KEY", keys.getPrivate());
    String url = "jdbc:sqlite:" + dir.resolve("trail.db");
    GatewayConfig config = config(url,
        "audit: { checkpoint: { key: checkpoint.key, file: cp/checkpoints.jsonl, records: 3 } }\n");
    try (GatewayRuntime runtime = start(config)) {
      for (int i = 0; i < 7; i++) {
        call(runtime, "t" + i);
        assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
      }
    } // closing takes a last checkpoint of the head
    List<AuditCheckpoint> checkpoints =
        AuditCheckpoints.read(dir.resolve("cp/checkpoints.jsonl"));
    assertThat(checkpoints).extracting(AuditCheckpoint::seq).containsExactly(1L, 4L, 7L);
    AuditAnchors anchors = AuditAnchors.NONE.checkpoints(checkpoints, List.of(keys.getPublic()));
    try (Database db = Database.open(url, null, null)) {
      assertThat(AuditVerifier.verify(db, anchors).ok()).isTrue();
      db.jdbi().useHandle(h -> {
        h.execute("DELETE FROM sentinel_audit WHERE seq > 5");
        h.execute("UPDATE sentinel_audit_chain SET head_seq = 5, head_hash ="
            + " (SELECT hash FROM sentinel_audit WHERE seq = 5)");
      });

      assertThat(AuditVerifier.verify(db).ok()).isTrue();
      VerifyReport report = AuditVerifier.verify(db, anchors);
      assertThat(report.ok()).isFalse();
      assertThat(report.problem()).startsWith("the checkpoint at seq 7")
          .contains("the chain now ends at seq 5");
    }
  }

  @Test
  void checkpoint_keyThatIsNotAKey_gatewayDoesNotStart() throws Exception {
    java.nio.file.Files.writeString(dir.resolve("checkpoint.key"), "not a key");
    GatewayConfig config = config("jdbc:sqlite:" + dir.resolve("trail.db"),
        "audit: { checkpoint: { key: checkpoint.key, file: checkpoints.jsonl } }\n");

    assertThatThrownBy(() -> start(config))
        .isInstanceOf(AuditCheckpointException.class)
        .hasMessageContaining("Cannot read the audit checkpoint private key")
        .hasMessageContaining("checkpoint.key");
  }

  @Test
  void retention_withoutOldRecords_purgesNothing() {
    String url = "jdbc:sqlite:" + dir.resolve("trail.db");
    try (GatewayRuntime runtime = start(config(url, "audit: { retention: 1h }\n"))) {
      call(runtime, "a");
      assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
      clock.advance(Duration.ofMinutes(59));
      assertThat(runtime.purgeAudit()).isZero();
    }
  }

  @Test
  void killSwitch_onSqlite_anUpdateThroughOneRuntimeIsSeenByAnotherAfterASync() {
    String url = "jdbc:sqlite:" + dir.resolve("shared.db");
    GatewayConfig plain = config(url, "");
    GatewayConfig strict = config(url, "kill_switch: { tools: { \"rm*\": \"never\" } }\n");
    try (GatewayRuntime admin = start(plain);
        GatewayRuntime other = start(strict)) {
      KillSwitch.State operator =
          new KillSwitch.State(null, Map.of(), Map.of("read*", "incident 7"), Map.of());
      admin.updateKillSwitch(operator);
      assertThat(call(admin, "read_file")).isEqualTo(Outcome.DISABLED);

      assertThat(call(other, "read_file")).isEqualTo(Outcome.ALLOWED);
      assertThat(other.syncKillSwitch()).isTrue();
      assertThat(other.syncKillSwitch()).isFalse();
      assertThat(call(other, "read_file")).isEqualTo(Outcome.DISABLED);
      // The config's own switch stays on beside the shared one.
      assertThat(other.sentinel().killSwitch().state().tools())
          .containsOnlyKeys("read*", "rm*");
      assertThat(other.operatorKillSwitch()).isEqualTo(operator);

      // A gateway started later loads the shared state before its first request.
      try (GatewayRuntime late = start(plain)) {
        assertThat(call(late, "read_file")).isEqualTo(Outcome.DISABLED);
      }

      // Switching back on through the other gateway: it cannot switch off its config's entry.
      other.updateKillSwitch(KillSwitch.State.EMPTY);
      assertThat(other.sentinel().killSwitch().state()).isEqualTo(strict.killSwitch());
      assertThat(admin.syncKillSwitch()).isTrue();
      assertThat(call(admin, "read_file")).isEqualTo(Outcome.ALLOWED);
      assertThat(admin.sentinel().killSwitch().state().isEmpty()).isTrue();
    }
  }

  @Test
  void killSwitch_aChangeThroughAGatewayThatHadNotSynced_keepsTheOtherGatewaysChange() {
    // The lost update: gateway B has not yet seen A's entry when its operator switches
    // something else off. Replacing the whole state from B's stale view would switch A's back on.
    String url = "jdbc:sqlite:" + dir.resolve("race.db");
    GatewayConfig plain = config(url, "");
    try (GatewayRuntime a = start(plain);
        GatewayRuntime b = start(plain)) {
      KillSwitchOperations viaA = Operations.builder().killSwitch(a.killSwitchControl())
          .clock(clock).build().killSwitch();
      KillSwitchOperations viaB = Operations.builder().killSwitch(b.killSwitchControl())
          .clock(clock).build().killSwitch();
      viaA.disable(KillSwitchOperations.Scope.TOOL, "read*", "incident 7");
      assertThat(b.operatorKillSwitch().tools()).isEmpty();

      viaB.disable(KillSwitchOperations.Scope.PRINCIPAL, "mallory", "leaked key");

      assertThat(b.operatorKillSwitch().tools()).containsOnlyKeys("read*");
      assertThat(b.operatorKillSwitch().principals()).containsOnlyKeys("mallory");
      assertThat(call(b, "read_file")).isEqualTo(Outcome.DISABLED);
      assertThat(a.syncKillSwitch()).isTrue();
      assertThat(a.operatorKillSwitch().tools()).containsOnlyKeys("read*");
      assertThat(a.operatorKillSwitch().principals()).containsOnlyKeys("mallory");

      // Switching on through A, which now knows both, leaves B's entry.
      viaA.enable(KillSwitchOperations.Scope.TOOL, "read*");
      assertThat(b.syncKillSwitch()).isTrue();
      assertThat(b.operatorKillSwitch().tools()).isEmpty();
      assertThat(b.operatorKillSwitch().principals()).containsOnlyKeys("mallory");
    }
  }

  @Test
  void sharedLimits_batchedOnPostgres_twoRuntimesShareOneLimitWithinTheBound() {
    String url = postgres.newDatabase();
    GatewayConfig config = GatewayConfig.parse("gateway: { start_timeout: 1s }\n"
        + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "policy: { rules: [ { id: all, allow: {} } ], limits: [ { id: fleet, rate: 6/h } ] }\n"
        + "identity: { principal: { id: bob } }\n"
        + "database: { url: \"" + url + "\", sync_interval: 1h }\n"
        + "audit: { sinks: [ { slf4j: } ] }\n"
        + "shared_state: { limits: { sync: \"batched(2)\" } }\n", "sentinel.yaml", dir, Map.of());
    JdbcStores first = JdbcStores.open(config.database(), clock);
    JdbcStores second = JdbcStores.open(config.database(), clock);
    int limited = 0;
    try (GatewayRuntime a = GatewayRuntime.start(config, clock, first);
        GatewayRuntime b = GatewayRuntime.start(config, clock, second)) {
      assertThat(((PostgresRateLimiter) first.rateLimiter().orElseThrow()).settings().sync())
          .hasToString("batched(2)");
      for (int i = 0; i < 10; i++) {
        for (GatewayRuntime runtime : List.of(a, b)) {
          if (call(runtime, "anything") == Outcome.LIMITED) {
            limited++;
          }
        }
      }
    }
    // 20 calls on a limit of 6: at most (2 - 1) * 2 more admitted, and never fewer than 6.
    assertThat(20 - limited).isBetween(6, 8);
  }

  @Test
  void killSwitch_onPostgres_anUpdateIsSeenAtOnceByNotify() {
    String url = postgres.newDatabase();
    GatewayConfig config = config(url, "audit: { sinks: [ { slf4j: } ] }\n");
    // sync_interval is 1h: only the notification can deliver the change within the test.
    try (GatewayRuntime admin = GatewayRuntime.start(config, clock,
            JdbcStores.open(config.database(), clock));
        GatewayRuntime other = GatewayRuntime.start(config, clock,
            JdbcStores.open(config.database(), clock))) {
      KillSwitch.State operator = new KillSwitch.State("maintenance", Map.of(), Map.of(),
          Map.of());
      admin.updateKillSwitch(operator);
      Conditions.await("the other gateway to see the switch",
          () -> "maintenance".equals(other.sentinel().killSwitch().state().all()));
      assertThat(call(other, "anything")).isEqualTo(Outcome.DISABLED);

      admin.updateKillSwitch(KillSwitch.State.EMPTY);
      Conditions.await("the other gateway to see the switch back on",
          () -> other.sentinel().killSwitch().state().isEmpty());
      assertThat(call(other, "anything")).isEqualTo(Outcome.ALLOWED);
    }
  }

  @Test
  void killSwitch_onPostgres_pollingAloneAlsoKeepsInStep() {
    String url = postgres.newDatabase();
    GatewayConfig config = config(url, "audit: { sinks: [ { slf4j: } ] }\n");
    try (JdbcStores raw = JdbcStores.open(config.database(), clock);
        GatewayRuntime other = start(config)) {
      // A change written straight to the store, as by a gateway whose notification was lost.
      KillSwitch.State operator =
          new KillSwitch.State(null, Map.of(), Map.of(), Map.of("bob", "paused"));
      raw.killSwitchStore().orElseThrow().save(operator);
      other.syncKillSwitch();
      assertThat(other.operatorKillSwitch()).isEqualTo(operator);
      assertThat(call(other, "x")).isEqualTo(Outcome.DISABLED);
    }
  }
}
