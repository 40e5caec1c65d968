package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

class ConditionTest {

  private static PolicyEngine rule(String effect, String pointer, String operators) {
    return PolicyEngine.parse("rules:\n  - id: r\n    " + effect + ":\n      tools: [t]\n"
        + "      when: { \"" + pointer + "\": " + operators + " }\n", "c.yaml");
  }

  /** Whether an allow rule with the given {@code when} entry allows the arguments. */
  private static boolean holds(String pointer, String operators, String arguments) {
    return rule("allow", pointer, operators)
        .decide(Requests.tool(Principal.of("p"), "t", arguments)).effect() == Effect.ALLOW;
  }

  /** Whether a deny rule with the given {@code when} entry matches the arguments. */
  private static boolean denies(String pointer, String operators, String arguments) {
    return denies(pointer, operators, Requests.json(arguments));
  }

  private static boolean denies(String pointer, String operators, JsonNode arguments) {
    return !rule("deny", pointer, operators)
        .decide(Requests.tool(Principal.of("p"), "t", arguments)).rules().isEmpty();
  }

  private static String explain(String effect, String pointer, String operators, String args) {
    RequestContext context = Requests.tool(Principal.of("p"), "t", args);
    String why = rule(effect, pointer, operators).explain(context).rules().get(0).why();
    return why.replaceFirst("^tool 't' matches 't'; ", "");
  }

  // ---- the operators, typed ---------------------------------------------------------------

  @Test
  void equals_stringsCompareExactlyAndOtherTypesDoNotEqualThem() {
    assertThat(holds("/mode", "{ equals: fast }", "{\"mode\":\"fast\"}")).isTrue();
    assertThat(holds("/mode", "{ equals: fast }", "{\"mode\":\"slow\"}")).isFalse();
    assertThat(holds("/mode", "{ equals: fast }", "{}")).isFalse();
    assertThat(holds("/mode", "{ equals: fast }", "{\"mode\":[\"fast\"]}")).isFalse();
    assertThat(holds("/n", "{ equals: \"5\" }", "{\"n\":5}")).isFalse();
  }

  @Test
  void equals_numbersCompareByValueButNotAsText() {
    assertThat(holds("/n", "{ equals: 5 }", "{\"n\":5.0}")).isTrue();
    assertThat(holds("/n", "{ equals: 5 }", "{\"n\":5}")).isTrue();
    assertThat(holds("/n", "{ equals: 5 }", "{\"n\":\"5\"}")).isFalse();
    assertThat(holds("/n", "{ equals: 5 }", "{\"n\":6}")).isFalse();
    assertThat(holds("/n", "{ equals: 5 }", "{\"n\":\"five\"}")).isFalse();
  }

  @Test
  void equals_booleanNullAndStructures() {
    assertThat(holds("/b", "{ equals: true }", "{\"b\":true}")).isTrue();
    assertThat(holds("/b", "{ equals: true }", "{\"b\":false}")).isFalse();
    assertThat(holds("/b", "{ equals: true }", "{\"b\":\"true\"}")).isFalse();
    assertThat(holds("/b", "{ equals: null }", "{\"b\":null}")).isTrue();
    assertThat(holds("/b", "{ equals: null }", "{}")).isFalse();
    assertThat(holds("/b", "{ equals: [1, 2] }", "{\"b\":[1,2]}")).isTrue();
    assertThat(holds("/b", "{ equals: [1, 2] }", "{\"b\":[1.0,2]}")).isTrue();
    assertThat(holds("/b", "{ equals: [1, 2] }", "{\"b\":[2,1]}")).isFalse();
    assertThat(holds("/b", "{ equals: { k: v } }", "{\"b\":{\"k\":\"v\"}}")).isTrue();
  }

  @Test
  void in_matchesAnyListedValue() {
    assertThat(holds("/env", "{ in: [dev, staging, 3] }", "{\"env\":\"staging\"}")).isTrue();
    assertThat(holds("/env", "{ in: [dev, staging, 3] }", "{\"env\":3}")).isTrue();
    assertThat(holds("/env", "{ in: [dev, staging, 3] }", "{\"env\":\"prod\"}")).isFalse();
    assertThat(holds("/env", "{ in: dev }", "{\"env\":\"dev\"}")).isTrue();
  }

