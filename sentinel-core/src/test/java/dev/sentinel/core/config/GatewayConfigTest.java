package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.InMemoryKeyStore;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading good configs: every section, defaults, expansion and path resolution. */
class GatewayConfigTest {
  static final String MINIMAL = "backends:\n  - name: fs\n    stdio: { command: server }\n"
      + "policy:\n  rules:\n    - id: all\n      allow: {}\n";

  @TempDir Path dir;

  static Path example() throws Exception {
    return Path.of(GatewayConfigTest.class.getResource("/gateway/sentinel.yaml").toURI());
  }

  static final Map<String, String> ENV = Map.of(
      "FS_TOKEN", "tok-fs-1234567", "PATH", "/usr/bin:/bin", "HOME", "/home/ann",
      "USER", "ann", "UNRELATED", "x");

  @Test
  void load_fullExample() throws Exception {
    Path file = example();
    Path base = file.getParent();
    GatewayConfig config = GatewayConfig.load(file, ENV);

    assertThat(config.source()).isEqualTo(file.toString());
    Gateway gateway = config.gateway();
    assertThat(gateway.name()).isEqualTo("my-gateway");
    assertThat(gateway.namespacing()).isEqualTo(new Gateway.Namespacing("__", true));
    assertThat(gateway.requestTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(gateway.startTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(gateway.maxPendingRequests()).isEqualTo(128);
    assertThat(gateway.maxMessageBytes()).isEqualTo(8L * 1024 * 1024);
    assertThat(gateway.maxDepth()).isEqualTo(32);

    assertThat(config.identity().principal()).isEqualTo(
        new Principal("ann", Set.of("developer"), Map.of("team", List.of("payments"))));
    assertThat(config.identity().credentials()).isEqualTo(Credentials.launch());

    assertThat(config.backends()).hasSize(2);
    StdioBackend fs = (StdioBackend) config.backends().get(0);
    assertThat(fs.name()).isEqualTo("fs");
    assertThat(fs.command()).containsExactly(
        "npx", "-y", "@modelcontextprotocol/server-filesystem", "/workspace");
    assertThat(fs.env()).containsExactly(
        Map.entry("PATH", "/usr/bin:/bin"), Map.entry("HOME", "/home/ann"),
        Map.entry("TOKEN", "tok-fs-1234567"), Map.entry("MODE", "read-only"),
        Map.entry("PORT", "8080"));
    assertThat(fs.cwd()).isEqualTo(base.resolve("workspace"));

    HttpBackend remote = (HttpBackend) config.backend("remote").orElseThrow();
    assertThat(remote.url()).isEqualTo(URI.create("https://mcp.example.com/mcp"));
    assertThat(remote.headers()).containsExactly(
        Map.entry("Authorization", "Bearer s3cr3t-remote-token"));
    assertThat(remote.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(remote.requestTimeout()).isEqualTo(Duration.ofMinutes(2));

    assertThat(config.policy().ruleCount()).isEqualTo(3);
    assertThat(config.policy().limits()).hasSize(1);
    assertThat(config.policy().source()).isEqualTo(file.resolveSibling("policy.yaml").toString());

    assertThat(config.killSwitch().all()).isNull();
    assertThat(config.killSwitch().backends()).containsExactly(Map.entry("remote", "maintenance"));
    assertThat(config.killSwitch().tools()).containsExactly(Map.entry("fs__write_*", "incident 42"));
    assertThat(config.killSwitch().principals()).isEmpty();

    Audit audit = config.audit();
    assertThat(audit.sinks()).containsExactly(
        new Audit.JsonLinesSink(base.resolve("audit/audit.jsonl"), false),
        new Audit.JsonLinesSink(Path.of("/var/log/sentinel/audit.jsonl"), true),
        new Audit.Slf4jSink("dev.sentinel.audit"));
    assertThat(audit.onSinkFailure()).isEqualTo(AuditDispatcher.OnSinkFailure.CONTINUE);
    assertThat(audit.whenFull()).isEqualTo(AuditDispatcher.WhenFull.FAIL);
    assertThat(audit.queueCapacity()).isEqualTo(1024);
  }

  @Test
  void revision_isSha256OfTheText() throws Exception {
    Path file = example();
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    assertThat(GatewayConfig.load(file, ENV).revision())
        .isEqualTo("sha256:" + HexFormat.of().formatHex(digest).substring(0, 12));
    assertThat(GatewayConfig.parse(MINIMAL, "a", dir, Map.of()).revision())
        .isNotEqualTo(GatewayConfig.parse(MINIMAL + "\n", "a", dir, Map.of()).revision())
        .matches("sha256:[0-9a-f]{12}");
  }

  @Test
  void toString_neverShowsSecrets() throws Exception {
    GatewayConfig config = GatewayConfig.load(example(), ENV);
    String text = config.toString() + config.backends() + config.identity();
    assertThat(text)
        .doesNotContain("tok-fs-1234567")
        .doesNotContain("s3cr3t")
        .doesNotContain("/usr/bin:/bin")
        .contains("TOKEN", "Authorization", "https://mcp.example.com/mcp", "my-gateway");
  }

  @Test
  void parse_minimalConfigGetsDefaults() {
    GatewayConfig config = GatewayConfig.parse(MINIMAL, "sentinel.yaml", dir,
        Map.of("PATH", "/bin", "HOME", "/root", "SECRET", "no"));
    assertThat(config.gateway()).isEqualTo(Gateway.DEFAULTS);
    assertThat(config.gateway().maxMessageBytes()).isEqualTo(4L * 1024 * 1024);
    assertThat(config.identity()).isEqualTo(Identity.ANONYMOUS);
    assertThat(config.identity().principal()).isEqualTo(Principal.ANONYMOUS);
    assertThat(config.audit()).isEqualTo(Audit.DEFAULTS);
    assertThat(config.audit().onSinkFailure()).isEqualTo(AuditDispatcher.OnSinkFailure.BLOCK);
    assertThat(config.killSwitch().isEmpty()).isTrue();
    StdioBackend fs = (StdioBackend) config.backends().get(0);
    assertThat(fs.command()).containsExactly("server");
    assertThat(fs.env()).containsOnlyKeys("PATH", "HOME");
    assertThat(fs.cwd()).isEqualTo(dir.toAbsolutePath().normalize());
    assertThat(config.policy().ruleCount()).isEqualTo(1);
  }

  @Test
  void parse_httpRequestTimeoutDefaultsToTheGateways() {
    GatewayConfig config = GatewayConfig.parse("gateway: { request_timeout: 45s }\n"
        + "backends:\n  - name: r\n    http: { url: \"http://127.0.0.1:8080/mcp\" }\n"
        + "policy: { rules: [] }\n", "s.yaml", dir, Map.of());
    HttpBackend r = (HttpBackend) config.backends().get(0);
    assertThat(r.requestTimeout()).isEqualTo(Duration.ofSeconds(45));
    assertThat(r.connectTimeout()).isEqualTo(HttpBackend.DEFAULT_CONNECT_TIMEOUT);
    assertThat(r.headers()).isEmpty();
  }

  @Test
  void parse_expandsEnvDefaultsAndEscapes() {
    GatewayConfig config = GatewayConfig.parse("backends:\n  - name: fs\n    stdio:\n"
        + "      command: server\n      inherit_env: []\n"
        + "      env:\n        A: \"${env:SET}\"\n        B: \"${env:UNSET:-fallback}\"\n"
        + "        C: \"x-${env:SET}-${env:SET:-no}-y\"\n        D: \"$${env:SET} costs $$5\"\n"
        + "        E: \"${env:EMPTY:-}\"\n"
        + "policy: { rules: [] }\n", "s.yaml", dir, Map.of("SET", "v"));
    assertThat(((StdioBackend) config.backends().get(0)).env()).containsExactly(
        Map.entry("A", "v"), Map.entry("B", "fallback"), Map.entry("C", "x-v-v-y"),
        Map.entry("D", "${env:SET} costs $$5"), Map.entry("E", ""));
  }

  @Test
  void parse_fileReferencesAreTrimmedAndRelativeToTheConfig() throws Exception {
    Files.createDirectories(dir.resolve("s"));
    Files.writeString(dir.resolve("s/token"), "\n  abc-def \n", StandardCharsets.UTF_8);
    GatewayConfig config = GatewayConfig.parse("backends:\n  - name: r\n    http:\n"
        + "      url: \"https://h.example/mcp?k=${file:s/token}\"\n"
        + "      headers: { X-Key: \"${file:" + dir.resolve("s/token") + "}\" }\n"
        + "policy: { rules: [] }\n", "s.yaml", dir, Map.of());
    HttpBackend r = (HttpBackend) config.backends().get(0);
    assertThat(r.url().toString()).isEqualTo("https://h.example/mcp?k=abc-def");
    assertThat(r.headers()).containsExactly(Map.entry("X-Key", "abc-def"));
    assertThat(r.toString()).doesNotContain("abc-def").contains("https://h.example/mcp?…");
    assertThat(r.safeUrl()).isEqualTo("https://h.example/mcp?…");
  }

  @Test
  void parse_relativePathsResolveAgainstTheConfigDirectory() throws Exception {
    Path conf = Files.createDirectories(dir.resolve("conf"));
    Files.createDirectories(conf.resolve("work"));
    Files.writeString(conf.resolve("p.yaml"), "rules: [ { id: a, allow: {} } ]\n");
    String yaml = "backends:\n  - name: local\n    stdio: { command: ./bin/server, cwd: work }\n"
        + "  - name: abs\n    stdio: { command: /opt/server, cwd: /tmp }\n"
        + "policy: p.yaml\naudit: { sinks: [ { jsonl: logs/a.jsonl } ] }\n";
    Files.writeString(conf.resolve("sentinel.yaml"), yaml);
    GatewayConfig config = GatewayConfig.load(conf.resolve("sentinel.yaml"), Map.of());
    StdioBackend local = (StdioBackend) config.backends().get(0);
    assertThat(local.command()).containsExactly(conf.resolve("bin/server").toString());
    assertThat(local.cwd()).isEqualTo(conf.resolve("work"));
    StdioBackend abs = (StdioBackend) config.backends().get(1);
    assertThat(abs.command()).containsExactly("/opt/server");
    assertThat(abs.cwd()).isEqualTo(Path.of("/tmp"));
    assertThat(config.policy().ruleCount()).isEqualTo(1);
    assertThat(config.audit().sinks())
        .containsExactly(new Audit.JsonLinesSink(conf.resolve("logs/a.jsonl"), false));
  }

  @Test
  void parse_policyAsStringOrInline() throws Exception {
    Files.writeString(dir.resolve("p.yaml"), "rules: [ { id: a, allow: {} }, { id: b, deny: {} } ]\n");
    String backends = "backends: [ { name: fs, stdio: { command: s } } ]\n";
    assertThat(GatewayConfig.parse(backends + "policy: p.yaml\n", "s", dir, Map.of())
        .policy().ruleCount()).isEqualTo(2);
    assertThat(GatewayConfig.parse(backends + "policy: { file: p.yaml }\n", "s", dir, Map.of())
        .policy().ruleCount()).isEqualTo(2);
    GatewayConfig inline = GatewayConfig.parse(backends + "policy:\n  roles: { dev: {} }\n"
        + "  rules: [ { id: x, allow: { roles: [dev] } } ]\n"
        + "  limits: [ { id: l, rate: 10/s } ]\n", "s", dir, Map.of());
    assertThat(inline.policy().ruleCount()).isEqualTo(1);
    assertThat(inline.policy().limits()).hasSize(1);
  }

  @Test
  void parse_apiKeyIdentity() {
    String key = ApiKeys.create(InMemoryKeyStore.create(), Clock.system())
        .issue("ann", Set.of("developer"), "laptop", null).secret();
    GatewayConfig config = GatewayConfig.parse(MINIMAL
        + "identity: { api_key: \"${env:SENTINEL_API_KEY}\" }\n", "s", dir,
        Map.of("SENTINEL_API_KEY", key));
    assertThat(config.identity().apiKey()).isEqualTo(key);
    assertThat(config.identity().fixedPrincipal()).isEmpty();
    assertThat(config.identity().credentials()).isEqualTo(Credentials.apiKey(key));
    assertThat(config.toString()).doesNotContain(key).contains("api_key=<redacted>");
  }

  @Test
  void parse_emptyInheritEnv() {
    GatewayConfig config = GatewayConfig.parse("backends:\n  - name: fs\n"
        + "    stdio: { command: s, inherit_env: null }\npolicy: { rules: [] }\n",
        "s", dir, Map.of("PATH", "/bin"));
    assertThat(((StdioBackend) config.backends().get(0)).env()).isEmpty();
  }

  @Test
  void parse_emptyOrNullSinks_isAnError() {
    for (String sinks : new String[] {"[]", "null"}) {
      assertThatThrownBy(() -> GatewayConfig.parse("backends:\n  - name: fs\n"
          + "    stdio: { command: s }\npolicy: { rules: [] }\n"
          + "audit: { sinks: " + sinks + " }\n", "s", dir, Map.of("PATH", "/bin")))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("at /audit/sinks")
          .hasMessageContaining("at least one sink is required");
    }
  }

  @Test
  void parse_slf4jSinkForms() {
    GatewayConfig config = GatewayConfig.parse(MINIMAL + "audit:\n  sinks:\n"
        + "    - slf4j:\n    - slf4j: { logger: a.b }\n    - slf4j: {}\n", "s", dir, Map.of());
    assertThat(config.audit().sinks()).containsExactly(
        new Audit.Slf4jSink("dev.sentinel.audit"), new Audit.Slf4jSink("a.b"),
        new Audit.Slf4jSink("dev.sentinel.audit"));
  }

  @Test
  void namespacing_qualifiesAndPrefixes() {
    Gateway.Namespacing always = Gateway.Namespacing.DEFAULTS;
    assertThat(always.qualify("fs", "read_file")).isEqualTo("fs__read_file");
    assertThat(always.prefixes(1)).isTrue();
    Gateway.Namespacing bare = new Gateway.Namespacing(".", false);
    assertThat(bare.prefixes(1)).isFalse();
    assertThat(bare.prefixes(2)).isTrue();
    assertThat(bare.qualify("fs", "x")).isEqualTo("fs.x");
  }

  @Test
  void tasksBounds_defaultAndAsSet_andAPrincipalsBoundMustFitTheGateways() throws Exception {
    String backends = "backends:\n  - name: fs\n    stdio: { command: server }\npolicy:\n  rules: []\n";
    GatewayConfig defaults = GatewayConfig.parse(backends, "sentinel.yaml", dir, ENV);
    GatewayConfig set = GatewayConfig.parse("gateway: { max_tasks: 50, max_tasks_per_principal: 5 }\n" + backends,
        "sentinel.yaml", dir, ENV);

    assertThat(defaults.gateway().maxTasksPerPrincipal()).isEqualTo(Gateway.DEFAULT_MAX_TASKS_PER_PRINCIPAL);
    assertThat(defaults.gateway().maxTasks()).isEqualTo(Gateway.DEFAULT_MAX_TASKS);
    assertThat(set.gateway().maxTasksPerPrincipal()).isEqualTo(5);
    assertThat(set.gateway().maxTasks()).isEqualTo(50);
    assertThatThrownBy(() -> GatewayConfig.parse("gateway: { max_tasks: 4, max_tasks_per_principal: 5 }\n"
        + backends, "sentinel.yaml", dir, ENV)).hasMessageContaining("max_tasks_per_principal must be at most 4");
    assertThatThrownBy(() -> GatewayConfig.parse("gateway: { max_tasks: 0 }\n" + backends, "sentinel.yaml", dir,
        ENV)).hasMessageContaining("max_tasks");
    assertThat(GatewayConfig.parse("gateway: { max_tasks: 8 }\n" + backends, "sentinel.yaml", dir, ENV)
        .gateway().maxTasksPerPrincipal()).as("a small gateway's default per principal fits it").isEqualTo(8);
  }

  @Test
  void connectionSettings_defaultByKindAndRunner_andAsSet() throws Exception {
    String yaml = "gateway: { max_in_flight_per_principal: 8 }\n"
        + "backends:\n  - name: fs\n    stdio: { command: server }\n"
        + "  - name: web\n    http: { url: 'http://127.0.0.1:9/mcp' }\n"
        + "  - name: vault\n    stdio: { command: server }\n    isolation: per_principal\n"
        + "    max_connections: 8\n    max_connections_per_principal: 1\n    idle_timeout: 2m\n"
        + "    resource_prefixes: [\"vault://\"]\n"
        + "policy:\n  rules: []\n";
    GatewayConfig config = GatewayConfig.parse(yaml, "sentinel.yaml", dir, ENV);
    Backend fs = config.backends().get(0);
    Backend web = config.backends().get(1);
    Backend vault = config.backends().get(2);

    assertThat(config.gateway().maxInFlightPerPrincipal()).isEqualTo(8);
    assertThat(fs.connections().options(fs, false).isolation()).isEqualTo(dev.sentinel.core.config.Isolation.PER_SESSION);
    assertThat(fs.connections().options(fs, true).isolation()).isEqualTo(dev.sentinel.core.config.Isolation.SHARED);
    assertThat(fs.connections().options(fs, false).maxConnections()).isEqualTo(Connections.DEFAULT_MAX_STDIO);
    assertThat(web.connections().options(web, true).isolation()).isEqualTo(dev.sentinel.core.config.Isolation.PER_SESSION);
    assertThat(web.connections().options(web, true).maxConnections()).isEqualTo(Connections.DEFAULT_MAX_HTTP);
    dev.sentinel.core.config.BackendOptions options = vault.connections().options(vault, true);
    assertThat(options.isolation()).isEqualTo(dev.sentinel.core.config.Isolation.PER_PRINCIPAL);
    assertThat(options.maxConnections()).isEqualTo(8);
    assertThat(options.effectiveMaxPerPrincipal()).isEqualTo(1);
    assertThat(options.idleTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(options.resourcePrefixes()).containsExactly("vault://");
  }

  @Test
  void validate_defaultsToEnforceInBothRunners_andIsReadAsSet() throws Exception {
    String yaml = "backends:\n  - name: fs\n    stdio: { command: server }\n"
        + "  - name: web\n    http: { url: 'http://127.0.0.1:9/mcp' }\n    validate: warn\n"
        + "  - name: raw\n    stdio: { command: server }\n    validate: off\n"
        + "policy:\n  rules: []\n";
    GatewayConfig config = GatewayConfig.parse(yaml, "sentinel.yaml", dir, ENV);
    Backend fs = config.backends().get(0);
    Backend web = config.backends().get(1);
    Backend raw = config.backends().get(2);

    assertThat(fs.connections().options(fs, false).validation()).isEqualTo(dev.sentinel.core.config.Validation.ENFORCE);
    assertThat(fs.connections().options(fs, true).validation()).isEqualTo(dev.sentinel.core.config.Validation.ENFORCE);
    assertThat(web.connections().options(web, true).validation()).isEqualTo(dev.sentinel.core.config.Validation.WARN);
    assertThat(raw.connections().options(raw, false).validation()).isEqualTo(dev.sentinel.core.config.Validation.OFF);
  }

  @Test
  void pinning_defaultsToEnforceInHttpAndWarnInStdio_andIsReadAsAStringOrAnObject() throws Exception {
    String yaml = "backends:\n  - name: fs\n    stdio: { command: server }\n"
        + "  - name: web\n    http: { url: 'http://127.0.0.1:9/mcp' }\n    pinning: off\n"
        + "  - name: pay\n    stdio: { command: server }\n"
        + "    pinning: { mode: warn, block_hidden_instructions: true }\n"
        + "  - name: bare\n    stdio: { command: server }\n    pinning: { block_hidden_instructions: true }\n"
        + "policy:\n  rules: []\n";
    GatewayConfig config = GatewayConfig.parse(yaml, "sentinel.yaml", dir, ENV);
    Backend fs = config.backends().get(0);
    Backend web = config.backends().get(1);
    Backend pay = config.backends().get(2);
    Backend bare = config.backends().get(3);

    assertThat(fs.connections().options(fs, true).pinning()).isEqualTo(Pinning.ENFORCE);
    assertThat(fs.connections().options(fs, false).pinning()).isEqualTo(Pinning.WARN);
    assertThat(web.connections().options(web, true).pinning()).isEqualTo(Pinning.OFF);
    assertThat(pay.connections().options(pay, true).pinning()).isEqualTo(new Pinning(Pinning.Mode.WARN, true));
    assertThat(bare.connections().options(bare, true).pinning()).isEqualTo(new Pinning(Pinning.Mode.ENFORCE, true));
  }

  @Test
  void pinning_unknownModeOrKey_isRefusedNamingTheLine() {
    String yaml = "backends:\n  - name: fs\n    stdio: { command: server }\n    pinning: strict\n"
        + "  - name: web\n    http: { url: 'http://127.0.0.1:9/mcp' }\n    pinning: { mode: warn, block: true }\n"
        + "policy:\n  rules: []\n";
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> GatewayConfig.parse(yaml, "sentinel.yaml", dir, ENV))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sentinel.yaml:4")
        .hasMessageContaining("expected one of enforce, warn, off, got 'strict'")
        .hasMessageContaining("block");
  }
}
