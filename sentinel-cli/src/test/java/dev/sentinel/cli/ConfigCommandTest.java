package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigCommandTest {
  /** A PATH folder holding the fixtures' programs, as small executable scripts. */
  @TempDir static Path bin;
  private static Map<String, String> ENV;

  @BeforeAll
  static void programs() throws Exception {
    for (String name : new String[] {"npx", "billing-server"}) {
      Path program = bin.resolve(name);
      Files.writeString(program, "#!/bin/sh\nexec cat\n");
      Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    ENV = Map.of("FS_TOKEN", "fs-secret-111", "REMOTE_KEY", "query-secret-222",
        "REMOTE_TOKEN", "bearer-secret-333", "PATH", bin.toString());
  }

  private static Path config(Path dir, String stdio) throws Exception {
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, String.join("\n",
        "backends:",
        "  - name: fs",
        "    stdio: " + stdio,
        "policy: { rules: [] }",
        ""));
    return file;
  }

  @Test
  void check_printsSummary() {
    String file = Cli.fixture("sentinel.yaml").toString();
    Run run = Cli.run(ENV, "config", "check", file);
    assertThat(run.err()).isEmpty();
    assertThat(run.exit()).isZero();
    assertThat(run.out())
        .startsWith(file + ": OK (revision sha256:")
        .contains("gateway   cli-gateway; tools named <backend>__<name>")
        .contains("limits    request 1m, start 30s, 256 pending, messages up to 1MiB, depth 64")
        .contains("identity  principal ann (roles developer)")
        .contains("backends  2")
        .contains("  fs      stdio  npx -y @modelcontextprotocol/server-filesystem /workspace")
        .contains("env: PATH, TOKEN; cwd: ")
        .contains("  remote  http   https://mcp.example.com/mcp?…")
        .contains("headers: Authorization; connect 5s, request 1m")
        .contains("policy.yaml: 3 rules, 1 limit (revision sha256:")
        .contains("disabled  tools fs__write_*: incident 42")
        .contains("audit     jsonl " + Cli.fixture("sentinel.yaml").resolveSibling("audit.jsonl")
            + ", slf4j dev.sentinel.audit")
        .contains("on sink failure block, when full block, queue 65536");
    assertThat(run.out().split("\n")).hasSizeLessThan(24);
  }

  @Test
  void check_neverPrintsSecrets() {
    Run run = Cli.run(ENV, "config", "check", Cli.fixture("sentinel.yaml").toString());
    assertThat(run.out() + run.err())
        .doesNotContain("fs-secret-111")
        .doesNotContain("query-secret-222")
        .doesNotContain("bearer-secret-333");
  }

  @Test
  void check_missingVariable_exitsOneWithLocatedError() {
    Run run = Cli.run(Map.of("FS_TOKEN", "x"), "config", "check",
        Cli.fixture("sentinel.yaml").toString());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("sentinel.yaml:12:").contains("environment variable REMOTE_KEY "
        + "is not set (referenced as ${env:REMOTE_KEY})");
  }

  @Test
  void check_invalidConfig_exitsOne() {
    Run run = Cli.run("config", "check", Cli.fixture("bad.yaml").toString());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("bad.yaml:3:26: backend 'fs': unknown key 'arg'")
        .contains("did you mean 'args'?");
  }

  @Test
  void check_missingFile_exitsOne() {
    Run run = Cli.run("config", "check", "no-such-sentinel.yaml");
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("no-such-sentinel.yaml: the config file does not exist");
  }

  @Test
  void check_withoutFile_isAUsageError() {
    Run run = Cli.run("config", "check");
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("Missing required parameter: 'FILE'");
  }

  @Test
  void check_inlinePolicyWithCel_loadsAsTheGatewaysWould() {
    Run run = Cli.run(Map.of("PATH", bin.toString()), "config", "check",
        Cli.fixture("cel-gateway.yaml").toString());
    assertThat(run.err()).isEmpty();
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("1 rule");
  }

  @Test
  void check_commandLinePastedIntoCommand_isRefusedWithTheHintToSplitIt(@TempDir Path dir)
      throws Exception {
    Path file = config(dir, "{ command: \"npx -y @modelcontextprotocol/server-filesystem /tmp\" }");
    Run run = Cli.run(ENV, "config", "check", file.toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains(file + ":3:")
        .contains("backend 'fs': command 'npx -y @modelcontextprotocol/server-filesystem /tmp'"
            + " contains spaces")
        .contains("command: npx, args: [\"-y\", \"@modelcontextprotocol/server-filesystem\","
            + " \"/tmp\"]");
  }

  @Test
  void check_commandLineWithASlash_isRefusedToo(@TempDir Path dir) throws Exception {
    Path file = config(dir, "{ command: \"" + bin.resolve("npx") + " -y @scope/server\" }");
    Run run = Cli.run(ENV, "config", "check", file.toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("contains spaces")
        .contains("command: " + bin.resolve("npx") + ", args: [\"-y\", \"@scope/server\"]");
  }

  @Test
  void check_commandNotOnPath_exitsOneNamingThePath(@TempDir Path dir) throws Exception {
    Path file = config(dir, "{ command: no-such-sentinel-server, args: [x] }");
    Run run = Cli.run(ENV, "config", "check", file.toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("backend 'fs': command 'no-such-sentinel-server' is not"
        + " found on PATH (" + bin + ")");
  }

  @Test
  void check_commandPathMissing_exitsOne(@TempDir Path dir) throws Exception {
    Path file = config(dir, "{ command: ./bin/server }");
    Run run = Cli.run(ENV, "config", "check", file.toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("command './bin/server' does not exist");
  }

  @Test
  void check_commandNotExecutable_exitsOne(@TempDir Path dir) throws Exception {
    Path script = dir.resolve("server.sh");
    Files.writeString(script, "#!/bin/sh\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
    Path file = config(dir, "{ command: ./server.sh }");
    Run run = Cli.run(ENV, "config", "check", file.toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("command './server.sh' (" + dir.resolve("server.sh")
        + ") is not executable");
  }

  @Test
  void check_commandOnPath_andRelativeToTheBackendsFolder_pass(@TempDir Path dir)
      throws Exception {
    Path script = dir.resolve("server.sh");
    Files.writeString(script, "#!/bin/sh\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr--r--"));
    Path file = config(dir, "{ command: ./server.sh }");
    assertThat(Cli.run(ENV, "config", "check", file.toString()).exit()).isZero();
    Path onPath = config(dir, "{ command: npx, args: [-y, \"@scope/server\"] }");
    assertThat(Cli.run(ENV, "config", "check", onPath.toString()).exit()).isZero();
  }
}
