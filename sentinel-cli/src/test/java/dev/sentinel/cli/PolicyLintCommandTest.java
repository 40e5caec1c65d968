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

  @Test
  void lint_withAConfigServingModels_namesAModelGlobThatMatchesNoServedModel() throws Exception {
    Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
        "roles: { dev: {} }",
        "rules:",
        "  - id: chat",
        "    allow: { roles: [dev], models: [\"gpt-4o*\", gtp-4o] }",
        ""));
    Path config = Files.writeString(dir.resolve("sentinel.yaml"), String.join("\n",
        "backends:",
        "  - { name: fs, stdio: { command: server } }",
        "policy: policy.yaml",
        "llm:",
        "  upstreams:",
        "    - { name: openai, api: openai, base_url: \"http://127.0.0.1:9/v1\", models: [gpt-4o, gpt-4o-mini] }",
        "  aliases: { default: gpt-4o-mini }",
        ""));

    Run run = Cli.run("policy", "lint", "--config", config.toString());

    assertThat(run.exit()).as(run.err()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("policy.yaml:4: warning: rule 'chat': the glob 'gtp-4o' matches no model"
            + " the config's llm: upstreams serve, nor an alias (2 models, 1 aliases) (did you mean 'gpt-4o'?"
            + " known: gpt-4o, gpt-4o-mini, default)")
        .doesNotContain("'gpt-4o*' matches no model")
        .endsWith(": 1 warnings, 0 notes (2 models and 1 aliases served by the llm: upstreams)\n");
  }
}
