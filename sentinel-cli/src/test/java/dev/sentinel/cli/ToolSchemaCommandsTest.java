package dev.sentinel.cli;

import static dev.sentinel.cli.GatewayRig.CLASSPATH_ARGS;
import static dev.sentinel.cli.GatewayRig.JAVA;
import static dev.sentinel.cli.GatewayRig.quote;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sentinel config check --start} and {@code sentinel policy explain --config}: the
 * backends (the official SDK's server, {@link SdkBackend}, as a child JVM) are started, their
 * tools listed, and the policy checked against the tools' input schemas, before anything serves.
 */
class ToolSchemaCommandsTest {
  private static final String REQUEST = "{\"principal\": {\"id\": \"tester\", \"roles\": [\"user\"]},"
      + " \"tool\": \"kid__echo\", \"arguments\": {\"txt\": \"DROP TABLE users\"}}";

  private static Path config(Path dir, String command) throws Exception {
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, String.join("\n",
        "gateway: { start_timeout: 60s }",
        "identity: { principal: { id: tester, roles: [user] } }",
        "backends:",
        "  - name: kid",
        "    stdio: { command: " + command + " }",
        "policy:",
        "  roles: { user: {} }",
        "  rules:",
        "    - id: echo",
        "      allow: { roles: [user], tools: [\"kid__echo\"] }",
        "    - id: short-texts",
        "      deny: { tools: [\"kid__echo\"], when: { \"/text\": { gt: 100 } } }",
        ""));
    return file;
  }

  private static String sdkBackend() {
    return quote(JAVA) + ", args: [" + quote(CLASSPATH_ARGS) + ", " + quote(SdkBackend.class.getName()) + "]";
  }

  @Test
  void configCheckStart_listsTheToolsAndWarnsOfConditionsTheSchemaRulesOut(@TempDir Path dir) throws Exception {
    Run run = Cli.run("config", "check", config(dir, sdkBackend()).toString(), "--start");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("backend kid: 8 tools listed")
        .contains("warning: rule 'short-texts': /text gt 100 cannot apply to calls of 'kid__echo': its input"
            + " schema declares /text as string, and gt 100 needs a number");
  }

  @Test
  void policyLintWithBackends_namesAGlobThatMatchesNoListedTool(@TempDir Path dir) throws Exception {
    Path config = config(dir, sdkBackend());
    Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
        "roles: { user: {} }",
        "rules:",
        "  - id: echo",
        "    allow: { roles: [user], tools: [\"kid__echo\", \"kid__ecoh\"] }",
        ""));
    Files.writeString(config, Files.readString(config).replaceFirst("(?s)policy:.*", "policy: policy.yaml\n"));

    Run run = Cli.run("policy", "lint", "--config", config.toString(), "--backends");

    assertThat(run.exit()).as(run.err()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("policy.yaml:4: warning: rule 'echo': the glob 'kid__ecoh' matches no tool"
        + " the backends list (8 tools)").doesNotContain("'kid__echo' matches no tool")
        .contains("(8 tools listed by the backends)");
  }

  @Test
  void configCheckStart_aBackendThatDoesNotStart_exitsOne(@TempDir Path dir) throws Exception {
    Run run = Cli.run("config", "check", config(dir, "sh, args: [\"-c\", \"exit 3\"]").toString(), "--start");

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("backend kid: not up");
  }

  @Test
  void configCheckWithoutStart_startsNothing(@TempDir Path dir) throws Exception {
    Path marker = dir.resolve("started");
    Run run = Cli.run("config", "check", config(dir, "sh, args: [\"-c\", "
        + quote("touch '" + marker + "'") + "]").toString());

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).doesNotContain("backend kid:");
    assertThat(marker).doesNotExist();
  }

  @Test
  void configCheckStart_reportsEveryToolsGlobThatMatchesNoListedTool(@TempDir Path dir)
      throws Exception {
    Path file = config(dir, sdkBackend());
    Files.writeString(file, Files.readString(file) + String.join("\n",
        "    - id: typo",
        "      deny: { tools: [\"kid__ecko\", \"kid__e*\"] }",
        "    - id: elsewhere",
        "      allow: { roles: [user], backends: [other], tools: [\"kid__echo\"] }",
        "  limits:",
        "    - { id: slow-wipes, rate: 1/min, tools: [\"kid__wipe_*\"] }",
        ""));
    Run run = Cli.run("config", "check", file.toString(), "--start");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("warning: rule 'typo': tools glob 'kid__ecko' matches no tool the backends"
            + " list; did you mean 'kid__echo'?")
        .contains("warning: rule 'elsewhere': tools glob 'kid__echo' matches no tool the"
            + " backends list")
        .contains("warning: limit 'slow-wipes': tools glob 'kid__wipe_*' matches no tool the"
            + " backends list")
        .doesNotContain("'kid__e*'")
        .doesNotContain("rule 'echo'");
  }

  @Test
  void explainWithConfig_checksTheArgumentsAgainstTheListedSchemaBeforeThePolicy(@TempDir Path dir)
      throws Exception {
    Run run = Cli.run("policy", "explain", "--config", config(dir, sdkBackend()).toString(), "--request", REQUEST);

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("schema: the arguments do not match the input schema of 'kid__echo': arguments: required"
            + " property 'text' not found (required); refused before the policy decides (rule schema,"
            + " validate: enforce)")
        .contains("schema check: rule 'short-texts': /text gt 100 cannot apply")
        .contains("decision: ALLOW by echo");
  }

  @Test
  void explainWithConfig_validArguments(@TempDir Path dir) throws Exception {
    Run run = Cli.run("policy", "explain", "--config", config(dir, sdkBackend()).toString(), "--request",
        REQUEST.replace("\"txt\"", "\"text\""));

    assertThat(run.out()).contains("schema: the arguments match the input schema of 'kid__echo'");
  }

  @Test
  void explain_needsExactlyOneOfPolicyAndConfig(@TempDir Path dir) throws Exception {
    Run both = Cli.run("policy", "explain", "--config", config(dir, sdkBackend()).toString(),
        "--policy", "p.yaml", "--request", REQUEST);
    Run neither = Cli.run("policy", "explain", "--request", REQUEST);

    assertThat(both.exit()).isEqualTo(2);
    assertThat(both.err()).contains("exactly one of --policy POLICY or --config CONFIG");
    assertThat(neither.exit()).isEqualTo(2);
  }
}
