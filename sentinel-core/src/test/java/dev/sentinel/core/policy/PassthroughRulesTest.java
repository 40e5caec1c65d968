package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.config.ConfigException;
import org.junit.jupiter.api.Test;

/**
 * Rules on passed-through paths of the LLM route: {@code paths:} names the path of {@code
 * llm/passthrough}, and nothing about models ever opens one.
 */
class PassthroughRulesTest {
  private static final Principal DEV = Principal.of("dev", "developer");

  private static RequestContext passthrough(String path) {
    return RequestContext.of(DEV,
        new Request(Request.LLM_PASSTHROUGH, "openai", path, Requests.json("{}")),
        Requests.MONDAY_NOON);
  }

  private static RequestContext chat(String model) {
    return RequestContext.of(DEV, new Request(Request.LLM_CHAT, "openai", model,
        Requests.json("{}")), Requests.MONDAY_NOON);
  }

  private static Effect decide(String rules, RequestContext context) {
    return PolicyEngine.parse("roles: { developer: {} }\nrules:\n" + rules, "p.yaml")
        .decide(context).effect();
  }

  @Test
  void decide_modelsAllowAll_neverOpensAPassedThroughPath() {
    String allModels = "  - id: all-models\n    allow: { models: [\"*\"] }\n";
    String allLlmMethods =
        "  - id: all-llm\n    allow: { methods: [\"llm/*\"], models: [\"*\"] }\n";
    assertThat(decide(allModels, passthrough("/v1/responses"))).isEqualTo(Effect.DENY);
    assertThat(decide(allLlmMethods, passthrough("/v1/responses"))).isEqualTo(Effect.DENY);
    assertThat(decide(allLlmMethods, passthrough("/v1/audio/speech"))).isEqualTo(Effect.DENY);
    assertThat(decide(allLlmMethods, chat("gpt-4o"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void decide_pathsAllowTheirPaths_andNothingElse() {
    String rules = "  - id: pass\n    allow: { roles: [developer],"
        + " paths: [/v1/responses, \"/v1/audio/*\", \"/v1/files/**\"] }\n";
    assertThat(decide(rules, passthrough("/v1/responses"))).isEqualTo(Effect.ALLOW);
    assertThat(decide(rules, passthrough("/v1/audio/speech"))).isEqualTo(Effect.ALLOW);
    assertThat(decide(rules, passthrough("/v1/files/f1/content"))).isEqualTo(Effect.ALLOW);
    // '*' stays within one segment, as in resource URIs; matching is exact, case and all
    assertThat(decide(rules, passthrough("/v1/audio/a/b"))).isEqualTo(Effect.DENY);
    assertThat(decide(rules, passthrough("/v1/responses/r1"))).isEqualTo(Effect.DENY);
    assertThat(decide(rules, passthrough("/v1/Responses"))).isEqualTo(Effect.DENY);
    assertThat(decide(rules, passthrough("/v1/audio"))).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_pathRule_neverMatchesAModelNamedLikeAPath() {
    String rules = "  - id: pass\n    allow: { paths: [\"/**\"] }\n";
    assertThat(decide(rules, chat("/v1/responses"))).isEqualTo(Effect.DENY);
    assertThat(decide(rules, passthrough("/v1/responses"))).isEqualTo(Effect.ALLOW);
  }

  @Test
  void decide_denyOnAPath_overridesAnAllow() {
    String rules = "  - id: pass\n    allow: { paths: [\"/v1/files/**\"] }\n"
        + "  - id: no-delete\n    deny: { paths: [\"/v1/files/*\"],"
        + " when: { /http_method: { equals: DELETE } } }\n";
    PolicyEngine engine = PolicyEngine.parse("rules:\n" + rules, "p.yaml");
    RequestContext delete = RequestContext.of(DEV, new Request(Request.LLM_PASSTHROUGH, "openai",
        "/v1/files/f1", Requests.json("{\"http_method\":\"DELETE\"}")), Requests.MONDAY_NOON);
    assertThat(engine.decide(delete).effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(passthrough("/v1/files/f1")).effect()).isEqualTo(Effect.ALLOW);
  }

  @Test
  void decide_nothingAllowsIt_isDeniedByDefault() {
    assertThat(decide("  - id: t\n    allow: { tools: [\"*\"] }\n",
        passthrough("/v1/responses"))).isEqualTo(Effect.DENY);
  }

  @Test
  void compile_passthroughMethodWithModels_isAnError_thatSaysPaths() {
    assertThatThrownBy(() -> PolicyEngine.parse("rules:\n  - id: old\n    allow: {"
        + " methods: [llm/passthrough], models: [/v1/responses] }\n", "p.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("can never match")
        .hasMessageContaining("paths:");
  }

  @Test
  void compile_pathGlobNotStartingWithSlash_isAnError() {
    assertThatThrownBy(() -> PolicyEngine.parse(
        "rules:\n  - id: p\n    allow: { paths: [\"*\"] }\n", "p.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("starts with '/'");
  }

  @Test
  void explain_namesThePathKind() {
    PolicyEngine engine = PolicyEngine.parse(
        "rules:\n  - id: m\n    allow: { models: [\"*\"] }\n", "p.yaml");
    assertThat(engine.explain(passthrough("/v1/responses")).toString())
        .contains("names no paths");
  }
}
