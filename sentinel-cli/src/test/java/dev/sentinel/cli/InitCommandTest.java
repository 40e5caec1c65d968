package dev.sentinel.cli;

import static dev.sentinel.cli.GatewayRig.CLASSPATH_ARGS;
import static dev.sentinel.cli.GatewayRig.JAVA;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitCommandTest {
  private static final String TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";

  private static String json(String text) {
    return ClientConfigs.JSON.writeValueAsString(text);
  }

  private static List<String> files(Path dir) throws Exception {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Runs config check and policy test on what init wrote, as a user would next. */
  private static void assertChecksPass(Path dir, Map<String, String> env) {
    Run check = Cli.run(env, "config", "check", dir.resolve("sentinel.yaml").toString());
    assertThat(check.exit()).as(check.err()).isZero();
    Run test = Cli.run("policy", "test", dir.resolve("policy.test.yaml").toString());
    assertThat(test.exit()).as(test.out()).isZero();
    assertThat(test.out()).contains(" passed, 0 failed");
  }

  @Test
  void init_fromClaudeCodeProjectFile_writesAConfigThatPassesCheckAndItsPolicyTests(
      @TempDir Path dir) throws Exception {
    Path project = Files.createDirectories(dir.resolve("project"));
    Path mcp = project.resolve(".mcp.json");
    Files.writeString(mcp, "{\n  \"mcpServers\": {\n"
        + "    \"GitHub Tools\": {\n"
        + "      \"type\": \"stdio\", \"command\": " + json(JAVA) + ", \"args\": [\"-version\"],\n"
        + "      \"env\": { \"GITHUB_PERSONAL_ACCESS_TOKEN\": \"" + TOKEN + "\","
        + " \"LOG_LEVEL\": \"debug\", \"HOME_DIR\": \"${HOME}\" }\n"
        + "    },\n"
        + "    \"remote\": { \"type\": \"http\", \"url\": \"https://mcp.example.com/mcp?api_key=abc123\","
        + " \"headers\": { \"Authorization\": \"Bearer s3cr3t-t0ken-value-0123456789\","
        + " \"X-Team\": \"payments\" } },\n"
        + "    \"old\": { \"type\": \"sse\", \"url\": \"https://old.example.com/sse\" }\n"
        + "  }\n}\n");
    Path out = Files.createDirectories(dir.resolve("gateway"));

    Run run = Cli.run("init", "--from", mcp.toString(), "--output",
        out.resolve("sentinel.yaml").toString());

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(files(out)).containsExactly("policy.test.yaml", "policy.yaml", "sentinel.yaml");
    String config = Files.readString(out.resolve("sentinel.yaml"));
    String everything = config + Files.readString(out.resolve("policy.yaml"))
        + Files.readString(out.resolve("policy.test.yaml")) + run.out();
    assertThat(everything).doesNotContain(TOKEN).doesNotContain("s3cr3t").doesNotContain("abc123");
    assertThat(config)
        .contains("- name: github-tools")
        .contains("GITHUB_PERSONAL_ACCESS_TOKEN: \"${env:GITHUB_PERSONAL_ACCESS_TOKEN}\"")
        .contains("LOG_LEVEL: \"debug\"")
        .contains("HOME_DIR: \"${env:HOME}\"")
        .contains("cwd: " + json(project.toAbsolutePath().toString()))
        .contains("url: \"https://mcp.example.com/mcp?api_key=${env:REMOTE_API_KEY}\"")
        .contains("\"Authorization\": \"Bearer ${env:REMOTE_TOKEN}\"")
        .contains("\"X-Team\": \"payments\"")
        .contains("# Skipped: server 'old'");
    assertThat(run.out())
        .contains("backend github-tools (server 'GitHub Tools', renamed")
        .contains("env GITHUB_PERSONAL_ACCESS_TOKEN: looks like a secret: not copied")
        .contains("env LOG_LEVEL: copied")
        .contains("skipped server 'old'")
        .contains("set before starting sentinel: GITHUB_PERSONAL_ACCESS_TOKEN, HOME,"
            + " REMOTE_API_KEY, REMOTE_TOKEN");
    assertThat(Files.readString(out.resolve("policy.yaml")))
        .contains("- id: github-tools-confirm-all")
        .contains("confirm: { tools: [\"github-tools__*\"] }")
        .contains("run 'sentinel init --probe'");

    assertChecksPass(out, Map.of("GITHUB_PERSONAL_ACCESS_TOKEN", "t", "REMOTE_API_KEY", "k",
        "REMOTE_TOKEN", "r", "HOME", "/tmp"));
  }

  @Test
  void init_unknownDeny_withoutProbe_writesNoAllowAndTestsThatCallsAreRefused(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("claude_desktop_config.json");
    Files.writeString(file, "{\"mcpServers\": {\"fs\": {\"command\": " + json(JAVA)
        + ", \"args\": [\"-version\"]}}, \"globalShortcut\": \"\"}");

    Run run = Cli.run("init", "--from", file.toString(), "--unknown", "deny", "--output",
        dir.resolve("sentinel.yaml").toString());

    assertThat(run.exit()).as(run.err()).isZero();
    String policy = Files.readString(dir.resolve("policy.yaml"));
    assertThat(policy).contains("rules: []").contains("# fs: its tools were not listed");
    assertThat(Files.readString(dir.resolve("policy.test.yaml")))
        .contains("request: { tool: \"fs__any_tool\" }\n    expect: deny");
    assertChecksPass(dir, Map.of());
  }

  @Test
  void init_probe_allowsTheReadOnlyToolsByNameAndConfirmsTheOthers(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve(".mcp.json");
    Files.writeString(file, "{\"mcpServers\": {\"notes\": {\"command\": " + json(JAVA)
        + ", \"args\": [" + json(CLASSPATH_ARGS) + ", " + json(AnnotatedBackend.class.getName())
        + "]}}}");

    Run run = Cli.run("init", "--from", file.toString(), "--probe", "--output",
        dir.resolve("sentinel.yaml").toString());

    assertThat(run.exit()).as(run.err() + run.out()).isZero();
    assertThat(run.out()).contains("probe notes: 5 tools, 2 read-only by their annotations")
        .contains("  notes__read_notes  read-only").contains("  notes__delete_note  destructive");
    String policy = Files.readString(dir.resolve("policy.yaml"));
    assertThat(policy)
        .contains("- id: notes-read-only\n    allow: { tools: [\"notes__read_notes\","
            + " \"notes__search_notes\"] }")
        .contains("- id: notes-confirm\n    confirm: { tools: [\"notes__write_note\","
            + " \"notes__delete_note\", \"notes__mystery\"] }")
        .contains("Annotations are the server's own claim");
    assertThat(Files.readString(dir.resolve("policy.test.yaml")))
        .contains("notes: notes__read_notes is read-only: allowed")
        .contains("notes: a tool it did not list is refused");
    assertChecksPass(dir, Map.of());
  }

  @Test
  void init_probe_unknownDeny_deniesTheToolsThatAreNotReadOnly(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve(".mcp.json");
    Files.writeString(file, "{\"mcpServers\": {\"notes\": {\"command\": " + json(JAVA)
        + ", \"args\": [" + json(CLASSPATH_ARGS) + ", " + json(AnnotatedBackend.class.getName())
        + "]}}}");

    Run run = Cli.run("init", "--from", file.toString(), "--probe", "--unknown", "deny",
        "--output", dir.resolve("sentinel.yaml").toString());

    assertThat(run.exit()).as(run.err() + run.out()).isZero();
    assertThat(Files.readString(dir.resolve("policy.yaml")))
        .contains("- id: notes-deny\n    deny: { tools: [\"notes__write_note\","
            + " \"notes__delete_note\", \"notes__mystery\"] }");
    Run test = Cli.run("policy", "test", dir.resolve("policy.test.yaml").toString());
    assertThat(test.out()).contains("PASS notes: notes__delete_note is refused")
        .endsWith("6 passed, 0 failed\n");
    assertChecksPass(dir, Map.of());
  }

  @Test
  void init_probe_theWrittenConfigServesTheClient_readOnlyToolsRunAndOthersDoNot(
      @TempDir Path dir) throws Exception {
    Path file = dir.resolve(".mcp.json");
    Files.writeString(file, "{\"mcpServers\": {\"notes\": {\"command\": " + json(JAVA)
        + ", \"args\": [" + json(CLASSPATH_ARGS) + ", " + json(AnnotatedBackend.class.getName())
        + "]}}}");
    Path config = dir.resolve("sentinel.yaml");
    assertThat(Cli.run("init", "--from", file.toString(), "--probe", "--output",
        config.toString()).exit()).isZero();

    GatewayRig.Client client = GatewayRig.connect(config, "notes");
    ProcessHandle process = GatewayRig.gateway(config);
    List<ProcessHandle> all = java.util.stream.Stream.concat(process.descendants(),
        java.util.stream.Stream.of(process)).toList();
    try {
      McpSyncClient gateway = client.sdk();
      assertThat(gateway.listTools().tools()).extracting(McpSchema.Tool::name)
          .contains("notes__read_notes", "notes__search_notes");
      assertThat(GatewayRig.text(gateway.callTool(new McpSchema.CallToolRequest(
          "notes__read_notes", Map.of())))).isEqualTo("read_notes");
      Throwable refused = org.assertj.core.api.Assertions.catchThrowable(() -> {
        McpSchema.CallToolResult result = gateway.callTool(new McpSchema.CallToolRequest(
            "notes__delete_note", Map.of()));
        assertThat(result.isError()).isTrue();
        assertThat(GatewayRig.text(result)).isNotEqualTo("delete_note");
      });
      if (refused != null) {
        assertThat(refused).isInstanceOf(McpError.class);
      }
      gateway.closeGracefully();
    } finally {
      GatewayRig.kill(all);
    }
  }

  @Test
  void init_outputTheRootFolder_isAUserError_notAnUnexpectedOne(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve(".mcp.json");
    Files.writeString(file, "{\"mcpServers\": {\"fs\": {\"command\": \"sh\"}}}");

    Run run = Cli.run("init", "--from", file.toString(), "--output", "/");

    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).contains("give --output a file").doesNotContain("unexpected error");
  }

  @Test
  void init_claudeJson_readsUserScopeAndTheProject_theProjectWinsForOneName(@TempDir Path dir)
      throws Exception {
    Path project = Files.createDirectories(dir.resolve("work"));
    Path file = dir.resolve(".claude.json");
    Files.writeString(file, "{\"numStartups\": 3, \"mcpServers\": {"
        + "\"shared\": {\"type\": \"stdio\", \"command\": \"sh\", \"args\": [\"-c\", \"user\"]},"
        + "\"mine\": {\"type\": \"stdio\", \"command\": \"sh\"}},"
        + "\"projects\": {" + json(project.toString()) + ": {\"allowedTools\": [], \"mcpServers\": {"
        + "\"shared\": {\"type\": \"stdio\", \"command\": \"sh\", \"args\": [\"-c\", \"local\"]}}},"
        + "\"/elsewhere\": {\"mcpServers\": {\"other\": {\"command\": \"sh\"}}}}}");

    Run run = Cli.run("init", "--from", file.toString(), "--project", project.toString(),
        "--output", dir.resolve("out").resolve("sentinel.yaml").toString());

    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).contains("no such folder: " + dir.resolve("out"));
    Files.createDirectories(dir.resolve("out"));
    run = Cli.run("init", "--from", file.toString(), "--project", project.toString(),
        "--output", dir.resolve("out").resolve("sentinel.yaml").toString());
    assertThat(run.exit()).as(run.err()).isZero();
    String config = Files.readString(dir.resolve("out").resolve("sentinel.yaml"));
    assertThat(config).contains("- name: shared").contains("\"local\"").doesNotContain("\"user\"")
        .contains("- name: mine").doesNotContain("other");
    assertThat(run.out()).contains("the user-scope server of the same name is not imported");
    assertChecksPass(dir.resolve("out"), Map.of());
  }

  @Test
  void init_cursor_keepsItsEnvReferencesAndExpandsUserHome_runsArgumentVariablesThroughSh(
      @TempDir Path dir) throws Exception {
    Path cursor = Files.createDirectories(dir.resolve("proj").resolve(".cursor"));
    Path file = cursor.resolve("mcp.json");
    Files.writeString(file, "{\"mcpServers\": {\"db\": {\"command\": \"sh\", \"args\":"
        + " [\"-c\", \"echo ${env:DB_URL} ${LIMIT:-10} it's\", \"--password\", \"hunter2hunter2\"],"
        + " \"env\": {\"API\": \"${env:API_TOKEN}\", \"DATA\": \"${userHome}/data\"}}}}");

    Run run = Cli.run("init", "--from", file.toString(), "--output",
        dir.resolve("sentinel.yaml").toString());

    assertThat(run.exit()).as(run.err()).isZero();
    String config = Files.readString(dir.resolve("sentinel.yaml"));
    assertThat(config).doesNotContain("hunter2")
        .contains("command: sh\n      args: [\"-c\", \"exec 'sh' '-c' \\\"echo ${DB_URL} ${LIMIT:-10}"
            + " it's\\\" '--password' \\\"$DB_PASSWORD\\\"\"]")
        .contains("DB_URL: \"${env:DB_URL}\"").contains("LIMIT: \"${env:LIMIT:-}\"")
        .contains("DB_PASSWORD: \"${env:DB_PASSWORD}\"").contains("API: \"${env:API_TOKEN}\"")
        .contains("DATA: " + json(System.getProperty("user.home") + "/data"))
        .contains("cwd: " + json(dir.resolve("proj").toAbsolutePath().toString()));
    assertChecksPass(dir, Map.of("DB_URL", "u", "DB_PASSWORD", "p", "API_TOKEN", "a"));
  }

  @Test
  void init_secretsAnywhereInAUrl_becomeReferences(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mcp.json");
    Files.writeString(file, "{\"mcpServers\": {"
        + "\"zap\": {\"url\": \"https://actions.example.com/mcp/" + TOKEN + "/x?v=2\"},"
        + "\"odd\": {\"url\": \"https://u:pa55word@odd.example.com/mcp?=" + TOKEN + "#k=" + TOKEN
        + "\"}}}");
    Run run = Cli.run("init", "--from", file.toString(), "--output",
        dir.resolve("sentinel.yaml").toString());

    assertThat(run.exit()).as(run.err()).isZero();
    String config = Files.readString(dir.resolve("sentinel.yaml"));
    assertThat(config).doesNotContain(TOKEN).doesNotContain("pa55word")
        .contains("url: \"https://actions.example.com/mcp/${env:ZAP_URL_SECRET}/x?v=2\"")
        .contains("url: \"https://u:${env:ODD_PASSWORD}@odd.example.com/mcp?=${env:ODD_URL_SECRET}"
            + "#k=${env:ODD_K}\"");
    assertChecksPass(dir, Map.of("ZAP_URL_SECRET", "z", "ODD_PASSWORD", "p", "ODD_URL_SECRET", "o",
        "ODD_K", "k"));
  }

  @Test
  void init_existingFile_refusedWithoutForce(@TempDir Path dir) throws Exception {
    Path file = dir.resolve(".mcp.json");
    Files.writeString(file, "{\"mcpServers\": {\"a\": {\"command\": \"sh\"}}}");
    Files.writeString(dir.resolve("policy.yaml"), "mine");

    Run run = Cli.run("init", "--from", file.toString(), "--output",
        dir.resolve("sentinel.yaml").toString());

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("sentinel: " + dir.resolve("policy.yaml") + " exists. Hint:"
        + " pass --force to overwrite it, or --output another file in another folder\n");
    assertThat(Files.readString(dir.resolve("policy.yaml"))).isEqualTo("mine");
    assertThat(files(dir)).containsExactly(".mcp.json", "policy.yaml");

    run = Cli.run("init", "--from", file.toString(), "--force", "--output",
        dir.resolve("sentinel.yaml").toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(Files.readString(dir.resolve("policy.yaml"))).startsWith("# Written by");
  }

  /** A bad client file: one line on stderr naming the problem, exit 1, nothing written. */
  private static void assertRefused(Path dir, String text, String error) throws Exception {
    Path file = dir.resolve("mcp.json");
    Files.writeString(file, text);
    Run run = Cli.run("init", "--from", file.toString(), "--output",
        dir.resolve("sentinel.yaml").toString());
    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    assertThat(run.err()).contains(error).doesNotContain("\tat ").endsWith("\n");
    assertThat(run.err().lines().count()).isEqualTo(1);
    assertThat(files(dir)).containsExactly("mcp.json");
  }

  @Test
  void init_malformedJson_oneLineWithTheLocation(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"a\": {\"command\": \"sh\",}}}",
        "mcp.json:1:39: not valid JSON: Unexpected character");
  }

  @Test
  void init_comment_isAnError(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\n  // my servers\n  \"mcpServers\": {}}",
        "mcp.json:2:3: a comment, which JSON does not allow");
  }

  @Test
  void init_duplicateServerName_isAnError(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"a\": {\"command\": \"sh\"}, \"a\": {\"command\": \"ls\"}}}",
        "duplicate key 'a': JSON clients keep only the last one");
  }

  @Test
  void init_namesThatBecomeTheSameBackend_isAnError(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"My Server\": {\"command\": \"sh\"}, \"my-server\":"
        + " {\"command\": \"sh\"}}}", "servers 'My Server' and 'my-server' both become backend"
        + " 'my-server'");
  }

  @Test
  void init_nameWithoutLetters_isAnError(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"__\": {\"command\": \"sh\"}}}",
        "server '__' has no letter or digit");
  }

  @Test
  void init_commandAndUrl_isAnError(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"a\": {\"command\": \"sh\", \"url\": \"http://x/mcp\"}}}",
        "server 'a' has both command and url");
  }

  @Test
  void init_onlySse_isAnError(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"a\": {\"url\": \"https://x.example/sse\"}}}",
        "no server to import: server 'a'");
  }

  @Test
  void init_unquotedSecret_isNotEchoedWhole(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"a\": {\"env\": {\"T\": " + TOKEN + "}}}}",
        "Unrecognized token 'ghp_...'");
    assertThat(Cli.run("init", "--from", dir.resolve("mcp.json").toString(), "--output",
        dir.resolve("sentinel.yaml").toString()).err())
        .doesNotContain(TOKEN.substring(4));
  }

  @Test
  void init_aValueSentinelRefuses_namesTheBackend(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"web\": {\"type\": \"http\", \"url\": \"localhost:3000/mcp\"}}}",
        "the servers do not make a valid Sentinel config: backend 'web': ");
  }

  @Test
  void init_noServers_isAnError(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {}}", "no MCP servers in the given files");
  }

  @Test
  void init_envFileNotText_isNotedNotACrash(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mcp.json");
    Files.writeString(file, "{\"mcpServers\": {\"a\": {\"command\": \"sh\", \"envFile\": [\"x\"]}}}");
    Run run = Cli.run("init", "--from", file.toString(), "--output",
        dir.resolve("sentinel.yaml").toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("envFile is not read");
  }

  @Test
  void init_nulInCommand_isAnErrorInOneLine(@TempDir Path dir) throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"a\": {\"command\": \"s\\u0000h\"}}}",
        "server 'a': command holds a NUL character");
  }

  @Test
  void init_controlCharactersInANameAreEscaped_theErrorStaysOneLine(@TempDir Path dir)
      throws Exception {
    assertRefused(dir, "{\"mcpServers\": {\"a\\nb\": {\"command\": \"sh\"}, \"a-b\":"
        + " {\"command\": \"sh\"}}}", "servers 'a\\u000ab' and 'a-b' both become backend 'a-b'");
  }

  @Test
  void init_notAnObject_isAnError(@TempDir Path dir) throws Exception {
    assertRefused(dir, "[1, 2]", "is not a JSON object");
  }

  @Test
  void init_hugeFile_isRefusedBeforeReading(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mcp.json");
    try (RandomAccessFile huge = new RandomAccessFile(file.toFile(), "rw")) {
      huge.setLength(ClientConfigs.MAX_BYTES + 1); // sparse: nothing is really written
    }
    Run run = Cli.run("init", "--from", file.toString(), "--output",
        dir.resolve("sentinel.yaml").toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("is 32 MiB, more than the 32 MiB a client's config may be");
    assertThat(files(dir)).containsExactly("mcp.json");
  }

  @Test
  void init_sameServerInTwoFiles_isAnError(@TempDir Path dir) throws Exception {
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    Files.writeString(a, "{\"mcpServers\": {\"x\": {\"command\": \"sh\"}}}");
    Files.writeString(b, "{\"mcpServers\": {\"x\": {\"command\": \"sh\"}}}");
    Run run = Cli.run("init", "--from", a.toString(), "--from", b.toString(), "--output",
        dir.resolve("sentinel.yaml").toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("server 'x' is in both " + a + " and " + b);
  }

  @Test
  void backendName_mapsClientNames() {
    assertThat(ClientConfigs.backendName("My GitHub")).isEqualTo("my-github");
    assertThat(ClientConfigs.backendName("db__prod")).isEqualTo("db_prod");
    assertThat(ClientConfigs.backendName("@scope/server.fs")).isEqualTo("scope-server-fs");
    assertThat(ClientConfigs.backendName("_x_")).isEqualTo("x");
    assertThat(ClientConfigs.backendName("a".repeat(70))).hasSize(63);
    assertThat(ClientConfigs.backendName("日本")).isEmpty();
  }

  @Test
  void secret_byNameOrForm() {
    assertThat(ClientConfigs.secret("GITHUB_TOKEN", "x")).isTrue();
    assertThat(ClientConfigs.secret("OPENAI_API_KEY", "x")).isTrue();
    assertThat(ClientConfigs.secret("DATABASE_URL", "postgres://u:pw@db/x")).isTrue();
    assertThat(ClientConfigs.secret("X", TOKEN)).isTrue();
    assertThat(ClientConfigs.secret("X", "Bearer abc")).isTrue();
    assertThat(ClientConfigs.secret("LOG_LEVEL", "debug")).isFalse();
    assertThat(ClientConfigs.secret("ROOT", "/Users/me/projects/one2three4five6")).isFalse();
    assertThat(ClientConfigs.secret("KEYBOARD", "us")).isFalse();
  }
}
