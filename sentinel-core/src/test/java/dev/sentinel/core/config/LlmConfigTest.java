package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.llm.LlmApi;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.llm.LlmUpstream;
import dev.sentinel.core.llm.TokenBudget;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code llm:} section and {@code audit.llm_bodies}: values, defaults and located errors. */
class LlmConfigTest {
  private static final Map<String, String> ENV = Map.of("OPENAI_KEY", "sk-upstream-secret-1234");
  private static final String UPSTREAMS = "llm:\n  upstreams:\n"
      + "    - name: openai\n      api: openai\n      base_url: http://127.0.0.1:9/v1/\n"
      + "      api_key: ${env:OPENAI_KEY}\n      models: [gpt-4o, gpt-4o-mini, embed-small]\n"
      + "      idle_timeout: 5s\n"
      + "    - name: claude\n      api: anthropic\n      base_url: https://api.anthropic.com/v1\n"
      + "      models: claude-sonnet\n";

  @TempDir Path dir;

  private GatewayConfig parse(String yaml) {
    return GatewayConfig.parse(yaml + GatewayConfigTest.MINIMAL, "sentinel.yaml", dir, ENV);
  }

  private String problems(String yaml) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml));
    assertThat(e).as("expected a ConfigException for:\n" + yaml).isNotNull();
    return e.getMessage();
  }

  @Test
  void absent_isNone() {
    assertThat(parse("").llm()).isEqualTo(LlmSettings.NONE);
    assertThat(LlmSettings.NONE.enabled()).isFalse();
  }

  @Test
  void everyKey_isRead() {
    LlmSettings llm = parse(UPSTREAMS
        + "  aliases:\n    default: gpt-4o-mini\n"
        + "    smart: { model: gpt-4o-mini, roles: { developer: gpt-4o } }\n"
        + "  budgets:\n    - { id: daily, tokens: 100000/day, per: [principal, model], roles: [developer],"
        + " models: [\"gpt-*\"] }\n"
        + "  keep_alive: 2s\n  max_body_bytes: 1MiB\n  default_reservation: 1000\n"
        + "audit:\n  llm_bodies: redacted\n").llm();

    LlmUpstream openai = llm.upstreams().get(0);
    assertThat(openai.api()).isEqualTo(LlmApi.OPENAI);
    assertThat(openai.url("/chat/completions").toString())
        .isEqualTo("http://127.0.0.1:9/v1/chat/completions");
    assertThat(openai.apiKey()).isEqualTo("sk-upstream-secret-1234");
    assertThat(openai.idleTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(llm.upstreams().get(1).apiKey()).isNull();
    assertThat(llm.upstream(LlmApi.ANTHROPIC, "claude-sonnet").name()).isEqualTo("claude");
    assertThat(llm.upstream(LlmApi.OPENAI, "claude-sonnet")).isNull();
    assertThat(llm.resolve("default", List.of("developer"))).isEqualTo("gpt-4o-mini");
    assertThat(llm.resolve("smart", List.of("intern", "developer"))).isEqualTo("gpt-4o");
    assertThat(llm.resolve("smart", List.of("intern"))).isEqualTo("gpt-4o-mini");
    assertThat(llm.resolve("gpt-4o", List.of())).isEqualTo("gpt-4o");
    TokenBudget budget = llm.budgets().get(0);
    assertThat(budget.rate().permits()).isEqualTo(100_000);
    assertThat(budget.per()).isEqualTo(Set.of(TokenBudget.Per.PRINCIPAL, TokenBudget.Per.MODEL));
    assertThat(llm.keepAlive()).isEqualTo(Duration.ofSeconds(2));
    assertThat(llm.maxBodyBytes()).isEqualTo(1L << 20);
    assertThat(llm.defaultReservation()).isEqualTo(1000);
    assertThat(llm.auditBodies()).isEqualTo(LlmSettings.AuditBodies.REDACTED);
  }

  @Test
  void toString_neverShowsTheUpstreamKey() {
    GatewayConfig config = parse(UPSTREAMS);
    assertThat(config.llm().toString()).doesNotContain("sk-upstream-secret-1234");
    assertThat(config.toString()).doesNotContain("sk-upstream-secret-1234");
  }

  @Test
  void keyWrittenInTheFile_isRefused() {
    assertThat(problems(UPSTREAMS.replace("${env:OPENAI_KEY}", "sk-literal-key")))
        .contains("sentinel.yaml:6:7: upstream 'openai'").contains("give a reference")
        .doesNotContain("sk-literal-key");
  }

  @Test
  void modelServedByTwoUpstreamsOfOneApi_isRefused() {
    assertThat(problems(UPSTREAMS + "    - name: other\n      api: openai\n"
        + "      base_url: http://127.0.0.1:8/v1\n      models: [gpt-4o]\n"))
        .contains("model 'gpt-4o' is also served by upstream 'openai'");
  }

  @Test
  void budgetPerRole_isRead() {
    LlmSettings llm = parse(UPSTREAMS + "  budgets:\n    - { id: team, tokens: 1000000/day,"
        + " per: role }\n").llm();
    assertThat(llm.budgets().get(0).per()).containsExactly(TokenBudget.Per.ROLE);
  }

  @Test
  void passthrough_isReadPerUpstream_andMatchesExactlyOrBelow() {
    LlmSettings llm = parse(UPSTREAMS.replace("      idle_timeout: 5s\n",
        "      idle_timeout: 5s\n      passthrough: [/v1/responses, \"/v1/audio/*\"]\n")).llm();
    assertThat(llm.upstreams().get(0).passthrough()).containsExactly("/v1/responses", "/v1/audio/*");
    assertThat(llm.passthrough("/v1/responses").name()).isEqualTo("openai");
    assertThat(llm.passthrough("/v1/audio/speech").name()).isEqualTo("openai");
    assertThat(llm.passthrough("/v1/audio")).isNull();
    assertThat(llm.passthrough("/v1/responses/resp_1")).isNull();
    assertThat(llm.upstreams().get(1).passthrough()).isEmpty();
  }

  @Test
  void passthrough_overlappingAcrossUpstreams_coveringAServedRoute_orNotCanonical_isRefused() {
    String claude = "      models: claude-sonnet\n";
    assertThat(problems(UPSTREAMS.replace("      idle_timeout: 5s\n",
        "      idle_timeout: 5s\n      passthrough: \"/v1/files/*\"\n")
        .replace(claude, claude + "      passthrough: [/v1/files/f1]\n")))
        .contains("upstream 'claude': '/v1/files/f1' overlaps '/v1/files/*'");
    assertThat(problems(UPSTREAMS.replace(claude, claude + "      passthrough: \"/v1/messages/*\"\n")))
        .contains("covers /v1/messages/count_tokens");
    assertThat(problems(UPSTREAMS.replace(claude, claude + "      passthrough: \"/v1/*\"\n")))
        .contains("covers /v1/chat/completions");
    for (String bad : List.of("/v2/x", "/v1/a/../b", "/v1/a//b", "/v1/a%2fb", "/v1/a*", "/v1/*/b",
        "/v1/a;b", "/v1/a/")) {
      assertThat(problems(UPSTREAMS.replace(claude, claude + "      passthrough: [\"" + bad
          + "\"]\n"))).as(bad).contains("upstream 'claude': '" + bad + "': ");
    }
  }

  @Test
  void aliasToAnUnservedModel_orShadowingAModel_isRefused() {
    assertThat(problems(UPSTREAMS + "  aliases: { default: gpt-5 }\n"))
        .contains("alias 'default'").contains("no upstream serves");
    assertThat(problems(UPSTREAMS + "  aliases: { gpt-4o: gpt-4o-mini }\n"))
        .contains("must not shadow a model");
  }

  @Test
  void unknownKeysAndBadValues_areLocated() {
    String message = problems(UPSTREAMS.replace("api: anthropic", "api: antropic")
        + "  budgets: [ { id: b, tokens: lots, per: [tool] } ]\n  keep_alive: 5\n"
        + "  upstream: []\naudit: { llm_bodies: all }\n");
    assertThat(message)
        .contains("unknown API 'antropic'").contains("did you mean 'anthropic'")
        .contains("budget 'b': tokens: rate 'lots'")
        .contains("unknown key 'tool'")
        .contains("keep_alive: expected a duration")
        .contains("unknown key 'upstream'")
        .contains("/audit/llm_bodies").contains("expected none or redacted");
  }
}
