package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.config.ConfigException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Every kind of bad policy yields a located {@link ConfigException}. */
class PolicyCompilerTest {

  private static ConfigException fail(String yaml) {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> PolicyEngine.parse(yaml, "policy.yaml"));
    assertThat(e).as("expected a ConfigException for:\n" + yaml).isNotNull();
    return e;
  }

  @Test
  void parse_malformedYaml() {
    ConfigException e = fail("rules:\n  - id: a\n    allow: { tools: [a, b }\n");
    assertThat(e.getMessage()).startsWith("policy.yaml:3:").contains("invalid YAML");
    assertThat(e.line()).isEqualTo(3);
  }

  @Test
  void parse_unknownRuleKeySuggestsNearest() {
    ConfigException e = fail("rules:\n  - id: a\n    allow: {}\n  - id: devs-write\n"
        + "    alow: { tools: [x] }\n");
    assertThat(e.getMessage()).contains("policy.yaml:5:5: rule 'devs-write': unknown key 'alow' "
        + "(expected one of allow, deny, confirm, id, reason, description, by, approvals, wait, "
        + "expires); did you mean "
        + "'allow'?");
  }

  @Test
  void parse_unknownKeysAtEveryLevelAllReported() {
    ConfigException e = fail("role:\n  x: {}\nrules:\n"
        + "  - id: r\n    allow:\n      tool: [x]\n"
        + "      when: { \"/a\": { equal: 1 } }\n"
        + "      during: { hour: \"09:00-10:00\" }\n"
        + "limits:\n  - id: l\n    rate: 1/s\n    burts: 3\n");
    assertThat(e.problems()).hasSize(5);
    assertThat(e.getMessage())
        .contains("policy.yaml:1:1: at /role: unknown key 'role' (expected one of roles, rules, limits, break_glass); "
            + "did you mean 'roles'?")
        .contains("policy.yaml:6:7: rule 'r': unknown key 'tool'")
        .contains("did you mean 'tools'?")
        .contains("policy.yaml:7:23: rule 'r': unknown operator 'equal'")
        .contains("did you mean 'equals'?")
        .contains("policy.yaml:8:17: rule 'r': unknown key 'hour'")
        .contains("policy.yaml:12:5: limit 'l': unknown key 'burts'")
        .contains("did you mean 'burst'?");
    assertThat(e.getMessage()).startsWith("5 problems in policy.yaml:\n");
  }

  @Test
  void parse_unknownKeyWithoutCloseMatchGetsNoSuggestion() {
    ConfigException e = fail("rules:\n  - id: r\n    allow: {}\n    zzzzzz: 1\n");
    assertThat(e.getMessage()).contains("unknown key 'zzzzzz'")
        .contains("remove it or fix its spelling").doesNotContain("did you mean");
  }

  @Test
  void parse_unknownRoleKey() {
    ConfigException e = fail("roles:\n  a: { inherit: [b] }\n  b: {}\n");
    assertThat(e.getMessage()).contains("policy.yaml:2:8: role 'a': unknown key 'inherit'")
        .contains("did you mean 'inherits'?");
  }

  @Test
  void parse_invalidRegex() {
    ConfigException e = fail("rules:\n  - id: sql\n    deny:\n      tools: [db]\n"
        + "      when: { \"/sql\": { regex: \"(drop\" } }\n");
    assertThat(e.getMessage()).startsWith("policy.yaml:5:").contains("rule 'sql'")
        .contains("invalid regex '(drop'");
    assertThat(e.path()).isEqualTo("/rules/0/deny/when/~1sql/regex");
  }

  @Test
  void parse_duplicateRuleIds() {
    ConfigException e = fail("rules:\n  - id: a\n    allow: {}\n  - id: a\n    deny: {}\n");
    assertThat(e.getMessage()).isEqualTo("policy.yaml:4:5: rule 'a': duplicate rule id 'a' "
        + "(first at line 2); give each rule a unique id");
  }

  @Test
  void parse_duplicateLimitIds() {
    ConfigException e = fail("limits:\n  - { id: l, rate: 1/s }\n  - { id: l, rate: 2/s }\n");
    assertThat(e.getMessage()).contains("policy.yaml:3:").contains("limit 'l'")
        .contains("duplicate limit id 'l' (first at line 2)");
  }

  @Test
  void parse_duplicateYamlKey() {
    ConfigException e = fail("rules:\n  - id: a\n    allow: {}\n    id: b\n");
    assertThat(e.getMessage()).contains("policy.yaml:4:5").contains("duplicate key 'id'");
  }

  @Test
  void parse_cyclicRoleInheritanceNamesCycle() {
    ConfigException e = fail("roles:\n  admin: { inherits: [dev] }\n  dev: { inherits: [ops] }\n"
        + "  ops: { inherits: [admin] }\n  self: { inherits: [self] }\n");
    assertThat(e.problems()).hasSize(2);
    assertThat(e.getMessage())
        .contains("role 'admin': cyclic role inheritance: admin -> dev -> ops -> admin")
        .contains("policy.yaml:2:")
        .contains("cyclic role inheritance: self -> self");
  }

  @Test
  void parse_unknownRoleInRulesInheritsAndLimits() {
    ConfigException e = fail("roles:\n  developer: {}\n  admin: { inherits: [develper] }\n"
        + "rules:\n  - id: r\n    allow: { roles: [devloper] }\n"
        + "limits:\n  - id: l\n    rate: 1/s\n    roles: [ghost]\n");
    assertThat(e.problems()).hasSize(3);
    assertThat(e.getMessage())
        .contains("policy.yaml:3:23: role 'admin': unknown role 'develper'; did you mean "
            + "'developer'? (declared: developer, admin; declare it under 'roles:')")
        .contains("policy.yaml:6:22: rule 'r': unknown role 'devloper'; did you mean "
            + "'developer'?")
        .contains("policy.yaml:10:13: limit 'l': unknown role 'ghost'");
  }

  @Test
  void parse_roleWithoutDeclaredRoles() {
    ConfigException e = fail("rules:\n  - id: r\n    allow: { roles: developer }\n");
    assertThat(e.getMessage()).contains("unknown role 'developer'")
        .contains("no roles are declared");
  }

  @Test
  void parse_badRates() {
    ConfigException e = fail("limits:\n"
        + "  - { id: zero, rate: 0/min }\n"
        + "  - { id: negative, rate: -5/min }\n"
        + "  - { id: syntax, rate: lots }\n"
        + "  - { id: unit, rate: 5/fortnight }\n"
        + "  - { id: number, rate: 60 }\n"
        + "  - { id: burst, rate: 1/s, burst: 0 }\n"
        + "  - { id: cost, rate: 1/s, cost: -1 }\n"
        + "  - { id: missing }\n");
    assertThat(e.problems()).hasSize(8);
    assertThat(e.getMessage())
        .contains("policy.yaml:2:17: limit 'zero': rate '0/min' must allow a positive number")
        .contains("policy.yaml:3:21: limit 'negative': rate '-5/min'")
        .contains("limit 'syntax': rate 'lots' is not of the form N/unit")
        .contains("limit 'unit': rate '5/fortnight' has unknown unit")
        .contains("limit 'number': expected a rate such as 60/min or 10/10s, got 60")
        .contains("policy.yaml:7:29: limit 'burst': burst must be positive, got 0")
        .contains("limit 'cost': cost must be positive, got -1")
        .contains("policy.yaml:9:5: limit 'missing': missing required key 'rate'");
  }

  @Test
  void parse_ruleWithTwoEffectsOrNone() {
    ConfigException e = fail("rules:\n  - id: both\n    allow: {}\n    deny: {}\n"
        + "  - id: neither\n    reason: x\n");
    assertThat(e.getMessage())
        .contains("policy.yaml:4:5: rule 'both': rule has both allow and deny; a rule has "
            + "exactly one of allow, deny, confirm")
        .contains("policy.yaml:5:5: rule 'neither': rule has none of allow, deny, confirm");
  }

  @Test
  void parse_missingRuleId() {
    ConfigException e = fail("rules:\n  - allow: {}\n");
    assertThat(e.getMessage()).isEqualTo(
        "policy.yaml:2:5: rule at /rules/0: missing required key 'id'");
  }

  @Test
  void parse_wrongTypes() {
    ConfigException e = fail("rules:\n"
        + "  - id: map-for-list\n    allow: { tools: { a: 1 } }\n"
        + "  - id: single-string-ok\n    allow: { tools: fs__read }\n"
        + "  - id: empty-list\n    allow: { tools: [] }\n"
        + "  - id: null-body\n    allow:\n"
        + "  - id: nested\n    allow: { tools: [[a]] }\n"
        + "  - id: scalar-when\n    allow: { when: { \"/a\": fast } }\n");
    assertThat(e.problems()).hasSize(5);
    assertThat(e.getMessage())
        .contains("policy.yaml:3:14: rule 'map-for-list': expected a list of tool name globs "
            + "(or a single one), got a mapping")
        .contains("rule 'empty-list': 'tools' must not be empty")
        .contains("rule 'null-body': expected a mapping of conditions")
        .contains("use {} to match every request")
        .contains("rule 'nested': expected tool name globs, got a list")
        .contains("rule 'scalar-when': expected a mapping of operators")
        .doesNotContain("single-string-ok");
  }

  @Test
  void parse_rulesNotAList() {
    ConfigException e = fail("rules: { id: a }\n");
    assertThat(e.getMessage()).contains("expected a list of rules");
  }

  @Test
  void parse_unknownOperatorInWhen() {
    ConfigException e = fail("rules:\n  - id: w\n    allow:\n      when:\n"
        + "        \"/path\": { globb: \"/x/**\" }\n");
    assertThat(e.getMessage()).isEqualTo("policy.yaml:5:20: rule 'w': unknown operator 'globb' "
        + "(expected one of equals, in, glob, regex, prefix, gt, gte, lt, lte, exists, "
        + "maxLength, count, wildcard, on_type_mismatch); did you mean 'glob'?");
  }

  @Test
  void parse_badWildcardCountAndMismatchOptions() {
    ConfigException e = fail("rules:\n  - id: w\n    deny:\n      when:\n"
        + "        \"/a\": { equals: 1, wildcard: any }\n"
        + "        \"/b/*\": { equals: 1, wildcard: some }\n"
        + "        \"/c\": { count: { gte: 1 } }\n"
        + "        \"/d/*\": { count: { gte: 3, lt: 2 } }\n"
        + "        \"/e/*\": { count: { more: 1 } }\n"
        + "        \"/f/*\": { count: { gte: 1 }, wildcard: all }\n"
        + "        \"/g\": { equals: 1, on_type_mismatch: deny }\n"
        + "        \"/h/**\": { equals: 1 }\n"
        + "        \"/i/*\": { wildcard: all }\n"
        + "        \"/j\": { on_type_mismatchh: match, equals: 1 }\n");
    assertThat(e.problems()).hasSize(10);
    assertThat(e.getMessage())
        .contains("policy.yaml:5:28: rule 'w': 'wildcard' needs a pointer with a '*' segment")
        .contains("'wildcard' expects any or all, got the text 'some'")
        .contains("'count' needs a pointer with a '*' segment")
        .contains("admit no count")
        .contains("unknown count bound 'more'")
        .contains("give either 'wildcard' or 'count', not both")
        .contains("'on_type_mismatch' expects match or no_match, got the text 'deny'")
        .contains("'**' in the pointer '/h/**' is not supported")
        .contains("the condition on '/i/*' has no operator")
        .contains("unknown operator 'on_type_mismatchh'")
        .contains("did you mean 'on_type_mismatch'?");
  }

  @Test
  void parse_badOperatorValues() {
    ConfigException e = fail("rules:\n  - id: w\n    allow:\n      when:\n"
        + "        \"/a\": { gt: ten }\n"
        + "        \"/b\": { exists: yes }\n"
        + "        \"/c\": { maxLength: -1 }\n"
        + "        \"/d\": { glob: [x] }\n"
        + "        \"/e\": { in: [] }\n");
    assertThat(e.problems()).hasSize(5);
    assertThat(e.getMessage()).contains("'gt' expects a finite number, got the text 'ten'")
        .contains("'exists' expects true or false")
        .contains("'maxLength' expects a whole number of at least 0")
        .contains("'glob' expects text, got a list")
        .contains("'in' must list at least one value");
  }

  @Test
  void parse_nonFiniteNumbersInOperators() {
    ConfigException e = fail("rules:\n  - id: w\n    deny:\n      when:\n"
        + "        \"/a\": { gt: .inf }\n"
        + "        \"/b\": { equals: -.inf }\n"
        + "        \"/c\": { in: [1, [.nan]] }\n");
    assertThat(e.problems()).hasSize(3);
    assertThat(e.getMessage()).contains("'gt' expects a finite number")
        .contains("'equals' cannot compare with -Infinity")
        .contains("'in' cannot compare with NaN");
  }

  @Test
  void parse_invalidJsonPointer() {
    ConfigException e = fail("rules:\n  - id: p\n    allow:\n      when:\n"
        + "        \"path\": { equals: 1 }\n        \"/a~2\": { equals: 1 }\n");
    assertThat(e.problems()).hasSize(2);
    assertThat(e.getMessage()).contains("policy.yaml:5:9: rule 'p': invalid JSON Pointer 'path'")
        .contains("policy.yaml:6:9: rule 'p': invalid JSON Pointer '/a~2'");
  }

  @Test
  void parse_invalidTimeWindows() {
    ConfigException e = fail("rules:\n"
        + "  - id: hours\n    allow: { during: { hours: \"9-17\" } }\n"
        + "  - id: late\n    allow: { during: { hours: \"09:00-25:00\" } }\n"
        + "  - id: empty\n    allow: { during: { hours: \"09:00-09:00\" } }\n"
        + "  - id: day\n    allow: { during: { days: [mon, fry] } }\n"
        + "  - id: zone\n    allow: { during: { days: [mon], zone: Mars/Olympus } }\n"
        + "  - id: nothing\n    allow: { during: { zone: UTC } }\n");
    assertThat(e.problems()).hasSize(6);
    assertThat(e.getMessage())
        .contains("policy.yaml:3:24: rule 'hours': invalid hours '9-17': use HH:MM-HH:MM")
        .contains("rule 'late': invalid hours '09:00-25:00'")
        .contains("rule 'empty': invalid hours '09:00-09:00'")
        .contains("rule 'day': unknown day 'fry'")
        .contains("did you mean 'fri'?")
        .contains("rule 'zone': unknown time zone 'Mars/Olympus'")
        .contains("rule 'nothing': a time window needs days, hours or both");
  }

  @Test
  void parse_methodThatCanNeverMatchTargets() {
    ConfigException e = fail("rules:\n  - id: m\n    allow: { methods: [\"prompts/get\"], "
        + "tools: [x] }\n");
    assertThat(e.getMessage()).contains("method 'prompts/get' can never match");
  }

  @Test
  void parse_limitFilters() {
    ConfigException e = fail("limits:\n  - id: l\n    rate: 1/s\n    per: [principal, tools]\n"
        + "    backends: [\"git*\"]\n");
    assertThat(e.getMessage()).contains("unknown bucket key 'tools'")
        .contains("did you mean 'tool'?")
        .contains("the wildcard in 'git*' is not supported here");
  }

  @Test
  void parse_secondYamlDocumentAndAliasesRejected() {
    assertThat(fail("rules: []\n---\nrules: []\n").getMessage())
        .contains("policy.yaml:3:1").contains("second YAML document");
    assertThat(fail("roles:\n  a: &x {}\n  b: *x\n").getMessage()).contains("aliases");
  }

  @Test
  void parse_topLevelNotAMapping() {
    assertThat(fail("- a\n- b\n").getMessage()).contains("expected a mapping of roles, rules, "
        + "limits, break_glass, got a list");
  }

  @Test
  void load_missingFileIsAConfigException() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> PolicyEngine.load(Path.of("/nonexistent/dir/policy.yaml")));
    assertThat(e.getMessage()).startsWith("policy.yaml: cannot read the policy file");
  }

  @Test
  void parse_confirmRuleApprovalSettings_defaultsAndGivenValues() {
    PolicyEngine policy = PolicyEngine.parse("rules:\n"
        + "  - id: refunds\n    confirm: { tools: [r] }\n    approvals: 2\n    wait: 90s\n"
        + "    expires: 2h\n"
        + "  - id: deletes\n    confirm: { tools: [d] }\n"
        + "  - id: reads\n    allow: { tools: [x] }\n", "policy.yaml");
    assertThat(policy.confirmation("refunds")).contains(
        new ConfirmSettings(2, java.time.Duration.ofSeconds(90), java.time.Duration.ofHours(2)));
    assertThat(policy.confirmation("deletes")).contains(ConfirmSettings.DEFAULTS);
    assertThat(policy.confirmation("reads")).isEmpty();
  }

  @Test
  void parse_approvalSettingsOutOfRangeOrOnAnotherRule_areLocatedErrors() {
    ConfigException e = fail("rules:\n"
        + "  - id: a\n    allow: { tools: [x] }\n    approvals: 2\n"
        + "  - id: b\n    confirm: { tools: [y] }\n    approvals: 11\n    wait: 1h\n"
        + "    expires: 30s\n"
        + "  - id: c\n    confirm: { tools: [z] }\n    wait: soon\n");
    assertThat(e.problems()).hasSize(5);
    assertThat(e.getMessage())
        .contains("policy.yaml:4:5: rule 'a': 'approvals' is for confirm rules only")
        .contains("rule 'b': at most 10 approvals, got 11")
        .contains("rule 'b': expected 0s to 15m, got 1h")
        .contains("rule 'b': expected 1m to 7d, got 30s")
        .contains("rule 'c': expected a duration");
  }
}
