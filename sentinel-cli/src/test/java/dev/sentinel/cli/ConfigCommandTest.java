package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigCommandTest {
  private static final Map<String, String> ENV = Map.of("FS_TOKEN", "fs-secret-111",
      "REMOTE_KEY", "query-secret-222", "REMOTE_TOKEN", "bearer-secret-333", "PATH", "/bin");

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
    Run run = Cli.run("config", "check", Cli.fixture("cel-gateway.yaml").toString());
    assertThat(run.err()).isEmpty();
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("1 rule");
  }
}
