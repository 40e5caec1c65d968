package dev.sentinel.runner.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.gateway.RunOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sentinel stdio} reloads its config file when it changes, as {@code sentinel http} does. */
class StdioReloadTest {
  @TempDir Path dir;

  private static final String DENY_ECHO = "    - id: no-echo\n      deny: { tools: [\"tiny__echo\"] }\n";

  @Test
  void run_withAConfigFile_appliesAnEditWithoutARestart() throws Exception {
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, StdioClient.config("audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n"));
    GatewayConfig config = GatewayConfig.load(file, Map.of());
    RunOptions options = RunOptions.builder()
        .configFile(file, Map.of(), PolicyOptions.defaults())
        .build();
    try (StdioClient client = new StdioClient(config, options)) {
      client.initialize();
      assertThat(client.callTool("tiny__echo", "a").has("result")).isTrue();

      Files.writeString(file, StdioClient.config("audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n")
          .replace("      allow: {}\n", "      allow: {}\n" + DENY_ECHO));
      Conditions.await("the edited policy denies echo", () -> denied(client));
    }
  }

  @Test
  void options_watchOnlyAConfigFileAndOnlyWhenAsked() {
    Path file = dir.resolve("sentinel.yaml");
    assertThat(RunOptions.defaults().watch()).isFalse();
    assertThat(RunOptions.builder().configFile(file, Map.of(), PolicyOptions.defaults()).build()
        .watch()).isTrue();
    assertThat(RunOptions.builder().configFile(file, Map.of(), PolicyOptions.defaults())
        .watch(false).build().watch()).isFalse();
  }

  private static boolean denied(StdioClient client) {
    try {
      return client.callTool("tiny__echo", "b").path("error").path("code").asInt() == -32012;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
