package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import org.junit.jupiter.api.Test;

class ConditionTest {

  /** Whether a rule with the given {@code when} entry allows a call with the given arguments. */
  private static boolean holds(String pointer, String operators, String arguments) {
    PolicyEngine engine = PolicyEngine.parse("rules:\n  - id: r\n    allow:\n      tools: [t]\n"
        + "      when: { \"" + pointer + "\": " + operators + " }\n", "c.yaml");
    return engine.decide(Requests.tool(Principal.of("p"), "t", arguments)).effect()
        == Effect.ALLOW;
  }

  @Test
  void equals_stringComparesScalarText() {
    assertThat(holds("/mode", "{ equals: fast }", "{\"mode\":\"fast\"}")).isTrue();
    assertThat(holds("/mode", "{ equals: fast }", "{\"mode\":\"slow\"}")).isFalse();
    assertThat(holds("/n", "{ equals: \"5\" }", "{\"n\":5}")).isTrue();
    assertThat(holds("/mode", "{ equals: fast }", "{}")).isFalse();
    assertThat(holds("/mode", "{ equals: fast }", "{\"mode\":[\"fast\"]}")).isFalse();
  }

  @Test
  void equals_numberComparesNumerically() {
    assertThat(holds("/n", "{ equals: 5 }", "{\"n\":5.0}")).isTrue();
    assertThat(holds("/n", "{ equals: 5 }", "{\"n\":\"5\"}")).isTrue();
    assertThat(holds("/n", "{ equals: 5 }", "{\"n\":6}")).isFalse();
    assertThat(holds("/n", "{ equals: 5 }", "{\"n\":\"five\"}")).isFalse();
  }

  @Test
  void equals_booleanNullAndStructures() {
    assertThat(holds("/b", "{ equals: true }", "{\"b\":true}")).isTrue();
    assertThat(holds("/b", "{ equals: true }", "{\"b\":false}")).isFalse();
    assertThat(holds("/b", "{ equals: true }", "{\"b\":\"true\"}")).isTrue();
    assertThat(holds("/b", "{ equals: null }", "{\"b\":null}")).isTrue();
    assertThat(holds("/b", "{ equals: null }", "{}")).isFalse();
    assertThat(holds("/b", "{ equals: [1, 2] }", "{\"b\":[1,2]}")).isTrue();
  }

  @Test
  void in_matchesAnyListedValue() {
    assertThat(holds("/env", "{ in: [dev, staging, 3] }", "{\"env\":\"staging\"}")).isTrue();
    assertThat(holds("/env", "{ in: [dev, staging, 3] }", "{\"env\":3}")).isTrue();
    assertThat(holds("/env", "{ in: [dev, staging, 3] }", "{\"env\":\"prod\"}")).isFalse();
    assertThat(holds("/env", "{ in: dev }", "{\"env\":\"dev\"}")).isTrue();
  }

  @Test
  void glob_matchesTextWithShellSemantics() {
    assertThat(holds("/f", "{ glob: \"*.txt\" }", "{\"f\":\"a.txt\"}")).isTrue();
    assertThat(holds("/f", "{ glob: \"*.txt\" }", "{\"f\":\"a.md\"}")).isFalse();
    assertThat(holds("/f", "{ glob: \"/w/*\" }", "{\"f\":\"/w/a/b\"}")).isFalse();
    assertThat(holds("/f", "{ glob: \"/w/**\" }", "{\"f\":\"/w/a/b\"}")).isTrue();
    assertThat(holds("/f", "{ glob: \"1*\" }", "{\"f\":123}")).isTrue();
  }

  @Test
  void prefix_normalizesPaths() {
    assertThat(holds("/p", "{ prefix: \"/workspace/\" }", "{\"p\":\"/workspace/a\"}")).isTrue();
    assertThat(holds("/p", "{ prefix: \"/workspace/\" }", "{\"p\":\"/workspace/../etc\"}"))
        .isFalse();
    assertThat(holds("/p", "{ prefix: \"/workspace/\" }", "{\"p\":\"//workspace//a\"}"))
        .isTrue();
    assertThat(holds("/p", "{ prefix: \"ab\" }", "{\"p\":\"abc\"}")).isTrue();
    assertThat(holds("/p", "{ prefix: \"ab\" }", "{\"p\":\"xabc\"}")).isFalse();
  }

