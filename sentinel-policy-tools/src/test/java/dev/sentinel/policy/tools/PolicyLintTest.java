package dev.sentinel.policy.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.policy.tools.PolicyLint.Finding;
import dev.sentinel.policy.tools.PolicyLint.Severity;
import java.util.List;
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
}
