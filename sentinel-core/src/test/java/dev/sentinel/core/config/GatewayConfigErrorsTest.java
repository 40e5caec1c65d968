package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad config yields a located {@link ConfigException} that shows no secret. */
class GatewayConfigErrorsTest {
  private static final String BACKENDS = "backends:\n  - name: fs\n    stdio: { command: s }\n";
  private static final String POLICY = "policy: { rules: [] }\n";

  @TempDir Path dir;

  private ConfigException fail(String yaml) {
    return fail(yaml, Map.of());
  }

  private ConfigException fail(String yaml, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> GatewayConfig.parse(yaml, "sentinel.yaml", dir, env));
    assertThat(e).as("expected a ConfigException for:\n" + yaml).isNotNull();
    return e;
  }

  @Test
  void unknownTopLevelKey_suggestsNearest() {
    ConfigException e = fail("gatway: {}\n" + BACKENDS + POLICY);
    assertThat(e.getMessage()).isEqualTo("sentinel.yaml:1:1: at /gatway: unknown key 'gatway' "
        + "(expected one of gateway, identity, backends, policy, kill_switch, audit, database, "
        + "shared_state, server, llm, notify, telemetry, bundle); did you mean 'gateway'?");
    assertThat(e.path()).isEqualTo("/gatway");
  }

  @Test
  void unknownKeysAtEveryLevel_allReportedWithSuggestions() {
    String yaml = "gateway:\n  request_timout: 5s\n  namespacing: { separater: '.' }\n"
        + "identity: { principal: { id: a, role: [x] } }\n"
        + "backends:\n  - name: fs\n    stdoi: {}\n"
        + "  - name: b\n    stdio: { command: s, arg: [x] }\n"
        + "  - name: c\n    http: { url: 'http://h/', header: {} }\n"
        + "policy: { file: p.yaml, rules: [] }\n"
        + "kill_switch: { tool: {} }\n"
        + "audit:\n  sink: []\n";
    ConfigException e = fail(yaml);
    assertThat(e.getMessage())
        .contains("sentinel.yaml:2:3: at /gateway/request_timout: unknown key 'request_timout'")
        .contains("did you mean 'request_timeout'?")
        .contains("sentinel.yaml:3:18: at /gateway/namespacing/separater: unknown key")
        .contains("did you mean 'separator'?")
        .contains("sentinel.yaml:4:33: at /identity/principal/role: unknown key 'role'")
        .contains("did you mean 'roles'?")
        .contains("sentinel.yaml:7:5: backend 'fs': unknown key 'stdoi'")
        .contains("did you mean 'stdio'?")
        .contains("sentinel.yaml:9:26: backend 'b': unknown key 'arg'")
        .contains("did you mean 'args'?")
        .contains("backend 'c': unknown key 'header'")
        .contains("did you mean 'headers'?")
        .contains("at /policy/rules: unknown key 'rules' (expected file)")
        .contains("at /kill_switch/tool: unknown key 'tool'")
        .contains("did you mean 'tools'?")
        .contains("sentinel.yaml:15:3: at /audit/sink: unknown key 'sink'")
        .contains("did you mean 'sinks'?");
  }

  @Test
  void unknownSinkKindAndSinkKey_suggest() {
    ConfigException e = fail(BACKENDS + POLICY + "audit:\n  sinks:\n    - jsnl: a.jsonl\n"
        + "    - jsonl: { file: a, fsyn: true }\n    - slf4j: { loger: x }\n");
    assertThat(e.getMessage())
        .contains("sentinel.yaml:7:7: at /audit/sinks/0/jsnl: unknown audit sink 'jsnl' "
            + "(expected one of jsonl, slf4j, database); did you mean 'jsonl'?")
        .contains("sentinel.yaml:8:25: jsonl sink: unknown key 'fsyn' (expected one of file, "
            + "fsync); did you mean 'fsync'?")
        .contains("slf4j sink: unknown key 'loger' (expected logger); did you mean 'logger'?");
  }

  @Test
  void inlinePolicyErrors_areLocatedInTheConfig() {
    ConfigException e = fail(BACKENDS + "policy:\n  rule: []\n");
    assertThat(e.getMessage()).contains("sentinel.yaml:5:3: at /policy/rule: unknown key 'rule'")
        .contains("did you mean 'rules'?");
    e = fail(BACKENDS + "policy:\n  rules:\n    - id: a\n      alow: {}\n");
    assertThat(e.getMessage()).contains("sentinel.yaml:7:7: rule 'a': unknown key 'alow'");
  }

  @Test
  void wrongTypes() {
    ConfigException e = fail("gateway: [1]\nbackends: { fs: {} }\n" + POLICY
        + "kill_switch: { all: true }\n");
    assertThat(e.getMessage())
        .contains("sentinel.yaml:1:1: at /gateway: expected a mapping of name, namespacing")
        .contains("sentinel.yaml:2:1: at /backends: expected a list of backends "
            + "(each '- name: ...'), got a mapping")
        .contains("at /kill_switch/all: expected the reason as text, such as \"maintenance\", "
            + "got true");
    e = fail("gateway:\n  max_pending_requests: many\n  namespacing: { prefix_single_backend: "
        + "yes please }\n  name: [a]\n" + BACKENDS.replace("{ command: s }",
        "{ command: s, args: { a: 1 }, env: [1] }") + POLICY);
    assertThat(e.getMessage())
        .contains("max_pending_requests (a positive whole number), got the text 'many'")
        .contains("expected true or false, got the text 'yes please'")
        .contains("expected the gateway's name, got a list")
        .contains("backend 'fs': expected a list of arguments (or a single one), got a mapping")
        .contains("backend 'fs': expected a mapping of environment variables");
  }

  @Test
  void badDurations() {
    ConfigException e = fail("gateway:\n  request_timeout: 30\n  start_timeout: 10 sec\n"
        + "backends:\n  - name: r\n    http: { url: 'http://h/', connect_timeout: 0s }\n" + POLICY);
    assertThat(e.getMessage())
        .contains("sentinel.yaml:2:3: at /gateway/request_timeout: request_timeout: a bare number "
            + "is ambiguous; add a unit, such as 30s or 30ms")
        .contains("sentinel.yaml:3:3: at /gateway/start_timeout: start_timeout: expected a "
            + "duration such as 500ms, 30s, 5m or 1h, got the text '10 sec'")
        .contains("backend 'r': connect_timeout: must be longer than zero");
  }

  @Test
  void badSizesAndBounds() {
    ConfigException e = fail("gateway:\n  max_message_bytes: 4MB\n  max_depth: 5000\n" + BACKENDS
        + POLICY + "audit: { queue_capacity: 0 }\n");
    assertThat(e.getMessage())
        .contains("sentinel.yaml:2:3: at /gateway/max_message_bytes: max_message_bytes: expected a "
            + "size such as 4MiB, 512KiB or a number of bytes (sizes are in powers of 1024: "
            + "write KiB, MiB or GiB), got the text '4MB'")
        .contains("max_depth must be at most 1000, got 5000")
        .contains("queue_capacity must be positive, got 0");
    e = fail("gateway: { max_message_bytes: 2GiB }\n" + BACKENDS + POLICY);
    assertThat(e.getMessage()).contains("must be between 1 byte and 1GiB, got the text '2GiB'");
    e = fail("gateway: { max_message_bytes: -1 }\n" + BACKENDS + POLICY);
    assertThat(e.getMessage()).contains("must be between 1 byte and 1GiB, got -1");
  }

  @Test
  void duplicateBackendNames() {
    ConfigException e = fail("backends:\n  - name: fs\n    stdio: { command: a }\n"
        + "  - name: fs\n    http: { url: 'http://h/' }\n" + POLICY);
    assertThat(e.getMessage()).isEqualTo("sentinel.yaml:4:5: backend 'fs': duplicate backend name "
        + "(first at line 2); backend names must be unique");
  }

  @Test
  void badBackendNames() {
    ConfigException e = fail("backends:\n  - name: My-FS\n    stdio: { command: a }\n"
        + "  - name: my__fs\n    stdio: { command: a }\n  - name: -x\n    stdio: { command: a }\n"
        + "  - stdio: { command: a }\n" + POLICY);
    assertThat(e.problems()).hasSize(4);
    assertThat(e.getMessage())
        .contains("sentinel.yaml:2:5: backend 'My-FS': invalid backend name: use lowercase "
            + "letters, digits, '_' and '-'")
        .contains("sentinel.yaml:4:5: backend 'my__fs': the name contains the namespacing "
            + "separator '__'")
        .contains("backend '-x': invalid backend name")
        .contains("sentinel.yaml:8:5: at /backends/3/name: missing required key 'name'");
    assertThat(GatewayConfig.parse("gateway: { namespacing: { separator: '.' } }\n"
        + "backends: [ { name: my__fs, stdio: { command: a } } ]\n" + POLICY, "s", dir, Map.of())
        .backends().get(0).name()).isEqualTo("my__fs");
  }

  @Test
  void backendWithBothOrNeitherTransport() {
    ConfigException e = fail("backends:\n  - name: a\n    stdio: { command: a }\n"
        + "    http: { url: 'http://h/' }\n  - name: b\n" + POLICY);
    assertThat(e.getMessage())
        .contains("sentinel.yaml:4:5: backend 'a': a backend is either stdio or http, not both")
        .contains("sentinel.yaml:5:5: backend 'b': expected one of stdio: { command: ... } or "
            + "http: { url: ... }");
  }

  @Test
  void emptyDocument_needsBackendsAndPolicy() {
    ConfigException e = fail("");
    assertThat(e.getMessage())
        .contains("missing required key 'backends'")
        .contains("missing required key 'policy'");
    e = fail("backends: []\n" + POLICY);
    assertThat(e.getMessage()).contains("sentinel.yaml:1:1: at /backends: expected at least one "
        + "backend");
  }

  @Test
  void yamlSyntaxError_isLocated() {
    ConfigException e = fail("backends: [ { name: a \n");
    assertThat(e.getMessage()).startsWith("sentinel.yaml:").contains("invalid YAML");
  }

  @Test
  void missingEnvVariable_namesItButNoValue() {
    ConfigException e = fail("backends:\n  - name: fs\n    stdio:\n      command: s\n"
        + "      env: { TOKEN: \"${env:FS_TOKEN}\", OK: \"${env:SECRET}\" }\n" + POLICY,
        Map.of("SECRET", "hunter2-value"));
    assertThat(e.getMessage()).isEqualTo("sentinel.yaml:5:14: backend 'fs': environment variable "
        + "FS_TOKEN is not set (referenced as ${env:FS_TOKEN}); set it, or give a default: "
        + "${env:FS_TOKEN:-default}");
    assertThat(e.getMessage()).doesNotContain("hunter2");
  }

  @Test
  void missingSecretFile() {
    ConfigException e = fail("backends:\n  - name: r\n    http:\n      url: 'https://h/mcp'\n"
        + "      headers: { Authorization: \"Bearer ${file:secrets/none}\" }\n" + POLICY);
    assertThat(e.getMessage()).isEqualTo("sentinel.yaml:5:18: backend 'r': secret file "
        + dir.toAbsolutePath().normalize().resolve("secrets/none") + " does not exist "
        + "(referenced as ${file:secrets/none})");
  }

  @Test
  void badReferences() {
    ConfigException e = fail("backends:\n  - name: fs\n    stdio:\n      command: s\n"
        + "      env: { A: \"${env:X\", B: \"${vault:x}\", C: \"${env:1X}\", D: \"${file:}\" }\n"
        + POLICY);
    assertThat(e.getMessage())
        .contains("unterminated reference '${env:X'; close it with '}'")
        .contains("unknown reference '${vault:x}' (expected ${env:NAME}, ${env:NAME:-default} or "
            + "${file:PATH}; write $${ for a literal ${)")
        .contains("invalid environment variable name in '${env:1X}'")
        .contains("'${file:}' names no file");
  }

  @Test
  void referencesOutsideSecretFields_areErrors() {
    ConfigException e = fail("backends:\n  - name: fs\n    stdio:\n      command: s\n"
        + "      args: [\"--token=${env:T}\"]\n" + POLICY, Map.of("T", "v"));
    assertThat(e.getMessage()).contains("sentinel.yaml:5:14: backend 'fs': ${env:...} and "
        + "${file:...} are not expanded in args; they are expanded only in env values, headers, "
        + "url and api_key");
  }

  @Test
  void secretsNeverAppearInErrors() throws Exception {
    Files.writeString(dir.resolve("multi"), "line-one-secret\nline-two-secret\n");
    ConfigException e = fail("identity: { api_key: \"${env:KEY}\" }\n"
        + "backends:\n  - name: r\n    http:\n      url: \"${env:URL}\"\n"
        + "      headers: { Authorization: \"${file:multi}\" }\n" + POLICY,
        Map.of("KEY", "not-a-key-but-secret", "URL", "ftp://user:pw-secret@h/"));
    assertThat(e.getMessage())
        .contains("the api_key '${env:KEY}' is not a Sentinel API key")
        .contains("the url '${env:URL}' is not an http or https URL")
        .contains("the value of header 'Authorization' '${file:multi}' contains a line break")
        .doesNotContain("not-a-key-but-secret")
        .doesNotContain("pw-secret")
        .doesNotContain("line-one-secret");
  }

  @Test
  void literalApiKeyIsNotEchoed() {
    ConfigException e = fail("identity: { api_key: sk-literal-secret }\n" + BACKENDS + POLICY);
    assertThat(e.getMessage()).contains("the api_key (as written in the file) is not a Sentinel "
        + "API key").doesNotContain("sk-literal-secret");
  }

  @Test
  void identityNeedsExactlyOne() {
    assertThat(fail("identity: {}\n" + BACKENDS + POLICY).getMessage())
        .contains("at /identity: expected principal: { id: ..., roles: [...] } or api_key:");
    assertThat(fail("identity: { principal: { id: a }, api_key: x }\n" + BACKENDS + POLICY)
        .getMessage()).contains("give either principal or api_key, not both");
    assertThat(fail("identity: { principal: { roles: [a] } }\n" + BACKENDS + POLICY)
        .getMessage()).contains("missing required key 'id'");
  }

  @Test
  void policyFileMissing_isLocatedInTheConfig() {
    ConfigException e = fail(BACKENDS + "policy: { file: nope.yaml }\n");
    assertThat(e.getMessage()).isEqualTo("sentinel.yaml:4:11: at /policy/file: the policy file "
        + dir.toAbsolutePath().normalize().resolve("nope.yaml") + " does not exist");
  }

  @Test
  void policyFileInvalid_namesThePolicyFilesLine() throws Exception {
    Files.createDirectories(dir.resolve("policies"));
    Files.writeString(dir.resolve("policies/bad.yaml"),
        "rules:\n  - id: a\n    allow: { tool: [x] }\n");
    ConfigException e = fail(BACKENDS + "policy: policies/bad.yaml\n");
    assertThat(e.getMessage()).isEqualTo("policies/bad.yaml:3:14: rule 'a': unknown key 'tool' "
        + "(expected one of roles, principals, attributes, methods, backends, tools, prompts, "
        + "resources, models, paths, when, when_cel, during); did you mean 'tools'?");
    assertThat(e.source()).isEqualTo("policies/bad.yaml");
    assertThat(e.line()).isEqualTo(3);
  }

  @Test
  void configAndPolicyProblems_reportedTogether() throws Exception {
    Files.writeString(dir.resolve("bad.yaml"), "rulez: []\n");
    ConfigException e = fail("gateway: { max_depth: 0 }\n" + BACKENDS + "policy: bad.yaml\n");
    assertThat(e.problems()).hasSize(2);
    assertThat(e.problems().get(0).source()).isEqualTo("sentinel.yaml");
    assertThat(e.problems().get(1).source()).isEqualTo("bad.yaml");
    assertThat(e.problems().get(1).message()).contains("did you mean 'rules'?");
  }

  @Test
  void killSwitchUnknownBackend_suggests() {
    ConfigException e = fail(BACKENDS + POLICY + "kill_switch:\n  backends: { fss: down }\n"
        + "  tools: { \"fs__*\": \"\" }\n");
    assertThat(e.getMessage())
        .contains("sentinel.yaml:6:15: at /kill_switch/backends/fss: unknown backend 'fss'; did "
            + "you mean 'fs'? (backends: fs)")
        .contains("expected the reason as text, such as \"maintenance\", got the text ''");
  }

  @Test
  void badEnumValues_suggest() {
    ConfigException e = fail(BACKENDS + POLICY + "audit: { on_sink_failure: blok, "
        + "when_full: [x] }\n");
    assertThat(e.getMessage())
        .contains("unknown value 'blok' (expected one of block, continue); did you mean 'block'?")
        .contains("at /audit/when_full: expected one of block, fail, got a list");
  }

  @Test
  void badStdioAndHttpValues() {
    ConfigException e = fail("backends:\n"
        + "  - name: a\n    stdio: { command: \"npx -y server\", cwd: missing-dir }\n"
        + "  - name: b\n    stdio: { command: s, env: { \"BAD-NAME\": x }, inherit_env: [\"A B\"] }\n"
        + "  - name: c\n    http: { url: \"mcp.example.com/mcp\", headers: { Host: x, \"a b\": y } }\n"
        + "  - name: d\n    http: { url: \"https:///nohost\" }\n" + POLICY);
    assertThat(e.getMessage())
        .contains("backend 'a': the command 'npx -y server' contains spaces, but it is run "
            + "without a shell")
        .contains("backend 'a': the working directory " + dir.toAbsolutePath().normalize()
            .resolve("missing-dir") + " does not exist or is not a directory")
        .contains("backend 'b': invalid environment variable name 'BAD-NAME'")
        .contains("backend 'b': invalid environment variable name 'A B'")
        .contains("backend 'c': the url 'mcp.example.com/mcp' is not an http or https URL")
        .contains("backend 'c': the header 'Host' is set by the gateway and cannot be configured")
        .contains("backend 'c': invalid header name 'a b'")
        .contains("backend 'd': the url 'https:///nohost' has no host");
  }

  @Test
  void sinkShapes() {
    ConfigException e = fail(BACKENDS + POLICY + "audit:\n  sinks:\n    - a.jsonl\n"
        + "    - { jsonl: a, slf4j: b }\n    - jsonl: { fsync: true }\n");
    assertThat(e.getMessage())
        .contains("expected a sink with one key, one of jsonl, slf4j, database, such as { jsonl: "
            + "audit.jsonl }, got the text 'a.jsonl'")
        .contains("got a mapping with 2 keys")
        .contains("jsonl sink: missing required key 'file'");
  }

  @Test
  void configFileMissing() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> GatewayConfig.load(dir.resolve("none.yaml"), Map.of()));
    assertThat(e.getMessage()).isEqualTo(dir.resolve("none.yaml") + ": the config file does not "
        + "exist; check the path (a relative one starts from " + Path.of("").toAbsolutePath() + ")");
  }

  @Test
  void rootNotAMapping() {
    ConfigException e = fail("- a\n- b\n");
    assertThat(e.getMessage()).contains("expected a mapping of gateway, identity, backends");
  }

  @Test
  void backendNamesThatMakeQualifiedNamesAmbiguous_areRefusedWhereTheyAre() {
    ConfigException e = fail("backends:\n  - name: b\n    stdio: { command: s }\n"
        + "  - name: b_\n    stdio: { command: s }\n" + POLICY);
    assertThat(e.getMessage()).contains("sentinel.yaml:4:5: backend 'b_': the names 'b' and 'b_' make qualified"
        + " names ambiguous with the separator '__' ('b___x' could be a tool of either); rename one of them");
  }

  @Test
  void connectionSettings_badValuesAreLocated() {
    ConfigException e = fail("backends:\n  - name: fs\n    stdio: { command: s }\n    isolation: per_user\n"
        + "    max_connections: 2\n    max_connections_per_principal: 3\n    resource_prefixes: file:///\n"
        + "    validate: strict\n" + POLICY);
    assertThat(e.getMessage())
        .contains("sentinel.yaml:4:5: backend 'fs': expected one of shared, per_principal, per_session, got 'per_user'")
        .contains("backend 'fs': max_connections_per_principal (3) must not exceed max_connections (2)")
        .contains("backend 'fs': expected a list of URI prefixes")
        .contains("sentinel.yaml:8:5: backend 'fs': expected one of enforce, warn, off, got 'strict'");
  }
}