  @Test
  void glob_matchesStringsWithShellSemantics() {
    assertThat(holds("/f", "{ glob: \"*.txt\" }", "{\"f\":\"a.txt\"}")).isTrue();
    assertThat(holds("/f", "{ glob: \"*.txt\" }", "{\"f\":\"a.md\"}")).isFalse();
    assertThat(holds("/f", "{ glob: \"/w/*\" }", "{\"f\":\"/w/a/b\"}")).isFalse();
    assertThat(holds("/f", "{ glob: \"/w/**\" }", "{\"f\":\"/w/a/b\"}")).isTrue();
    assertThat(holds("/f", "{ glob: \"1*\" }", "{\"f\":123}")).isFalse();
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
  void numericOperators_acceptOnlyFiniteJsonNumbers() {
    assertThat(holds("/n", "{ gt: 10 }", "{\"n\":11}")).isTrue();
    assertThat(holds("/n", "{ gt: 10 }", "{\"n\":10}")).isFalse();
    assertThat(holds("/n", "{ gte: 10 }", "{\"n\":10}")).isTrue();
    assertThat(holds("/n", "{ lt: 10 }", "{\"n\":9.5}")).isTrue();
    assertThat(holds("/n", "{ lt: 10 }", "{\"n\":10}")).isFalse();
    assertThat(holds("/n", "{ lte: 10 }", "{\"n\":\"10\"}")).isFalse();
    assertThat(holds("/n", "{ lte: 10 }", "{\"n\":\"ten\"}")).isFalse();
    assertThat(holds("/n", "{ lte: 10 }", "{\"n\":true}")).isFalse();
    assertThat(holds("/n", "{ lte: 10 }", "{\"n\":-1e999}")).isFalse();
    assertThat(holds("/n", "{ gte: 1, lte: 3 }", "{\"n\":2}")).isTrue();
    assertThat(holds("/n", "{ gte: 1, lte: 3 }", "{\"n\":4}")).isFalse();
    assertThat(holds("/n", "{ gt: 0 }", "{}")).isFalse();
    assertThat(holds("/n", "{ lte: 0.1 }", "{\"n\":0.1}")).isTrue();
    assertThat(holds("/n", "{ lt: 9223372036854775807 }", "{\"n\":9223372036854775808}"))
        .isFalse();
  }

  @Test
  void numericOperators_compareExactlyOnBigDecimalAndBigIntegerNodes() {
    assertThat(denies("/n", "{ gt: 1000 }", Requests.exactJson("{\"n\":1000.000000000000000001}")))
        .isTrue();
    assertThat(denies("/n", "{ gt: 1000 }", Requests.exactJson("{\"n\":1000.000}"))).isFalse();
    assertThat(denies("/n", "{ gt: 1000 }", Requests.exactJson("{\"n\":1e999999}"))).isTrue();
    assertThat(denies("/n", "{ lt: 0 }", Requests.exactJson("{\"n\":-1e-999999}"))).isTrue();
    assertThat(denies("/n", "{ gte: 0.1 }", Requests.exactJson("{\"n\":0.09999999999999999999}")))
        .isFalse();
    assertThat(denies("/n", "{ gt: 100 }",
        Requests.exactJson("{\"n\":100000000000000000000000000000000000000001}"))).isTrue();
  }

  /**
   * Found by ConditionFuzzTest: on Java 17 {@code Double.toString(2e23)} is
   * {@code 2.0000000000000002E23}, so a double read as {@code BigDecimal.valueOf} was not its
   * shortest decimal form: the exact 2e23 was {@code gt: 2.0e+23}, and the double 2e23 did not
   * equal the whole number 2e23.
   */
  @Test
  void numericOperators_doubleOperandAndDoubleArgument_compareByTheirShortestDecimal() {
    ObjectNode exact = JsonNodeFactory.instance.objectNode()
        .put("n", new java.math.BigDecimal("2e23"));
    ObjectNode doubled = JsonNodeFactory.instance.objectNode().put("n", 2e23);

    assertThat(denies("/n", "{ gt: 2.0e+23 }", exact)).isFalse();
    assertThat(denies("/n", "{ equals: 2.0e+23 }", exact)).isTrue();
    assertThat(denies("/n", "{ equals: 200000000000000000000000 }", doubled)).isTrue();
    assertThat(denies("/n", "{ gt: 200000000000000000000000 }", doubled)).isFalse();
    assertThat(denies("/n", "{ in: [1, 200000000000000000000000] }", doubled)).isTrue();
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
  void maxLength_stringsAndArraysOnly() {
    assertThat(holds("/s", "{ maxLength: 3 }", "{\"s\":\"abc\"}")).isTrue();
    assertThat(holds("/s", "{ maxLength: 3 }", "{\"s\":\"abcd\"}")).isFalse();
    assertThat(holds("/s", "{ maxLength: 2 }", "{\"s\":[1,2]}")).isTrue();
    assertThat(holds("/s", "{ maxLength: 1 }", "{\"s\":[1,2]}")).isFalse();
    assertThat(holds("/s", "{ maxLength: 1 }", "{\"s\":\"\uD83D\uDE00\"}")).isTrue();
    assertThat(holds("/s", "{ maxLength: 3 }", "{}")).isFalse();
    assertThat(holds("/s", "{ maxLength: 3 }", "{\"s\":12}")).isFalse();
    assertThat(holds("/s", "{ maxLength: 3 }", "{\"s\":{\"a\":1}}")).isFalse();
    assertThat(denies("/s", "{ maxLength: 3 }", "{\"s\":{\"a\":1}}")).isTrue();
  }

  @Test
  void pointer_reachesNestedValuesAndArrayElements() {
    assertThat(holds("/opts/mode", "{ equals: x }", "{\"opts\":{\"mode\":\"x\"}}")).isTrue();
    assertThat(holds("/list/1", "{ equals: b }", "{\"list\":[\"a\",\"b\"]}")).isTrue();
    assertThat(holds("/a~1b", "{ equals: 1 }", "{\"a/b\":1}")).isTrue();
  }

  // ---- type mismatches fail closed ----------------------------------------------------------

  @Test
  void typeMismatch_inDenyRule_countsAsAMatch() {
    assertThat(denies("/s", "{ regex: drop }", "{\"s\":5}")).isTrue();
    assertThat(denies("/s", "{ glob: \"/etc/**\" }", "{\"s\":[\"/etc/passwd\"]}")).isTrue();
    assertThat(denies("/s", "{ prefix: \"/etc\" }", "{\"s\":{\"p\":\"/etc\"}}")).isTrue();
    assertThat(denies("/n", "{ gt: 10 }", "{\"n\":\"11\"}")).isTrue();
    assertThat(denies("/n", "{ lte: 10 }", "{\"n\":false}")).isTrue();
    assertThat(denies("/mode", "{ equals: unsafe }", "{\"mode\":[\"unsafe\"]}")).isTrue();
    assertThat(denies("/mode", "{ in: [unsafe, raw] }", "{\"mode\":7}")).isTrue();
    assertThat(denies("/n", "{ equals: 0 }", "{\"n\":\"0x0\"}")).isTrue();
    // Missing is not a mismatch: the backend gets no value at all.
    assertThat(denies("/s", "{ regex: drop }", "{}")).isFalse();
    // Right type, no match: not denied.
    assertThat(denies("/s", "{ regex: drop }", "{\"s\":\"select\"}")).isFalse();
  }

  @Test
  void typeMismatch_inConfirmRule_asksAHuman() {
    PolicyEngine engine = PolicyEngine.parse("rules:\n"
        + "  - id: pay\n    allow: { tools: [t] }\n"
        + "  - id: big\n    confirm:\n      tools: [t]\n      when: { \"/amount\": { gt: 1000 } }\n",
        "c.yaml");
    assertThat(engine.decide(Requests.tool(Principal.of("p"), "t", "{\"amount\":\"5000\"}"))
        .effect()).isEqualTo(Effect.CONFIRM);
    assertThat(engine.decide(Requests.tool(Principal.of("p"), "t", "{\"amount\":5}"))
        .effect()).isEqualTo(Effect.ALLOW);
  }

  @Test
  void onTypeMismatch_overridesTheRuleDefault() {
    assertThat(denies("/n", "{ gt: 10, on_type_mismatch: no_match }", "{\"n\":\"11\"}"))
        .isFalse();
    assertThat(denies("/n", "{ gt: 10, on_type_mismatch: no_match }", "{\"n\":11}")).isTrue();
    assertThat(holds("/n", "{ lte: 10, on_type_mismatch: match }", "{\"n\":\"x\"}")).isTrue();
    assertThat(holds("/n", "{ lte: 10, on_type_mismatch: match }", "{\"n\":11}")).isFalse();
    assertThat(denies("/n", "{ gt: 10, on_type_mismatch: match }", "{\"n\":\"x\"}")).isTrue();
  }

  @Test
  void typeMismatch_aDefiniteFailureOfAnotherOperatorOutweighsIt() {
    // maxLength says no (4 elements), whatever regex would say of an array: not denied.
    assertThat(denies("/s", "{ maxLength: 3, regex: drop }", "{\"s\":[1,2,3,4]}")).isFalse();
    assertThat(denies("/s", "{ maxLength: 3, regex: drop }", "{\"s\":[1,2,3]}")).isTrue();
  }

  @Test
  void jsonNull_isAValueOfItsOwnType() {
    assertThat(denies("/s", "{ regex: drop }", "{\"s\":null}")).isTrue();
    assertThat(holds("/s", "{ regex: drop }", "{\"s\":null}")).isFalse();
    // A list of only null accepts any type: refusing nulls does not refuse everything else.
    assertThat(denies("/s", "{ equals: null }", "{\"s\":\"x\"}")).isFalse();
    assertThat(denies("/s", "{ equals: null }", "{\"s\":null}")).isTrue();
    assertThat(denies("/s", "{ in: [null, a] }", "{\"s\":5}")).isTrue();
    assertThat(denies("/s", "{ in: [null, a] }", "{\"s\":\"b\"}")).isFalse();
  }

  // ---- wildcards ----------------------------------------------------------------------------

  @Test
  void wildcard_denyDefaultsToAny() {
    String cond = "{ equals: secret }";
    assertThat(denies("/e/*/type", cond, "{\"e\":[{\"type\":\"a\"},{\"type\":\"secret\"}]}"))
        .isTrue();
    assertThat(denies("/e/*/type", cond, "{\"e\":[{\"type\":\"a\"},{\"type\":\"b\"}]}"))
        .isFalse();
    assertThat(denies("/e/*/type", cond, "{\"e\":[]}")).isFalse();
    assertThat(denies("/e/*/type", cond, "{}")).isFalse();
    assertThat(denies("/e/*/type", cond, "{\"e\":[{\"name\":\"x\"}]}")).isFalse();
    assertThat(denies("/e/*/type", cond, "{\"e\":[{\"type\":7}]}")).isTrue();
  }

  @Test
  void wildcard_allowDefaultsToAllAndNeedsAtLeastOneValue() {
    String cond = "{ lte: 100 }";
    assertThat(holds("/items/*/price", cond, "{\"items\":[{\"price\":5},{\"price\":100}]}"))
        .isTrue();
    assertThat(holds("/items/*/price", cond, "{\"items\":[{\"price\":5},{\"price\":500}]}"))
        .isFalse();
    assertThat(holds("/items/*/price", cond, "{\"items\":[{\"price\":5},{\"price\":\"50\"}]}"))
        .isFalse();
    assertThat(holds("/items/*/price", cond, "{\"items\":[{\"price\":5},{\"name\":\"x\"}]}"))
        .isFalse();
    assertThat(holds("/items/*/price", cond, "{\"items\":[]}")).isFalse();
    assertThat(holds("/items/*/price", cond, "{}")).isFalse();
  }

  @Test
  void wildcard_explicitAnyAndAll() {
    assertThat(holds("/tags/*", "{ equals: public, wildcard: any }", "{\"tags\":[\"x\",\"public\"]}"))
        .isTrue();
    assertThat(denies("/tags/*", "{ in: [tmp], wildcard: all }", "{\"tags\":[\"tmp\",\"tmp\"]}"))
        .isTrue();
    assertThat(denies("/tags/*", "{ in: [tmp], wildcard: all }", "{\"tags\":[\"tmp\",\"keep\"]}"))
        .isFalse();
    // All over no values is undecided, so a deny rule fails closed.
    assertThat(denies("/tags/*", "{ in: [tmp], wildcard: all }", "{\"tags\":[]}")).isTrue();
  }

  @Test
  void wildcard_nestedAndOverObjects() {
    String args = "{\"a\":[{\"b\":[{\"c\":\"x\"}]},{\"b\":{\"k\":{\"c\":\"secret\"}}}]}";
    assertThat(denies("/a/*/b/*/c", "{ equals: secret }", args)).isTrue();
    assertThat(denies("/a/*/b/*/c", "{ equals: secret }", args.replace("secret", "y"))).isFalse();
    assertThat(denies("/m/*", "{ gt: 10 }", "{\"m\":{\"x\":1,\"y\":11}}")).isTrue();
    // A member literally named "*" is one of the object's members, so the wildcard sees it.
    assertThat(denies("/*", "{ equals: 1 }", "{\"*\":1}")).isTrue();
  }

  @Test
  void wildcard_overAScalar_isATypeMismatch() {
    assertThat(denies("/e/*/type", "{ equals: secret }", "{\"e\":\"secret\"}")).isTrue();
    assertThat(denies("/e/*/type", "{ equals: secret }", "{\"e\":null}")).isTrue();
    assertThat(holds("/e/*", "{ equals: ok }", "{\"e\":\"ok\"}")).isFalse();
  }

  @Test
  void count_boundsTheNumberOfValuesThatHold() {
    String twoSecrets = "{ equals: secret, count: { gte: 2 } }";
    assertThat(denies("/e/*/t", twoSecrets, "{\"e\":[{\"t\":\"secret\"},{\"t\":\"a\"}]}"))
        .isFalse();
    assertThat(denies("/e/*/t", twoSecrets, "{\"e\":[{\"t\":\"secret\"},{\"t\":\"secret\"}]}"))
        .isTrue();
    // One secret and one value of the wrong type: the count may be 1 or 2, so a deny fails closed.
    assertThat(denies("/e/*/t", twoSecrets, "{\"e\":[{\"t\":\"secret\"},{\"t\":5}]}")).isTrue();
    assertThat(holds("/e/*/t", twoSecrets, "{\"e\":[{\"t\":\"secret\"},{\"t\":5}]}")).isFalse();
    // Without other operators, count counts the values present.
    assertThat(holds("/items/*", "{ count: { lte: 3 } }", "{\"items\":[1,2,3]}")).isTrue();
    assertThat(holds("/items/*", "{ count: { lte: 3 } }", "{\"items\":[1,2,3,4]}")).isFalse();
    assertThat(holds("/items/*", "{ count: { equals: 0 } }", "{\"items\":[]}")).isTrue();
    assertThat(holds("/items/*", "{ count: { gt: 0, lt: 2 } }", "{\"items\":[9]}")).isTrue();
    assertThat(denies("/items/*", "{ count: { gt: 100 } }", "{\"items\":[1]}")).isFalse();
  }

  @Test
  void wildcard_overAMillionElements_isBoundedAndFailsClosed() {
    ObjectNode args = JsonNodeFactory.instance.objectNode();
    ArrayNode xs = args.putArray("xs");
    for (int i = 0; i < 1_000_000; i++) {
      xs.add(0);
    }
    RequestContext context = RequestContext.of(Principal.of("p"),
        Request.toolCall("b", "t", args), Requests.MONDAY_NOON);
    assertThat(rule("deny", "/xs/*", "{ equals: 1 }").decide(context).rules())
        .containsExactly("r");
    assertThat(rule("allow", "/xs/*", "{ lte: 10 }").decide(context).effect())
        .isEqualTo(Effect.DENY);
    assertThat(rule("allow", "/xs/*", "{ count: { gte: 0 } }").decide(context).effect())
        .isEqualTo(Effect.DENY);
    xs.set(0, JsonNodeFactory.instance.numberNode(1));
    assertThat(rule("deny", "/xs/*", "{ equals: 1 }").decide(context).rules())
        .containsExactly("r");
    assertThat(rule("deny", "/xs/*", "{ equals: 1 }").explain(context).rules().get(0).why())
        .startsWith("tool 't' matches 't'; /xs/* (any; 1 value checked): 1 hold; /xs/0 satisfies equals 1");
    xs.set(0, JsonNodeFactory.instance.numberNode(0));
    assertThat(rule("deny", "/xs/*", "{ equals: 1 }").explain(context).rules().get(0).why())
        .contains("/xs/* (any; 10000 values checked, stopped at the limit of 10000 values): 0 hold, 10000 fail; ").endsWith("undecided, counts as a match for this "
            + "deny rule");
  }

  @Test
  void wildcard_theExamplesOfTheDocs() {
    PolicyEngine engine = PolicyEngine.parse("rules:\n"
        + "  - id: no-secrets-stored\n    deny:\n      tools: [memory__create_entities]\n"
        + "      when: { \"/entities/*/entityType\": { equals: secret } }\n"
        + "  - id: memory\n    allow: { tools: [memory__create_entities, iam__add_users] }\n"
        + "  - id: small-orders\n    allow:\n      tools: [shop__order]\n      when:\n"
        + "        \"/items/*/quantity\": { lte: 10 }\n"
        + "        \"/items/*\": { count: { gte: 1, lte: 20 } }\n"
        + "  - id: at-most-one-admin\n    deny:\n      tools: [iam__add_users]\n"
        + "      when: { \"/users/*/role\": { equals: admin, count: { gt: 1 } } }\n", "docs.yaml");
    Principal p = Principal.of("p");
    assertThat(engine.decide(Requests.tool(p, "memory__create_entities",
        "{\"entities\":[{\"entityType\":\"person\"},{\"entityType\":\"secret\"}]}")).rules())
        .containsExactly("no-secrets-stored");
    assertThat(engine.decide(Requests.tool(p, "shop__order",
        "{\"items\":[{\"quantity\":2},{\"quantity\":10}]}")).rules()).containsExactly("small-orders");
    assertThat(engine.decide(Requests.tool(p, "shop__order",
        "{\"items\":[{\"quantity\":2},{\"quantity\":11}]}")).effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(Requests.tool(p, "shop__order", "{\"items\":[]}")).effect())
        .isEqualTo(Effect.DENY);
    assertThat(engine.decide(Requests.tool(p, "iam__add_users",
        "{\"users\":[{\"role\":\"admin\"},{\"role\":\"dev\"}]}")).rules()).containsExactly("memory");
    assertThat(engine.decide(Requests.tool(p, "iam__add_users",
        "{\"users\":[{\"role\":\"admin\"},{\"role\":\"admin\"}]}")).rules())
        .containsExactly("at-most-one-admin");
  }

  // ---- regex bounds -------------------------------------------------------------------------

  @Test
  void regex_catastrophicBacktracking_isUndecidedAndFailsClosed() {
    String evil = "{\"s\":\"" + "a".repeat(50_000) + "!\"}";
    assertThat(denies("/s", "{ regex: \"(a+)+$\" }", evil)).isTrue();
    assertThat(holds("/s", "{ regex: \"(a+)+$\" }", evil)).isFalse();
    assertThat(denies("/s", "{ regex: \"(a|aa)+$\" }", evil)).isTrue();
    assertThat(holds("/s", "{ regex: \"(a|aa)+$\" }", evil)).isFalse();
    assertThat(explain("deny", "/s", "{ regex: \"(a+)+$\" }", evil))
        .contains("regex '(a+)+$' gave up after 3300064 character reads")
        .endsWith("undecided, counts as a match for this deny rule");
  }

  @Test
  void regex_leadingAndTrailingDotStar_doNotMakeTheSearchQuadratic() {
    String text = "select " + "a, ".repeat(30_000) + "b from t";
    assertThat(denies("/s", "{ regex: \"(?i).*drop.*\" }", "{\"s\":\"" + text + "\"}")).isFalse();
    assertThat(denies("/s", "{ regex: \"(?i).*drop.*\" }", "{\"s\":\"" + text + " DROP\"}"))
        .isTrue();
  }

  @Test
  void regex_searchForm_dropsOnlyRedundantDotStars() {
    assertThat(searchForm(".*drop.*")).isEqualTo("drop");
    assertThat(searchForm("(?i).*drop")).isEqualTo("(?i)drop");
    assertThat(searchForm(".*a|b.*")).isEqualTo("a|b");
    assertThat(searchForm("a\\.*")).isEqualTo("a\\.*");
    assertThat(searchForm("a\\\\.*")).isEqualTo("a\\\\");
    assertThat(searchForm(".*+a")).isEqualTo(".*+a");
    assertThat(searchForm("\\Q.*")).isEqualTo("\\Q.*");
    assertThat(searchForm("^a.*$")).isEqualTo("^a.*$");
  }

  private static String searchForm(String regex) {
    return Operator.RegexOperator.searchForm(Pattern.compile(regex)).pattern();
  }

  // ---- explanations ------------------------------------------------------------------------

  @Test
  void explain_namesTheTypeMismatchAndWhatItCountsAs() {
    assertThat(explain("deny", "/amount", "{ gt: 1000 }", "{\"amount\":\"0x1388\"}"))
        .isEqualTo("/amount \"0x1388\" is a string, gt 1000 needs a number: type mismatch, "
            + "counts as a match for this deny rule");
    assertThat(explain("allow", "/amount", "{ lte: 100 }", "{\"amount\":[50]}"))
        .isEqualTo("/amount [50] is an array, lte 100 needs a number: type mismatch, "
            + "counts as no match for this allow rule");
    assertThat(explain("deny", "/amount", "{ gt: 1000 }", "{\"amount\":1e999999}"))
        .startsWith("/amount Infinity is a number too large to compare (not finite)");
    assertThat(explain("deny", "/n", "{ gt: 10, on_type_mismatch: no_match }", "{\"n\":\"x\"}"))
        .isEqualTo("/n \"x\" is a string, gt 10 needs a number (on_type_mismatch: no_match)");
    assertThat(explain("deny", "/m", "{ in: [a, 1] }", "{\"m\":true}"))
        .startsWith("/m true is a boolean, in [\"a\", 1] needs a string or a number");
  }

  @Test
  void explain_wildcardNamesTheValuesThatDecided() {
    String args = "{\"e\":[{\"t\":\"a\"},{\"t\":\"secret\"}]}";
    assertThat(explain("deny", "/e/*/t", "{ equals: secret }", args))
        .isEqualTo("/e/*/t (any; 2 values checked): 1 hold, 1 fail; /e/1/t satisfies equals \"secret\"");
    assertThat(explain("allow", "/e/*/t", "{ equals: a }", args))
        .isEqualTo("/e/*/t (all; 2 values checked): 1 hold, 1 fail; /e/1/t \"secret\" does not satisfy "
            + "equals \"a\"");
    assertThat(explain("deny", "/e/*/t", "{ equals: secret }", "{\"e\":\"x\"}"))
        .isEqualTo("/e/*/t (any; 1 value checked): 0 hold, 1 type mismatch; /e \"x\" is a string, * "
            + "needs an array or object: type mismatch, counts as a match for this deny rule");
    assertThat(explain("allow", "/e/*/t", "{ equals: a }", "{\"e\":[]}"))
        .isEqualTo("/e/*/t (all; no values to check): 0 hold: undecided, counts as no "
            + "match for this allow rule");
    assertThat(explain("deny", "/e/*/t", "{ equals: secret, count: { gte: 2 } }", args))
        .isEqualTo("/e/*/t (count >= 2; 2 values checked): 1 hold, 1 fail; /e/1/t satisfies "
            + "equals \"secret\"");
  }
}
