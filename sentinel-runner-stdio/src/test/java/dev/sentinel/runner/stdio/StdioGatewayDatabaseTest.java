package dev.sentinel.runner.stdio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Outcome;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.jdbc.AuditQuery;
import dev.sentinel.jdbc.AuditRecord;
import dev.sentinel.jdbc.AuditVerifier;
import dev.sentinel.jdbc.DatabaseException;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.jdbc.VerifyReport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The stdio gateway with its database: API keys from {@code identity.api_key} verified against
 * the database's key store, and the audit trail recorded in it (async and durable), verifiable.
 * Each test runs the real gateway on pipes, fronting a real child process.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StdioGatewayDatabaseTest {
  @TempDir Path dir;

  private GatewayConfig config(String extra, Map<String, String> env) {
    return GatewayConfig.parse(StdioClient.config(extra), "sentinel.yaml", dir, env);
  }

  private IssuedKey issue(Path db, String principal) {
    try (JdbcStores stores = JdbcStores.open(
        DatabaseSettings.of("jdbc:sqlite:" + db, null, null), Clock.system())) {
      return ApiKeys.create(stores.keys(), Clock.system())
          .issue(principal, Set.of("developer"), "laptop", null);
    }
  }

  private List<AuditEvent> trail(Path db) {
    try (JdbcStores stores = JdbcStores.open(
        DatabaseSettings.of("jdbc:sqlite:" + db, null, null), Clock.system())) {
      VerifyReport report = AuditVerifier.verify(stores.database());
      assertThat(report.ok()).as(report.problem()).isTrue();
      List<AuditEvent> events = new ArrayList<>();
      AuditQuery.builder().includeIntents(true).build()
          .forEach(stores.database(), (AuditRecord r) -> events.add(r.event()));
      return events;
    }
  }

  @Test
  void run_withValidApiKey_servesAndRecordsTheTrailInTheDatabase() throws Exception {
    Path db = dir.resolve("sentinel.db");
    IssuedKey key = issue(db, "ann");
    GatewayConfig config = config("identity: { api_key: \"${env:SENTINEL_API_KEY}\" }\n",
        Map.of("SENTINEL_API_KEY", key.secret()));
    assertThat(config.database().url()).isEqualTo("jdbc:sqlite:" + db);

    try (StdioClient client = new StdioClient(config, Clock.system())) {
      assertThat(client.initialize().path("result").path("serverInfo").path("name").asString())
          .isEqualTo("sentinel");
      JsonNode list = client.request("tools/list", null);
      assertThat(list.path("result").path("tools").get(0).path("name").asString())
          .isEqualTo("tiny__echo");
      JsonNode call = client.callTool("tiny__echo", "hello");
      assertThat(call.path("result").path("content").get(0).path("text").asString())
          .isEqualTo("hello");
      assertThat(client.stop()).isZero();
    }

    List<AuditEvent> trail = trail(db);
    assertThat(trail).extracting(AuditEvent::principal).containsOnly("ann");
    assertThat(trail).filteredOn(e -> "tools/call".equals(e.method()))
        .extracting(AuditEvent::outcome).containsExactly(Outcome.ALLOWED);
    assertThat(Files.readString(db, StandardCharsets.ISO_8859_1)).doesNotContain(key.secret());
  }

  @Test
  void run_withRevokedApiKey_refusesEveryCallAndAuditsTheReason() throws Exception {
    Path db = dir.resolve("sentinel.db");
    IssuedKey key = issue(db, "ann");
    try (JdbcStores stores = JdbcStores.open(
        DatabaseSettings.of("jdbc:sqlite:" + db, null, null), Clock.system())) {
      assertThat(ApiKeys.create(stores.keys(), Clock.system()).revoke(key.key().id())).isTrue();
    }
    assertRefusedEverywhere(db, key.secret(), "revoked key " + key.key().id());
  }

  @Test
  void run_withUnknownApiKey_refusesEveryCallAndAuditsTheReason() throws Exception {
    IssuedKey elsewhere = issue(dir.resolve("other.db"), "mallory");
    Path db = dir.resolve("sentinel.db");
    issue(db, "ann");
    assertRefusedEverywhere(db, elsewhere.secret(), "unknown key " + elsewhere.key().id());
  }

  private void assertRefusedEverywhere(Path db, String secret, String reason) throws Exception {
    GatewayConfig config = config("identity: { api_key: \"${env:SENTINEL_API_KEY}\" }\n",
        Map.of("SENTINEL_API_KEY", secret));
    try (StdioClient client = new StdioClient(config, Clock.system())) {
      client.initialize();
      JsonNode list = client.request("tools/list", null);
      JsonNode call = client.callTool("tiny__echo", "hello");
      JsonNode again = client.callTool("tiny__echo", "again");
      for (JsonNode reply : List.of(list, call, again)) {
        assertThat(reply.path("error").path("code").asInt()).as(reply.toString())
            .isEqualTo(-32011);
        assertThat(reply.toString()).doesNotContain(secret);
      }
      assertThat(client.stop()).isZero();
    }
    List<AuditEvent> trail = trail(db);
    assertThat(trail).isNotEmpty();
    assertThat(trail).extracting(AuditEvent::outcome).containsOnly(Outcome.UNAUTHENTICATED);
    assertThat(trail).extracting(AuditEvent::errorMessage).containsOnly(reason);
    assertThat(Files.readString(db, StandardCharsets.ISO_8859_1)).doesNotContain(secret);
  }

  @Test
  void run_withoutAuditOrDatabaseSections_recordsToSentinelDbBesideTheConfig() throws Exception {
    GatewayConfig config = config("identity: { principal: { id: bob } }\n", Map.of());
    try (StdioClient client = new StdioClient(config, Clock.system())) {
      client.initialize();
      assertThat(client.callTool("tiny__echo", "x").path("result").isObject()).isTrue();
      assertThat(client.stop()).isZero();
    }
    List<AuditEvent> trail = trail(dir.resolve("sentinel.db"));
    assertThat(trail).filteredOn(e -> "tools/call".equals(e.method()))
        .extracting(AuditEvent::principal, AuditEvent::outcome)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("bob", Outcome.ALLOWED));
  }

  @Test
  void run_durableMode_commitsAnIntentBeforeForwarding() throws Exception {
    GatewayConfig config = config("identity: { principal: { id: bob } }\n"
        + "database: { url: \"jdbc:sqlite:data/trail.db\" }\n"
        + "audit: { sinks: [ { database: {} } ], mode: durable }\n", Map.of());
    try (StdioClient client = new StdioClient(config, Clock.system())) {
      client.initialize();
      client.callTool("tiny__echo", "one");
      client.callTool("tiny__echo", "two");
      assertThat(client.stop()).isZero();
    }
    List<AuditEvent> calls = new ArrayList<>();
    for (AuditEvent e : trail(dir.resolve("data/trail.db"))) {
      if ("tools/call".equals(e.method())) {
        calls.add(e);
      }
    }
    // Each forwarded call: its intent (PENDING) first, then its final record with the same id.
    assertThat(calls).extracting(AuditEvent::outcome).containsExactly(
        Outcome.PENDING, Outcome.ALLOWED, Outcome.PENDING, Outcome.ALLOWED);
    assertThat(calls.get(0).id()).isEqualTo(calls.get(1).id());
    assertThat(Files.exists(dir.resolve("sentinel.db"))).isFalse();
  }

  @Test
  void run_withoutDatabaseUse_opensNoDatabase() throws Exception {
    GatewayConfig config = config("identity: { principal: { id: bob } }\n"
        + "audit: { sinks: [ { jsonl: audit.jsonl } ] }\n", Map.of());
    try (StdioClient client = new StdioClient(config, Clock.system())) {
      client.initialize();
      client.callTool("tiny__echo", "x");
      assertThat(client.stop()).isZero();
    }
    assertThat(Files.exists(dir.resolve("sentinel.db"))).isFalse();
    assertThat(Files.readString(dir.resolve("audit.jsonl"))).contains("\"tools/call\"");
  }

  @Test
  void run_onAForeignSqliteFile_failsNamingItAndLeavesItUnchanged() throws Exception {
    Path foreign = dir.resolve("sentinel.db");
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + foreign)) {
      c.createStatement().execute("CREATE TABLE invoices (id INTEGER)");
    }
    byte[] before = Files.readAllBytes(foreign);
    GatewayConfig config = config("", Map.of());
    assertThatThrownBy(() -> StdioGateway.run(config, java.io.InputStream.nullInputStream(),
            java.io.OutputStream.nullOutputStream(), Clock.system()))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining(foreign.toString())
        .hasMessageContaining("not a Sentinel database");
    assertThat(Files.readAllBytes(foreign)).isEqualTo(before);
  }
}
