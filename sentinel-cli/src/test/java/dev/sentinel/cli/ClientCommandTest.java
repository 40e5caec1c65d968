package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientCommandTest {
  private static final String TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
  private static final String CLAUDE_JSON = "{\n"
      + "  \"numStartups\": 12,\n"
      + "  \"tipsHistory\": {\"a\": 1.50, \"big\": 12345678901234567890},\n"
      + "  \"mcpServers\": {\n"
      + "    \"GitHub\": {\n"
      + "      \"type\": \"stdio\",\n"
      + "      \"command\": \"npx\",\n"
      + "      \"args\": [\"-y\", \"@modelcontextprotocol/server-github\"],\n"
      + "      \"env\": {\"GITHUB_PERSONAL_ACCESS_TOKEN\": \"" + TOKEN + "\"}\n"
      + "    },\n"
      + "    \"notes\": {\"type\": \"stdio\", \"command\": \"notes-server\"}\n"
      + "  },\n"
      + "  \"projects\": {\"/p\": {\"allowedTools\": []}},\n"
      + "  \"userID\": \"ü-42\"\n"
      + "}\n";

  private static Path config(Path dir) throws Exception {
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, String.join("\n",
        "backends:",
        "  - name: github",
        "    stdio:",
        "      command: npx",
        "      env: { GITHUB_PERSONAL_ACCESS_TOKEN: \"${env:GITHUB_PERSONAL_ACCESS_TOKEN}\" }",
        "policy: { rules: [] }",
        ""));
    return file;
  }

  private static List<String> files(Path dir) throws Exception {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static Run add(Path dir, Path file, String... more) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("client", "add", "claude-code",
        "--file", file.toString(), "--config", config(dir).toString(), "--sentinel",
        "/opt/sentinel/bin/sentinel"));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  @Test
  void add_writesTheEntry_backsUpFirst_keepsEveryOtherKeyInOrder(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve(".claude.json");
    Files.writeString(file, CLAUDE_JSON);

    Run run = add(dir, file);

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("added the entry 'sentinel'")
        .contains("the client still starts GitHub itself too; pass --replace");
    List<String> names = files(dir);
    assertThat(names).hasSize(3).contains(".claude.json", "sentinel.yaml");
    String backup = names.stream().filter(n -> n.startsWith(".claude.json.bak-")).findFirst()
        .orElseThrow();
    assertThat(backup).matches("\\.claude\\.json\\.bak-\\d{8}T\\d{6}Z");
    assertThat(Files.readString(dir.resolve(backup))).isEqualTo(CLAUDE_JSON);
    String after = Files.readString(file);
    // Everything before the new entry is as it was, numbers and all; the entry comes last.
    assertThat(after).startsWith(CLAUDE_JSON.substring(0, CLAUDE_JSON.indexOf("    \"GitHub\""))
            .replace("{\"a\": 1.50, \"big\": 12345678901234567890}",
                "{\n    \"a\": 1.50,\n    \"big\": 12345678901234567890\n  }"))
        .contains("    \"sentinel\": {\n"
            + "      \"type\": \"stdio\",\n"
            + "      \"command\": \"/opt/sentinel/bin/sentinel\",\n"
            + "      \"args\": [\n"
            + "        \"stdio\",\n"
            + "        \"--config\",\n"
            + "        \"" + dir.resolve("sentinel.yaml") + "\"\n"
            + "      ],\n"
            + "      \"env\": {\n"
            + "        \"GITHUB_PERSONAL_ACCESS_TOKEN\": \"" + TOKEN + "\"\n"
            + "      }\n"
            + "    }\n  },\n  \"projects\"")
        .contains("\"notes\": {").contains("\"userID\": \"ü-42\"\n}\n");
    var tree = ClientConfigs.JSON.readTree(after);
    var old = ClientConfigs.JSON.readTree(CLAUDE_JSON);
    assertThat(List.copyOf(tree.propertyNames())).containsExactlyElementsOf(old.propertyNames());

    Run again = add(dir, file);
    assertThat(again.exit()).isZero();
    assertThat(again.out()).contains("the entry 'sentinel' is already there; nothing changed");
    assertThat(Files.readString(file)).isEqualTo(after);
    assertThat(files(dir)).hasSize(3);
  }

  @Test
  void add_dryRun_printsAUnifiedDiffWithoutTheSecret_writesNothing(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve(".claude.json");
    Files.writeString(file, CLAUDE_JSON);

    Run run = add(dir, file, "--dry-run", "--replace");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).startsWith("--- " + file + "\n+++ " + file + "\n@@ -")
        .contains("\n-    \"GitHub\": {\n")
        .contains("\n+    \"sentinel\": {\n")
        .contains("\"GITHUB_PERSONAL_ACCESS_TOKEN\": \"<secret>\"")
        .doesNotContain(TOKEN)
        .endsWith("(dry run: nothing written)\n");
    assertThat(Files.readString(file)).isEqualTo(CLAUDE_JSON);
    assertThat(files(dir)).containsExactly(".claude.json", "sentinel.yaml");
  }

  @Test
  void add_replace_removesTheServersSentinelFrontsAndKeepsTheOthers(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("claude_desktop_config.json");
    Files.writeString(file, CLAUDE_JSON);

    Run run = Cli.run("client", "add", "claude-desktop", "--file", file.toString(), "--config",
        config(dir).toString(), "--sentinel", "/opt/sentinel/bin/sentinel", "--replace");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("removed the client's own entries for GitHub");
    var servers = ClientConfigs.JSON.readTree(Files.readString(file)).path("mcpServers");
    assertThat(List.copyOf(servers.propertyNames())).containsExactly("notes", "sentinel");
    assertThat(servers.path("sentinel").has("type")).isFalse();
    assertThat(servers.path("sentinel").path("env").path("GITHUB_PERSONAL_ACCESS_TOKEN")
        .asString()).isEqualTo(TOKEN);
  }

  @Test
  void add_replace_movesAHeaderTokenIntoSentinelsEntry(@TempDir Path dir) throws Exception {
    Path file = dir.resolve(".mcp.json");
    Files.writeString(file, "{\"mcpServers\": {\"Remote\": {\"type\": \"http\", \"url\":"
        + " \"https://mcp.example.com/mcp\", \"headers\": {\"Authorization\": \"Bearer "
        + TOKEN + "\"}}}}\n");
    Path out = Files.createDirectories(dir.resolve("gw"));
    assertThat(Cli.run("init", "--from", file.toString(), "--output",
        out.resolve("sentinel.yaml").toString()).exit()).isZero();

    Run run = Cli.run("client", "add", "claude-code", "--file", file.toString(), "--config",
        out.resolve("sentinel.yaml").toString(), "--sentinel", "/opt/sentinel/bin/sentinel",
        "--replace");

    assertThat(run.exit()).as(run.err()).isZero();
    var servers = ClientConfigs.JSON.readTree(Files.readString(file)).path("mcpServers");
    assertThat(List.copyOf(servers.propertyNames())).containsExactly("sentinel");
    assertThat(servers.path("sentinel").path("env").path("REMOTE_TOKEN").asString())
        .isEqualTo(TOKEN);
    assertThat(run.out()).doesNotContain("set REMOTE_TOKEN");
  }

  @Test
  void add_missingFile_isCreatedReadableByItsOwnerOnly(@TempDir Path dir) throws Exception {
    Path file = dir.resolve(".cursor").resolve("mcp.json");

    Run run = Cli.run("client", "add", "cursor", "--file", file.toString(), "--config",
        config(dir).toString(), "--sentinel", "/opt/sentinel/bin/sentinel");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("set GITHUB_PERSONAL_ACCESS_TOKEN in the environment");
    assertThat(Files.readString(file)).isEqualTo("{\n  \"mcpServers\": {\n    \"sentinel\": {\n"
        + "      \"command\": \"/opt/sentinel/bin/sentinel\",\n      \"args\": [\n"
        + "        \"stdio\",\n        \"--config\",\n        \"" + dir.resolve("sentinel.yaml")
        + "\"\n      ]\n    }\n  }\n}\n");
    assertThat(Files.getPosixFilePermissions(file)).hasSize(2);
  }

  @Test
  void add_fileWithComments_isRefused_nothingWritten(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mcp.json");
    String text = "{\n  /* mine */\n  \"mcpServers\": {}\n}\n";
    Files.writeString(file, text);

    Run run = add(dir, file);

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).startsWith("sentinel: " + file + ":2:3: a comment").hasLineCount(1);
    assertThat(Files.readString(file)).isEqualTo(text);
    assertThat(files(dir)).containsExactly("mcp.json", "sentinel.yaml");
  }

  @Test
  void add_anotherServerCalledSentinel_isRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mcp.json");
    String text = "{\"mcpServers\": {\"sentinel\": {\"command\": \"other\"}}}";
    Files.writeString(file, text);

    Run run = add(dir, file);

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("already has a server 'sentinel' that does not run sentinel"
        + " stdio. Hint: give the entry another name with --name");
    assertThat(Files.readString(file)).isEqualTo(text);
  }

  @Test
  void defaultFiles_areTheClientsUsualPlaces() {
    Path home = Path.of("/home/ann");
    assertThat(ClientCommand.Client.CLAUDE_CODE.defaultFile("Linux", home, null))
        .isEqualTo(home.resolve(".claude.json"));
    assertThat(ClientCommand.Client.CURSOR.defaultFile("Mac OS X", home, null))
        .isEqualTo(home.resolve(".cursor/mcp.json"));
    assertThat(ClientCommand.Client.CLAUDE_DESKTOP.defaultFile("Mac OS X", home, null))
        .isEqualTo(home.resolve("Library/Application Support/Claude/claude_desktop_config.json"));
    assertThat(ClientCommand.Client.CLAUDE_DESKTOP.defaultFile("Linux", home, null))
        .isEqualTo(home.resolve(".config/Claude/claude_desktop_config.json"));
    assertThat(ClientCommand.Client.CLAUDE_DESKTOP.defaultFile("Windows 11", home, "/appdata"))
        .isEqualTo(Path.of("/appdata/Claude/claude_desktop_config.json"));
  }

  @Test
  void add_symlinkedFile_isEditedWhereItIs_theLinkKept(@TempDir Path dir) throws Exception {
    Path real = Files.createDirectories(dir.resolve("dotfiles")).resolve("claude.json");
    Files.writeString(real, CLAUDE_JSON);
    Path link = Files.createSymbolicLink(dir.resolve(".claude.json"), real);

    Run run = add(dir, link);

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(real)).contains("\"sentinel\": {");
  }

  @Test
  void add_deeplyNestedJson_isRefusedInOneLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mcp.json");
    Files.writeString(file, "[".repeat(5000) + "]".repeat(5000));

    Run run = add(dir, file);

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).startsWith("sentinel: " + file + ": nested more than 500 levels deep")
        .hasLineCount(1);
  }

  @Test
  void add_configThatDoesNotLoad_isRefused_nothingWritten(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mcp.json");
    Files.writeString(file, CLAUDE_JSON);
    Path config = dir.resolve("broken.yaml");
    Files.writeString(config, "backends: []\npolicy: { rules: [] }\n");

    Run run = Cli.run("client", "add", "cursor", "--file", file.toString(), "--config",
        config.toString(), "--sentinel", "/opt/sentinel/bin/sentinel");

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).startsWith("sentinel: " + config + " does not load: ")
        .contains("Hint: fix it first").hasLineCount(1);
    assertThat(Files.readString(file)).isEqualTo(CLAUDE_JSON);
    assertThat(files(dir)).containsExactly("broken.yaml", "mcp.json");
  }

  @Test
  void add_unknownClient_isAUsageError(@TempDir Path dir) throws Exception {
    Run run = Cli.run("client", "add", "vscode", "--file", dir.resolve("x.json").toString());
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("unknown client 'vscode'");
  }

  @Test
  void initThenAdd_theEntryRunsTheWrittenConfig(@TempDir Path dir) throws Exception {
    Path file = dir.resolve(".mcp.json");
    Files.writeString(file, "{\"mcpServers\": {\"shell\": {\"command\": \"sh\"}}}\n");
    Path out = Files.createDirectories(dir.resolve("gw"));
    assertThat(Cli.run("init", "--from", file.toString(), "--output",
        out.resolve("sentinel.yaml").toString()).exit()).isZero();

    Run run = Cli.run("client", "add", "claude-code", "--file", file.toString(), "--config",
        out.resolve("sentinel.yaml").toString(), "--replace");

    assertThat(run.exit()).as(run.err()).isZero();
    var entry = ClientConfigs.JSON.readTree(Files.readString(file)).path("mcpServers");
    assertThat(List.copyOf(entry.propertyNames())).containsExactly("sentinel");
    // Without --sentinel: the launcher of this source tree, as an absolute path.
    assertThat(Path.of(entry.path("sentinel").path("command").asString())).isAbsolute()
        .endsWith(Path.of("bin", "sentinel")).isExecutable();
  }
}
