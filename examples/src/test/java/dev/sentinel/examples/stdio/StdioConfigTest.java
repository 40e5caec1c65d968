package dev.sentinel.examples.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.StdioBackend;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.policy.tools.PolicyTestReport;
import dev.sentinel.policy.tools.PolicyTests;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's gateway config and policy, as a user finds them in {@code examples/stdio}. */
class StdioConfigTest {
  private static final Path DIR = Path.of("stdio");

  @Test
  void policyTests_allPass() {
    PolicyEngine policy = PolicyEngine.load(DIR.resolve("policy.yaml"));

    PolicyTestReport report = PolicyTests.run(policy, DIR.resolve("policy.test.yaml"));

    assertThat(report.passed()).as(report.render()).isTrue();
    assertThat(report.cases()).hasSizeGreaterThanOrEqualTo(7);
  }

  @Test
  void config_loadsAndFrontsTheNotesServerFromTheExamplesJar() {
    GatewayConfig config = GatewayConfig.load(DIR.resolve("sentinel.yaml"), Map.of("PATH", "/usr/bin"));

    assertThat(config.gateway().name()).isEqualTo("sentinel-demo");
    assertThat(config.backends()).hasSize(1);
    StdioBackend notes = (StdioBackend) config.backends().get(0);
    assertThat(notes.name()).isEqualTo("notes");
    assertThat(notes.command().get(0)).isEqualTo("java");
    assertThat(notes.command()).containsSubsequence(
        "-cp", "../target/sentinel-examples.jar", NotesServer.class.getName());
    assertThat(notes.cwd()).isEqualTo(DIR.toAbsolutePath().normalize());
    assertThat(config.policy().limits()).isNotEmpty();
  }
}
