package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.audit.AuditMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code database:} section, the {@code database} audit sink and {@code audit.mode}. */
class DatabaseConfigTest {
  private static final String BASE = "backends:\n  - name: fs\n    stdio: { command: s }\n"
      + "policy: { rules: [] }\n";
  private static final String KEY = "snk_abcdefghijkl_" + "A".repeat(43);

  @TempDir Path dir;

  private GatewayConfig parse(String yaml, Map<String, String> env) {
    return GatewayConfig.parse(BASE + yaml, "sentinel.yaml", dir, env);
  }

  private String problems(String yaml, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml, env));
    assertThat(e).as("expected a ConfigException for:\n" + yaml).isNotNull();
    return e.getMessage();
  }

  @Test
  void parse_withoutDatabaseOrAudit_usesSentinelDbBesideTheConfigForAudit() {
    GatewayConfig config = parse("", Map.of());
    assertThat(config.database()).isEqualTo(DatabaseSettings.embeddedDefault(dir));
    assertThat(config.database().url())
        .isEqualTo("jdbc:sqlite:" + dir.toAbsolutePath().normalize().resolve("sentinel.db"));
    assertThat(config.database().configured()).isFalse();
    assertThat(config.audit().sinks()).containsExactly(Audit.DatabaseSink.INSTANCE);
    assertThat(config.audit().mode()).isEqualTo(AuditMode.ASYNC);
    assertThat(config.needsDatabase()).isTrue();
  }

  @Test
  void parse_relativeSqlitePath_isResolvedAgainstTheConfigsDirectory() {
    GatewayConfig config = parse("database: { url: \"jdbc:sqlite:data/trail.db\" }\n", Map.of());
    assertThat(config.database().url())
        .isEqualTo("jdbc:sqlite:" + dir.toAbsolutePath().normalize().resolve("data/trail.db"));
    assertThat(config.database().configured()).isTrue();
    assertThat(config.database().sqlite()).isTrue();
  }

  @Test
  void parse_sqliteFileUrlWithParameters_keepsTheParameters() {
    GatewayConfig config =
        parse("database: { url: \"jdbc:sqlite:file:t.db?cache=private\" }\n", Map.of());
    assertThat(config.database().url()).isEqualTo("jdbc:sqlite:file:"
        + dir.toAbsolutePath().normalize().resolve("t.db") + "?cache=private");
  }

  @Test
  void parse_postgresqlWithUserAndPasswordFromEnvironment_neverShowsThePassword() {
    GatewayConfig config = parse("database:\n"
        + "  url: \"jdbc:postgresql://db.internal:5432/sentinel?ssl=true&password=${env:PGPASS}\"\n"
        + "  user: gateway\n  password: \"${env:PGPASS}\"\n",
        Map.of("PGPASS", "hunter2-secret"));
    DatabaseSettings db = config.database();
    assertThat(db.url()).contains("password=hunter2-secret");
    assertThat(db.user()).isEqualTo("gateway");
    assertThat(db.password()).isEqualTo("hunter2-secret");
    assertThat(db.safeUrl()).isEqualTo("jdbc:postgresql://db.internal:5432/sentinel?ssl=true");
    assertThat(db.toString() + config).doesNotContain("hunter2");
    assertThat(db.sqlite()).isFalse();
  }

  @Test
  void redact_removesUserinfoPasswords() {
    assertThat(DatabaseSettings.of("jdbc:postgresql://ann:pw@h:5432/d", null, null).safeUrl())
        .isEqualTo("jdbc:postgresql://ann@h:5432/d");
  }

  @Test
  void parse_badDatabaseUrls_areLocatedErrors() {
    assertThat(problems("database: { url: \"jdbc:mysql://h/d\" }\n", Map.of()))
        .contains("sentinel.yaml:5:")
        .contains("unsupported database url 'jdbc:mysql://h/d': expected jdbc:sqlite:<file>");
    assertThat(problems("database: { url: \"jdbc:sqlite::memory:\" }\n", Map.of()))
        .contains("in-memory databases are not supported");
    assertThat(problems("database: { url: \"jdbc:postgresql:sentinel\" }\n", Map.of()))
        .contains("is not a PostgreSQL JDBC URL");
    assertThat(problems("database: { user: ann }\n", Map.of()))
        .contains("missing required key 'url'");
  }

  @Test
  void parse_missingPasswordVariable_namesTheReferenceNotAValue() {
    String message = problems("database: { url: \"jdbc:postgresql://h:5432/d\", "
        + "password: \"${env:PGPASSWORD}\" }\n", Map.of());
    assertThat(message).contains("/database/password")
        .contains("PGPASSWORD is not set (referenced as ${env:PGPASSWORD})");
  }

  @Test
  void parse_sqliteWithPassword_isAnError() {
    assertThat(problems("database: { url: \"jdbc:sqlite:a.db\", password: x }\n", Map.of()))
        .contains("a SQLite database has no user or password");
  }

  @Test
  void parse_misspeltDatabaseKey_suggestsTheNearest() {
    assertThat(problems("database: { url: \"jdbc:sqlite:a.db\", pasword: x }\n", Map.of()))
        .contains("unknown key 'pasword'").contains("did you mean 'password'?");
  }

  @Test
  void parse_retention_isADurationOfTheDatabaseSink() {
    assertThat(parse("", Map.of()).audit().retention()).isNull();
    assertThat(parse("audit: { retention: 30d }\n", Map.of()).audit().retention())
        .isEqualTo(java.time.Duration.ofDays(30));
    assertThat(parse("audit: { sinks: [ { database: {} }, { slf4j: } ], retention: 12h }\n",
        Map.of()).audit().retention()).isEqualTo(java.time.Duration.ofHours(12));
  }

  @Test
  void parse_badRetention_isALocatedError() {
    assertThat(problems("audit: { retention: 30 }\n", Map.of()))
        .contains("sentinel.yaml:5:").contains("/audit/retention")
        .contains("a bare number is ambiguous");
    assertThat(problems("audit: { retention: 1 month }\n", Map.of()))
        .contains("/audit/retention").contains("expected a duration such as");
    assertThat(problems("audit: { retention: 0d }\n", Map.of()))
        .contains("must be longer than zero");
  }

  @Test
  void parse_retentionWithoutTheDatabaseSink_isALocatedError() {
    assertThat(problems("audit:\n  sinks: [ { jsonl: a.jsonl } ]\n  retention: 30d\n", Map.of()))
        .contains("sentinel.yaml:7:").contains("/audit/retention")
        .contains("retention purges the database sink's trail, but sinks has no "
            + "{ database: {} } (only jsonl (without fsync))");
  }

  @Test
  void parse_checkpoint_keyAndFileRelativeToTheConfig_everyDefaultsToAnHour() {
    assertThat(parse("", Map.of()).audit().checkpoint()).isNull();
    Audit.Checkpoint checkpoint = parse(
        "audit: { checkpoint: { key: keys/checkpoint.key, file: /var/log/cp.jsonl } }\n",
        Map.of()).audit().checkpoint();
    Path base = dir.toAbsolutePath().normalize();
    assertThat(checkpoint).isEqualTo(new Audit.Checkpoint(base.resolve("keys/checkpoint.key"),
        Path.of("/var/log/cp.jsonl"), java.time.Duration.ofHours(1), 0));
    assertThat(parse("audit: { checkpoint: { key: k, file: f, every: 10m, records: 5000 } }\n",
        Map.of()).audit().checkpoint())
        .isEqualTo(new Audit.Checkpoint(base.resolve("k"), base.resolve("f"),
            java.time.Duration.ofMinutes(10), 5000));
  }

  @Test
  void parse_badCheckpoint_isALocatedError() {
    assertThat(problems("audit: { checkpoint: { file: f } }\n", Map.of()))
        .contains("sentinel.yaml:5:").contains("audit checkpoint: missing required key 'key'");
    assertThat(problems("audit: { checkpoint: { key: k, file: f, records: 0 } }\n", Map.of()))
        .contains("sentinel.yaml:5:").contains("records must be positive, got 0");
    assertThat(problems("audit: { checkpoint: { key: k, file: f, evry: 1h } }\n", Map.of()))
        .contains("unknown key 'evry'").contains("did you mean 'every'?");
    assertThat(problems("audit:\n  sinks: [ { slf4j: } ]\n  checkpoint: { key: k, file: f }\n",
        Map.of()))
        .contains("sentinel.yaml:7:").contains("checkpoint signs the database sink's hash chain");
  }

  @Test
  void parse_syncInterval_defaultsTo5s() {
    assertThat(parse("", Map.of()).database().syncInterval())
        .isEqualTo(DatabaseSettings.DEFAULT_SYNC_INTERVAL).isEqualTo(java.time.Duration.ofSeconds(5));
    GatewayConfig config = parse(
        "database: { url: \"jdbc:postgresql://h:5432/d\", sync_interval: 500ms }\n", Map.of());
    assertThat(config.database().syncInterval()).isEqualTo(java.time.Duration.ofMillis(500));
    assertThat(problems("database: { url: \"jdbc:sqlite:a.db\", sync_interval: soon }\n",
        Map.of())).contains("/database/sync_interval").contains("expected a duration");
  }

  @Test
  void parse_databaseSinkForms() {
    for (String form : List.of("{ database: {} }", "{ database: }", "{ database: null }")) {
      GatewayConfig config = parse("audit: { sinks: [ " + form + " ] }\n", Map.of());
      assertThat(config.audit().sinks()).as(form).containsExactly(Audit.DatabaseSink.INSTANCE);
      assertThat(config.needsDatabase()).isTrue();
    }
    assertThat(problems("audit: { sinks: [ { database: { url: x } } ] }\n", Map.of()))
        .contains("database sink: unknown key 'url'");
    assertThat(problems("audit: { sinks: [ { database: sentinel.db } ] }\n", Map.of()))
        .contains("expected { database: {} }");
  }

  @Test
  void parse_auditWithoutDatabaseSinkOrApiKey_doesNotNeedTheDatabase() {
    GatewayConfig config = parse("identity: { principal: { id: ann } }\n"
        + "audit: { sinks: [ { jsonl: a.jsonl } ] }\n", Map.of());
    assertThat(config.needsDatabase()).isFalse();
    GatewayConfig withKey = parse("identity: { api_key: \"${env:K}\" }\n"
        + "audit: { sinks: [ { jsonl: a.jsonl } ] }\n", Map.of("K", KEY));
    assertThat(withKey.needsDatabase()).isTrue();
    assertThat(withKey.identity().apiKey()).isEqualTo(KEY);
  }

  @Test
  void parse_durableModeWithDurableSinks() {
    assertThat(parse("audit: { mode: durable }\n", Map.of()).audit().mode())
        .isEqualTo(AuditMode.DURABLE);
    assertThat(parse("audit: { mode: durable, sinks: [ { jsonl: { file: a, fsync: true } } ] }\n",
        Map.of()).audit().mode()).isEqualTo(AuditMode.DURABLE);
    assertThat(parse("audit: { mode: async, sinks: [ { slf4j: } ] }\n", Map.of()).audit().mode())
        .isEqualTo(AuditMode.ASYNC);
  }

  @Test
  void parse_durableModeWithoutADurableSink_isALocatedError() {
    assertThat(problems("audit:\n  sinks: [ { slf4j: }, { jsonl: a.jsonl } ]\n  mode: durable\n",
        Map.of()))
        .contains("sentinel.yaml:7:3: at /audit/mode: audit mode durable needs a durable sink, "
            + "but none of slf4j, jsonl (without fsync) is")
        .contains("{ database: {} }");
    assertThat(problems("audit: { sinks: [], mode: durable }\n", Map.of()))
        .contains("at least one sink is required")
        .contains("there is none");
    assertThat(problems("audit: { mode: durabel }\n", Map.of()))
        .contains("did you mean 'durable'?");
  }

  @Test
  void loadDatabase_readsOnlyTheDatabaseSection() throws Exception {
    Path file = dir.resolve("gw.yaml");
    Files.writeString(file, "identity: { api_key: \"${env:NOT_SET_HERE}\" }\n"
        + "backends: nonsense\n"
        + "database: { url: \"jdbc:sqlite:keys.db\" }\n");
    assertThat(GatewayConfig.loadDatabase(file, Map.of()).url())
        .isEqualTo("jdbc:sqlite:" + dir.toAbsolutePath().normalize().resolve("keys.db"));
    Files.writeString(file, "backends: []\n");
    assertThat(GatewayConfig.loadDatabase(file, Map.of()))
        .isEqualTo(DatabaseSettings.embeddedDefault(dir));
    Files.writeString(file, "database: { url: \"jdbc:oracle:x\" }\n");
    assertThat(catchThrowableOfType(ConfigException.class,
        () -> GatewayConfig.loadDatabase(file, Map.of())).getMessage())
        .contains("gw.yaml:1:").contains("unsupported database url");
  }

  @Test
  void audit_rejectsDurableModeWithoutDurableSinkInTheRecordToo() {
    assertThat(catchThrowableOfType(IllegalArgumentException.class, () -> new Audit(
        List.of(new Audit.Slf4jSink("x")), Audit.DEFAULTS.onSinkFailure(),
        Audit.DEFAULTS.whenFull(), 10, AuditMode.DURABLE))).hasMessageContaining("durable sink");
  }
}