  @Test
  void regex_findsAnywhere() {
    assertThat(holds("/sql", "{ regex: \"(?i)\\\\bdrop\\\\b\" }", "{\"sql\":\"x; DROP t\"}"))
        .isTrue();
    assertThat(holds("/sql", "{ regex: \"(?i)\\\\bdrop\\\\b\" }", "{\"sql\":\"dropped\"}"))
        .isFalse();
    assertThat(holds("/sql", "{ regex: \"^a\" }", "{\"sql\":\"ba\"}")).isFalse();
    assertThat(holds("/sql", "{ regex: \"a\" }", "{}")).isFalse();
  }

  @Test
  void numericOperators_matchNumbersAndNumericStrings() {
    assertThat(holds("/n", "{ gt: 10 }", "{\"n\":11}")).isTrue();
    assertThat(holds("/n", "{ gt: 10 }", "{\"n\":10}")).isFalse();
    assertThat(holds("/n", "{ gte: 10 }", "{\"n\":10}")).isTrue();
    assertThat(holds("/n", "{ lt: 10 }", "{\"n\":9.5}")).isTrue();
    assertThat(holds("/n", "{ lt: 10 }", "{\"n\":10}")).isFalse();
    assertThat(holds("/n", "{ lte: 10 }", "{\"n\":\"10\"}")).isTrue();
    assertThat(holds("/n", "{ lte: 10 }", "{\"n\":\"ten\"}")).isFalse();
    assertThat(holds("/n", "{ lte: 10 }", "{\"n\":true}")).isFalse();
    assertThat(holds("/n", "{ gte: 1, lte: 3 }", "{\"n\":2}")).isTrue();
    assertThat(holds("/n", "{ gte: 1, lte: 3 }", "{\"n\":4}")).isFalse();
    assertThat(holds("/n", "{ gt: 0 }", "{}")).isFalse();
  }

  @Test
  void exists_trueAndFalse() {
    assertThat(holds("/x", "{ exists: true }", "{\"x\":1}")).isTrue();
    assertThat(holds("/x", "{ exists: true }", "{\"x\":null}")).isTrue();
    assertThat(holds("/x", "{ exists: true }", "{}")).isFalse();
    assertThat(holds("/x", "{ exists: false }", "{}")).isTrue();
    assertThat(holds("/x", "{ exists: false }", "{\"x\":0}")).isFalse();
  }

  @Test
  void maxLength_textAndArrays() {
    assertThat(holds("/s", "{ maxLength: 3 }", "{\"s\":\"abc\"}")).isTrue();
    assertThat(holds("/s", "{ maxLength: 3 }", "{\"s\":\"abcd\"}")).isFalse();
    assertThat(holds("/s", "{ maxLength: 2 }", "{\"s\":[1,2]}")).isTrue();
    assertThat(holds("/s", "{ maxLength: 1 }", "{\"s\":[1,2]}")).isFalse();
    assertThat(holds("/s", "{ maxLength: 1 }", "{\"s\":\"\uD83D\uDE00\"}")).isTrue();
    assertThat(holds("/s", "{ maxLength: 3 }", "{}")).isFalse();
  }

  @Test
  void pointer_reachesNestedValuesAndArrayElements() {
    assertThat(holds("/opts/mode", "{ equals: x }", "{\"opts\":{\"mode\":\"x\"}}")).isTrue();
    assertThat(holds("/list/1", "{ equals: b }", "{\"list\":[\"a\",\"b\"]}")).isTrue();
    assertThat(holds("/a~1b", "{ equals: 1 }", "{\"a/b\":1}")).isTrue();
  }
}
