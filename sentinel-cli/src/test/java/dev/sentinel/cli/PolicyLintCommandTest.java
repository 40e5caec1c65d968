package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyLintCommandTest {
  @TempDir Path dir;

  @Test
  void lint_aShadowedRule_isAWarningWithItsLine_andExitsOne() throws Exception {
    Path policy = Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
        "roles: { dev: {} }",
        "rules:",
        "  - id: no-db",
        "    deny: { tools: [\"db__*\"] }",
        "  - id: devs-query",
        "    allow: { roles: [dev], tools: [\"db__query\"] }",
        ""));

    Run run = Cli.run("policy", "lint", policy.toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains(policy + ":5: warning: rule 'devs-query': never takes effect")
        .endsWith(policy + ": 1 warnings, 0 notes\n");
  }

  @Test
  void lint_aCleanPolicy_exitsZero() {
    Run run = Cli.run("policy", "lint", Cli.fixture("policy.yaml").toString());

    assertThat(run.err()).isEmpty();
    assertThat(run.out()).contains(": 0 warnings");
    assertThat(run.exit()).isZero();
  }

  @Test
  void lint_backendsWithoutConfig_isAUsageError() {
    Run run = Cli.run("policy", "lint", "--backends");

    assertThat(run.exit()).isNotZero();
    assertThat(run.err()).contains("--backends needs --config");
  }
}
