package dev.sentinel.runner.http.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.config.GatewayConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which configs the LLM route decides on a pool thread, because a stage of their pipeline may
 * wait, rather than on the thread that read the body (which may be Jetty's selector).
 */
class DecisionsMayWaitTest {
  @TempDir Path dir;

  private GatewayConfig parse(String extra) {
    return GatewayConfig.parse("backends:\n  - name: fx\n    stdio: { command: fixture }\n"
        + "policy:\n  roles: { developer: {} }\n  rules:\n"
        + "    - id: devs\n      allow: { roles: [developer], models: [\"*\"] }\n"
        + extra, "may-wait.yaml", dir, Map.of());
  }

  @Test
  void inMemoryStagesAndTheEmbeddedDatabase_decideWhereTheBodyWasRead() {
    assertThat(LlmHandler.decisionsMayWait(parse(""), true)).isFalse();
    assertThat(LlmHandler.decisionsMayWait(
        parse("database: { url: \"jdbc:sqlite:data/trail.db\" }\n"), true)).isFalse();
  }

  @Test
  void limitsOutsideTheGateway_mayWait() {
    assertThat(LlmHandler.decisionsMayWait(parse(""), false)).isTrue();
  }

  @Test
  void aDatabaseOverTheNetwork_mayWait() {
    assertThat(LlmHandler.decisionsMayWait(
        parse("database: { url: \"jdbc:postgresql://127.0.0.1:5432/sentinel\" }\n"), true))
        .isTrue();
  }

  @Test
  void durableAudit_mayWait() {
    assertThat(LlmHandler.decisionsMayWait(parse(
        "audit: { mode: durable, sinks: [ { jsonl: { file: a, fsync: true } } ] }\n"), true))
        .isTrue();
  }

  @Test
  void jwtsWhoseKeysMayBeFetched_mayWait() {
    assertThat(LlmHandler.decisionsMayWait(parse("server:\n  jwt:\n"
        + "    issuer: https://idp.example.com/\n    audience: mcp\n"
        + "    jwks_url: http://127.0.0.1:9000/jwks\n"), true)).isTrue();
  }

  @Test
  void aConfirmRule_mayWait() {
    assertThat(LlmHandler.decisionsMayWait(parse(
        "    - id: ask-first\n      confirm: { models: [\"big-*\"] }\n"), true)).isTrue();
  }
}
