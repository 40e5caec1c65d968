package dev.sentinel.policy.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.llm.LlmApi;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.llm.LlmUpstream;
import dev.sentinel.core.llm.ModelAlias;
import dev.sentinel.policy.tools.PolicyLint.Finding;
import dev.sentinel.policy.tools.PolicyLint.Severity;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyLintTest {
  private static final String POLICY = String.join("\n",
      "roles:",                                                       // 1
      "  dev: { inherits: [readonly] }",                              // 2
      "  readonly: {}",                                               // 3
      "  intern: {}",                                                 // 4
      "rules:",                                                       // 5
      "  - id: read",                                                 // 6
      "    allow: { roles: [readonly], tools: [\"fs__read_*\"] }",   // 7
      "  - id: no-db",                                                // 8
      "    deny: { tools: [\"db__*\"] }",                             // 9
      "  - id: devs-query",                                           // 10
      "    allow: { roles: [dev], tools: [\"db__query\"] }",          // 11
      "  - id: no-secrets",                                           // 12
      "    deny:",                                                    // 13
      "      tools: [\"fs__read_*\"]",                                // 14
      "      when: { \"/path\": { glob: \"/secrets/**\" } }",         // 15
      "  - id: typo",                                                 // 16
      "    allow: { roles: [dev], tools: [\"fs__raed_file\"] }",      // 17
      "  - id: nobody",                                               // 18
      "    allow: { roles: [], tools: [\"fs__list\"] }",              // 19
      "limits:",                                                      // 20
      "  - { id: git-writes, rate: 5/min, tools: [\"git__push\"] }",  // 21
      "  - { id: reads, rate: 50/min, tools: [\"fs__read_file\"] }",  // 22
      "");

  private static List<String> lines(List<Finding> findings, Severity severity) {
    return findings.stream().filter(f -> f.severity() == severity)
        .map(f -> f.line() + " " + f.subject() + ": " + f.message()).toList();
  }

  @Test
  void lint_findsWhatHasNoEffect_withLinesAndReasons() {
    List<Finding> findings = PolicyLint.lint(POLICY, "policy.yaml", null);

    assertThat(lines(findings, Severity.WARNING)).containsExactly(
        "4 role 'intern': no rule or limit names it or a role it inherits: a principal holding only it is denied everything",
        "10 rule 'devs-query': never takes effect: the unconditional deny rule 'no-db' (line 8) matches every request it matches",
        "19 rule 'nobody': never matches: 'roles' is an empty list, which nothing matches",
        "21 limit 'git-writes': never applies: no allow or confirm rule admits the tools it limits (git__push), and refused calls take no tokens");
    assertThat(lines(findings, Severity.NOTE)).containsExactly(
        "6 rule 'read': overlaps the deny rule 'no-secrets', which wins where both match");
    assertThat(findings.get(0).toString()).startsWith("policy.yaml:4: warning: role 'intern': ")
        .endsWith("(name it in a rule, make it inherit a role that is used, or remove it)");
  }

  @Test
  void lint_withTheBackendsTools_findsGlobsThatMatchNoTool() {
    List<Finding> findings = PolicyLint.lint(POLICY, "policy.yaml",
        List.of("fs__read_file", "fs__list", "db__query", "git__push"));

    assertThat(lines(findings, Severity.WARNING))
        .contains("17 rule 'typo': the glob 'fs__raed_file' matches no tool the backends list (4 tools)")
        .noneMatch(line -> line.contains("'fs__read_*' matches no tool"));
  }

  @Test
  void lint_aCleanPolicy_hasNoWarnings() {
    String clean = String.join("\n",
        "roles: { dev: {} }",
        "rules:",
        "  - id: read",
        "    allow: { roles: [dev], tools: [\"fs__read_*\"] }",
        "limits:",
        "  - { id: reads, rate: 50/min, tools: [\"fs__read_file\"] }",
        "");

    assertThat(PolicyLint.lint(clean, "clean.yaml", List.of("fs__read_file"))).isEmpty();
  }

  @Test
  void coversGlob_decidesTheCommonShapes_andNothingElse() {
    assertThat(PolicyLint.coversGlob("db__*", "db__query", true)).isTrue();
    assertThat(PolicyLint.coversGlob("db__*", "db__q*", true)).isTrue();
    assertThat(PolicyLint.coversGlob("db__*", "dbx__query", true)).isFalse();
    assertThat(PolicyLint.coversGlob("*", "a/b", true)).isTrue();
    assertThat(PolicyLint.coversGlob("*", "a/b", false)).isFalse();
    assertThat(PolicyLint.coversGlob("file:///a/*", "file:///a/b/c", false)).isFalse();
    assertThat(PolicyLint.coversGlob("file:///a/**", "file:///a/b/c", false)).isTrue();
    assertThat(PolicyLint.coversGlob("d?__*", "db__query", true)).isFalse(); // not decided: not covered
  }

  private static final String LLM_POLICY = String.join("\n",
      "roles: { dev: {}, intern: {} }",                                           // 1
      "rules:",                                                                   // 2
      "  - id: no-gpt4",                                                          // 3
      "    deny: { models: [\"gpt-4*\"] }",                                       // 4
      "  - id: devs-gpt4o",                                                       // 5
      "    allow: { roles: [dev], models: [gpt-4o] }",                            // 6
      "  - id: no-audio",                                                         // 7
      "    deny: { paths: [\"/v1/audio/*\"] }",                                   // 8
      "  - id: devs-speech",                                                      // 9
      "    allow: { roles: [dev], paths: [/v1/audio/speech] }",                   // 10
      "  - id: devs-deep-audio",                                                  // 11
      "    allow: { roles: [dev], paths: [/v1/audio/a/b] }",                      // 12
      "  - id: interns-responses",                                                // 13
      "    allow: { roles: [intern], paths: [/v1/responses], models: [gpt-4o] }", // 14
      "  - id: small-models",                                                     // 15
      "    allow: { roles: [intern], models: [\"claude-*\"] }",                   // 16
      "  - id: bounded",                                                          // 17
      "    deny: { models: [\"claude-*\"], when: { /max_tokens: { gt: 4096 } } }", // 18
      "limits:",                                                                  // 19
      "  - { id: claude-chats, rate: 5/min, methods: [llm/chat], tools: [claude-haiku] }", // 20
      "  - { id: o1-chats, rate: 5/min, methods: [llm/chat], tools: [o1] }",      // 21
      "");

  @Test
  void lint_modelAndPathRules_areAnalysedLikeTools() {
    List<Finding> findings = PolicyLint.lint(LLM_POLICY, "policy.yaml", null);

    // devs-deep-audio is not shadowed: in a path glob '*' stays within one segment.
    // interns-responses is not shadowed: it also opens a path, which no model rule closes.
    // claude-chats applies: small-models admits its model; o1-chats limits a model no rule admits.
    assertThat(lines(findings, Severity.WARNING)).containsExactly(
        "5 rule 'devs-gpt4o': never takes effect: the unconditional deny rule 'no-gpt4' (line 3) matches every request it matches",
        "9 rule 'devs-speech': never takes effect: the unconditional deny rule 'no-audio' (line 7) matches every request it matches",
        "21 limit 'o1-chats': never applies: no allow or confirm rule admits the models it limits (o1), and refused calls take no tokens");
    assertThat(lines(findings, Severity.NOTE)).containsExactly(
        "13 rule 'interns-responses': overlaps the deny rule 'no-gpt4', which wins where both match",
        "15 rule 'small-models': overlaps the deny rule 'bounded', which wins where both match");
  }

  @Test
  void lint_aDenyOfEveryLlmMethod_shadowsModelAndPathRules_butNotToolRules() {
    String policy = String.join("\n",
        "roles: { dev: {} }",
        "rules:",
        "  - id: no-llm",
        "    deny: { methods: [\"llm/*\"] }",
        "  - id: models",
        "    allow: { roles: [dev], models: [\"*\"] }",
        "  - id: paths",
        "    allow: { roles: [dev], paths: [\"/v1/**\"] }",
        "  - id: tools",
        "    allow: { roles: [dev], tools: [\"*\"] }",
        "  - id: everything",
        "    allow: { roles: [dev] }",
        "");

    assertThat(lines(PolicyLint.lint(policy, "policy.yaml", null), Severity.WARNING)).containsExactly(
        "5 rule 'models': never takes effect: the unconditional deny rule 'no-llm' (line 3) matches every request it matches",
        "7 rule 'paths': never takes effect: the unconditional deny rule 'no-llm' (line 3) matches every request it matches");
  }

  @Test
  void lint_aRuleNamingSeveralKinds_isShadowedOnlyWhenTheDenyCoversEachKind() {
    String policy = String.join("\n",
        "roles: { dev: {} }",
        "rules:",
        "  - id: no-tools",
        "    deny: { tools: [\"*\"] }",
        "  - id: tool-and-model",
        "    allow: { roles: [dev], tools: [db__query], models: [gpt-4o] }",
        "  - id: no-tools-or-models",
        "    deny: { tools: [\"db__*\"], models: [\"gpt-*\"], roles: [dev] }",
        "  - id: tool-only",
        "    allow: { roles: [dev], tools: [db__query] }",
        "");

    assertThat(lines(PolicyLint.lint(policy, "policy.yaml", null), Severity.WARNING)).containsExactly(
        "5 rule 'tool-and-model': never takes effect: the unconditional deny rule 'no-tools-or-models' (line 7) matches every request it matches",
        "9 rule 'tool-only': never takes effect: the unconditional deny rule 'no-tools' (line 3) matches every request it matches");
  }

  @Test
  void lint_aLimitAdmittedByARuleWithoutTargets_isNoWarning() {
    String policy = String.join("\n",
        "roles: { admin: {} }",
        "rules:",
        "  - id: admins",
        "    allow: { roles: [admin] }",
        "limits:",
        "  - { id: pushes, rate: 5/min, tools: [git__push] }",
        "  - { id: chats, rate: 5/min, methods: [llm/chat], tools: [gpt-4o] }",
        "  - { id: odd, rate: 5/min, tools: [\"*push*\"] }",
        "");

    assertThat(PolicyLint.lint(policy, "policy.yaml", null)).isEmpty();
  }

  private static LlmSettings llm() {
    Duration t = Duration.ofSeconds(5);
    return new LlmSettings(
        List.of(new LlmUpstream("openai", LlmApi.OPENAI, URI.create("http://127.0.0.1:9/v1"), null,
                List.of("gpt-4o", "gpt-4o-mini"), t, t, t, List.of("/v1/responses", "/v1/audio/*")),
            new LlmUpstream("claude", LlmApi.ANTHROPIC, URI.create("http://127.0.0.1:9/v1"), null,
                List.of("claude-haiku"), t, t, t)),
        Map.of("default", ModelAlias.of("default", "gpt-4o-mini")), List.of(),
        LlmSettings.DEFAULT_KEEP_ALIVE, LlmSettings.DEFAULT_MAX_BODY_BYTES,
        LlmSettings.DEFAULT_RESERVATION, LlmSettings.AuditBodies.NONE);
  }

  private static final String SERVED_POLICY = String.join("\n",
      "roles: { dev: {} }",                                                             // 1
      "rules:",                                                                         // 2
      "  - id: models",                                                                 // 3
      "    allow: { roles: [dev], models: [\"gpt-4o*\", gtp-4o, default, \"claude-*\"] }", // 4
      "  - id: paths",                                                                  // 5
      "    allow: { roles: [dev], paths: [/v1/responses, \"/v1/audio/**\", \"/v1/files/*\", /v1/audio] }", // 6
      "  - id: tools",                                                                  // 7
      "    allow: { roles: [dev], tools: [gpt-5] }",                                    // 8
      "limits:",                                                                        // 9
      "  - { id: chats, rate: 5/min, methods: [llm/chat], tools: [\"gpt-4o*\", claude-sonet] }", // 10
      "  - { id: calls, rate: 5/min, tools: [gpt-5] }",                                 // 11
      "");

  @Test
  void lint_withTheConfigsLlmSection_findsModelAndPathGlobsThatMatchNothingServed() {
    List<Finding> findings = PolicyLint.lint(SERVED_POLICY, "policy.yaml", null, llm());

    assertThat(lines(findings, Severity.WARNING)).containsExactly(
        "4 rule 'models': the glob 'gtp-4o' matches no model the config's llm: upstreams serve, nor an alias (3 models, 1 aliases)",
        "4 rule 'models': the glob 'default' matches the alias 'default' but no model the upstreams serve, and the policy decides on the model an alias maps to, so it matches no request",
        "6 rule 'paths': the glob '/v1/files/*' matches no path the config's llm: upstreams pass through (/v1/responses, /v1/audio/*)",
        "6 rule 'paths': the glob '/v1/audio' matches no path the config's llm: upstreams pass through (/v1/responses, /v1/audio/*)",
        "10 limit 'chats': the glob 'claude-sonet' matches no model the config's llm: upstreams serve, nor an alias (3 models, 1 aliases)");
    assertThat(findings.stream().filter(f -> f.message().contains("'gtp-4o'")).findFirst().orElseThrow()
        .suggestion()).isEqualTo("did you mean 'gpt-4o'? known: gpt-4o, gpt-4o-mini, claude-haiku, default");
    assertThat(findings.stream().filter(f -> f.message().contains("'default'")).findFirst().orElseThrow()
        .suggestion()).isEqualTo("name the model it maps to: gpt-4o-mini");
  }

  @Test
  void lint_withAConfigServingNoModels_checksNoModelOrPathGlobs() {
    assertThat(PolicyLint.lint(SERVED_POLICY, "policy.yaml", null, LlmSettings.NONE)).isEmpty();
  }

  @Test
  void mayMatch_decidesPathsExactly_andPatternsByPrefix() {
    assertThat(PolicyLint.mayMatch("/v1/responses", "/v1/responses")).isTrue();
    assertThat(PolicyLint.mayMatch("/v1/*", "/v1/responses")).isTrue();
    assertThat(PolicyLint.mayMatch("/v1/*", "/v1/responses/x")).isFalse();
    assertThat(PolicyLint.mayMatch("/v1/audio", "/v1/audio/*")).isFalse();
    assertThat(PolicyLint.mayMatch("/v1/audio/speech", "/v1/audio/*")).isTrue();
    assertThat(PolicyLint.mayMatch("/v1/**", "/v1/audio/*")).isTrue();
    assertThat(PolicyLint.mayMatch("/v1/files/*", "/v1/audio/*")).isFalse();
  }
}
