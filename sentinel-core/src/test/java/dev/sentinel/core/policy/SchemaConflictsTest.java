package dev.sentinel.core.policy;

import static dev.sentinel.core.policy.Requests.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Rules checked against a tool's input schema when the schema becomes known: an operator that
 * cannot apply to the type the schema declares at its pointer, or a pointer the schema allows no
 * value at, is reported naming the rule, the tool and the pointer; what the schema leaves open is
 * not.
 */
class SchemaConflictsTest {
  private static final String PAY = "{\"type\":\"object\",\"properties\":{"
      + "\"amount\":{\"type\":\"string\"},"
      + "\"count\":{\"type\":\"integer\"},"
      + "\"note\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]},"
      + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
      + "\"to\":{\"$ref\":\"#/$defs/account\"},"
      + "\"free\":{}"
      + "},\"additionalProperties\":false,"
      + "\"$defs\":{\"account\":{\"type\":\"object\",\"properties\":{\"iban\":{\"type\":\"string\"}}}}}";

  private static List<String> conflicts(String when) {
    PolicyEngine policy = PolicyEngine.parse(String.join("\n",
        "roles: { user: {} }",
        "rules:",
        "  - id: r",
        "    deny: { tools: [\"bank__pay\"], when: " + when + " }",
        "  - id: elsewhere",
        "    deny: { tools: [\"other__*\"], when: { \"/amount\": { gt: 1 } } }",
        ""), "policy.yaml");
    return policy.schemaConflicts("bank", "bank__pay", json(PAY));
  }

  @Test
  void numericOperatorOnAString_isReportedNamingRuleToolPointerAndType() {
    assertThat(conflicts("{ \"/amount\": { gt: 1000 } }")).containsExactly(
        "rule 'r': /amount gt 1000 cannot apply to calls of 'bank__pay': its input schema declares /amount as"
            + " string, and gt 1000 needs a number");
  }

  @Test
  void regexOnAnInteger_isReported() {
    assertThat(conflicts("{ \"/count\": { regex: \"^9+$\" } }")).singleElement().asString()
        .contains("/count regex '^9+$' cannot apply").contains("declares /count as integer");
  }

  @Test
  void operatorsThatFitTheDeclaredType_areNotReported() {
    assertThat(conflicts("{ \"/amount\": { regex: \"x\", maxLength: 5 }, \"/count\": { lte: 3 },"
        + " \"/tags\": { maxLength: 3 }, \"/to/iban\": { prefix: \"DE\" }, \"/note\": { glob: \"*\" } }")).isEmpty();
  }

  @Test
  void unionTypes_areReportedOnlyWhenNoBranchFits() {
    assertThat(conflicts("{ \"/note\": { gt: 1 } }")).singleElement().asString()
        .contains("declares /note as null or string");
  }

  @Test
  void followsLocalRefs() {
    assertThat(conflicts("{ \"/to/iban\": { gte: 1 } }")).singleElement().asString()
        .contains("declares /to/iban as string");
  }

  @Test
  void pointerTheSchemaAllowsNoValueAt_isReported() {
    assertThat(conflicts("{ \"/sql\": { regex: \"drop\" } }")).containsExactly(
        "rule 'r': /sql can never be present in calls of 'bank__pay': its input schema allows no property /sql"
            + " (additionalProperties: false), so /sql regex 'drop' never sees a value");
    assertThat(conflicts("{ \"/sql\": { exists: false } }")).isEmpty();
  }

  @Test
  void whatTheSchemaLeavesOpen_isNotReported() {
    assertThat(conflicts("{ \"/free\": { gt: 1 }, \"/to/other\": { gt: 1 }, \"/to/*\": { gt: 1 } }")).isEmpty();
  }

  @Test
  void wildcardOverArrayItems_isCheckedAgainstTheItemSchema() {
    assertThat(conflicts("{ \"/tags/*\": { gt: 1 } }")).singleElement().asString()
        .contains("/tags/* gt 1").contains("declares /tags/* as string");
  }

  @Test
  void equalsChecksTheTypesOfItsValues() {
    assertThat(conflicts("{ \"/count\": { in: [\"1\", \"2\"] } }")).singleElement().asString()
        .contains("needs a string");
    assertThat(conflicts("{ \"/count\": { in: [1, 2] } }")).isEmpty();
  }

  @Test
  void rulesThatDoNotConcernTheTool_areNotChecked() {
    PolicyEngine policy = PolicyEngine.parse(String.join("\n",
        "roles: { user: {} }",
        "rules:",
        "  - id: prompts-only",
        "    deny: { prompts: [\"*\"], when: { \"/amount\": { gt: 1 } } }",
        "  - id: other-backend",
        "    deny: { backends: [other], when: { \"/amount\": { gt: 1 } } }",
        "  - id: listing",
        "    deny: { methods: [\"tools/list\"], when: { \"/amount\": { gt: 1 } } }",
        ""), "policy.yaml");

    assertThat(policy.schemaConflicts("bank", "bank__pay", json(PAY))).isEmpty();
  }
}
