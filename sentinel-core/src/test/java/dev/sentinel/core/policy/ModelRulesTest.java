package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.config.ConfigException;
import org.junit.jupiter.api.Test;

/** Rules on the LLM route: {@code models:} names the model of {@code llm/chat} and {@code llm/embeddings}. */
class ModelRulesTest {
  private static final String POLICY = "roles:\n  developer: {}\n  intern: {}\n"
      + "rules:\n"
      + "  - id: devs-use-gpt\n    allow: { roles: [developer], models: [\"gpt-4o*\"] }\n"
      + "  - id: interns-small\n    allow: { roles: [intern], models: [gpt-4o-mini], methods: [llm/chat] }\n"
      + "  - id: cap-tokens\n    deny: { models: [\"*\"], when: { /max_tokens: { gt: 4096 } } }\n"
      + "    reason: at most 4096 tokens\n";
  private static final Principal DEV = Principal.of("dev", "developer");
  private static final Principal INTERN = Principal.of("ian", "intern");

  private static RequestContext chat(Principal principal, String model, String body) {
    return RequestContext.of(principal,
        new Request(Request.LLM_CHAT, "openai", model, Requests.json(body)), Requests.MONDAY_NOON);
  }

  @Test
  void decide_modelGlobAllowsTheRolesModels() {
    PolicyEngine engine = PolicyEngine.parse(POLICY, "p.yaml");
    assertThat(engine.decide(chat(DEV, "gpt-4o", "{}")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(chat(INTERN, "gpt-4o-mini", "{}")).effect()).isEqualTo(Effect.ALLOW);
  }

  @Test
  void decide_modelTheRoleMayNotUse_isDenied() {
    PolicyEngine engine = PolicyEngine.parse(POLICY, "p.yaml");
    assertThat(engine.decide(chat(INTERN, "gpt-4o", "{}")).effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(chat(DEV, "claude-x", "{}")).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_toolRuleNeverMatchesAModelOfTheSameName() {
    PolicyEngine engine = PolicyEngine.parse(
        "rules:\n  - id: t\n    allow: { tools: [\"*\"] }\n", "p.yaml");
    assertThat(engine.decide(chat(DEV, "gpt-4o", "{}")).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_conditionOnTheBody_denies() {
    PolicyEngine engine = PolicyEngine.parse(POLICY, "p.yaml");
    var decision = engine.decide(chat(DEV, "gpt-4o", "{\"max_tokens\": 8000}"));
    assertThat(decision.effect()).isEqualTo(Effect.DENY);
    assertThat(decision.reason()).isEqualTo("at most 4096 tokens");
  }

  @Test
  void compile_methodOfAnotherKindBesideModels_isAnError() {
    assertThatThrownBy(() -> PolicyEngine.parse(
        "rules:\n  - id: x\n    allow: { models: [a], methods: [tools/call] }\n", "p.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("can never match");
  }
}
