package dev.sentinel.policy.cel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.policy.tools.PolicyTestReport;
import dev.sentinel.policy.tools.PolicyTests;
import dev.sentinel.core.policy.RuleTrace;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code when_cel} through the real policy engine: load errors located in the file, type
 * checking, the four variables, exact numbers, failing closed, and explanations.
 */
class CelConditionLanguageTest {
  static final PolicyOptions CEL =
      PolicyOptions.builder().language(CelConditionLanguage.create()).build();
  static final Instant MONDAY_NOON = Instant.parse("2025-01-06T12:00:00Z");
  private static final JsonMapper JSON = JsonMapper.builder().build();
  /** Keeps numbers exactly as written, as a gateway with exact JSON numbers does. */
  private static final JsonMapper EXACT = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
      .build();
  private static final String ROLES =
      "roles:\n  admin: { inherits: [finance] }\n  finance: {}\n  staff: {}\n";

  static PolicyEngine policy(String rules) {
    return PolicyEngine.parse(ROLES + "rules:\n" + rules, "policy.yaml", CEL);
  }

  static ConfigException fail(String rules) {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> PolicyEngine.parse(ROLES + "rules:\n" + rules, "policy.yaml", CEL));
    assertThat(e).as("expected a ConfigException").isNotNull();
    return e;
  }

  static RequestContext call(Principal principal, String tool, JsonNode arguments) {
    return RequestContext.of(principal, Request.toolCall("bank", tool, arguments), MONDAY_NOON);
  }

  static RequestContext call(String arguments) {
    return call(Principal.of("ann", "staff"), "pay", JSON.readTree(arguments));
  }

  /** A deny rule with the expression beside an allow-all, so the decision shows the match. */
  private static PolicyEngine denyWhen(String expression) {
    return policy("  - id: all\n    allow: { tools: [pay] }\n"
        + "  - id: cel\n    deny: { tools: [pay], when_cel: '" + expression + "' }\n");
  }

  private static boolean denies(String expression, JsonNode arguments) {
    return denyWhen(expression).decide(call(Principal.of("ann", "staff"), "pay", arguments))
        .effect() == Effect.DENY;
  }

  private static String why(PolicyEngine policy, RequestContext context, String rule) {
    return policy.explain(context).rules().stream().filter(t -> t.ruleId().equals(rule))
        .map(RuleTrace::why).findFirst().orElseThrow();
  }

  // ---- loading -------------------------------------------------------------------------------

  @Test
  void load_undeclaredName_isLocatedAtTheNameInTheFile() {
    ConfigException e = fail("  - id: big\n    deny: { tools: [pay], when_cel: \"args.amount > "
        + "limit\" }\n");
    assertThat(e.problems()).hasSize(1);
    // Line 7, the value's quote at column 37, 'limit' 15 code points into the expression.
    assertThat(e.getMessage()).isEqualTo("policy.yaml:7:52: rule 'big': 'when_cel': undeclared "
        + "reference to 'limit'; the variables are request, principal, args and time");
  }

  @Test
  void load_misspeltField_isATypeError_locatedInABlockScalar() {
    ConfigException e = fail("  - id: m\n    allow:\n      when_cel: |\n"
        + "        request.method == \"tools/call\" &&\n          request.nmae == \"pay\"\n");
    assertThat(e.getMessage()).isEqualTo("policy.yaml:10:18: rule 'm': 'when_cel': undefined "
        + "field 'nmae'; request has method, backend and name; principal has id, roles and "
        + "attributes");
  }

  @Test
  void load_nonBoolResult_isAnError() {
    ConfigException e = fail("  - id: n\n    allow: { when_cel: \"args.amount + 1\" }\n");
    assertThat(e.getMessage()).startsWith("policy.yaml:7:")
        .contains("rule 'n': 'when_cel': expected type 'bool' but found 'int'");
  }

  @Test
  void load_wrongOperandTypes_isAnError() {
    ConfigException e = fail("  - id: t\n    allow: { when_cel: 'principal.id > 3' }\n");
    assertThat(e.getMessage()).contains("rule 't': 'when_cel': found no matching overload for "
        + "'_>_' applied to '(string, int)'");
  }

  @Test
  void load_syntaxErrors_areAllReported() {
    ConfigException e = fail("  - id: a\n    allow: { when_cel: 'args.x >' }\n"
        + "  - id: b\n    deny: { when_cel: 'args.y == \"unterminated' }\n");
    assertThat(e.problems()).extracting(ConfigException.Problem::subject)
        .contains("rule 'a'", "rule 'b'");
    assertThat(e.problems().get(0).message()).startsWith("'when_cel': mismatched input '<EOF>'");
  }

  @Test
  void load_hostileExpressions_areBoundedErrors() {
    String deep = "(".repeat(300) + "true" + ")".repeat(300);
    ConfigException nested = fail("  - id: deep\n    allow: { when_cel: '" + deep + "' }\n");
    assertThat(nested.getMessage()).contains("rule 'deep': 'when_cel': the expression is nested "
        + "more than 100 levels deep; split it");
    String chain = "args.x" + " + 1".repeat(500) + " > 0";
    ConfigException longChain = fail("  - id: chain\n    allow: { when_cel: '" + chain + "' }\n");
    assertThat(longChain.getMessage()).contains("rule 'chain': 'when_cel': the expression is "
        + "nested more than 100 levels deep");
    String huge = "true" + " || args.x == 1".repeat(1000);
    ConfigException tooLong = fail("  - id: long\n    allow: { when_cel: '" + huge + "' }\n");
    assertThat(tooLong.getMessage()).contains("rule 'long': 'when_cel': the expression is "
        + "longer than 10000 characters");
    // A long flat disjunction within the limits compiles (CEL balances it) and decides.
    String wide = "false" + " || args.x == 1".repeat(600);
    assertThat(denies(wide, JSON.readTree("{\"x\": 1}"))).isTrue();
    assertThat(denies(wide, JSON.readTree("{\"x\": 2}"))).isFalse();
  }

  @Test
  void docsExamples_compileAndDecide() {
    // The examples of docs/policy.md, "CEL conditions".
    PolicyEngine policy = PolicyEngine.parse("roles: { finance: {} }\nrules:\n"
        + "  - id: big-payments-need-finance\n"
        + "    deny:\n"
        + "      tools: [billing__pay]\n"
        + "      when_cel: 'args.amount > 1000 && !principal.roles.exists(r, r == \"finance\")'\n"
        + "    reason: payments over 1000 need the finance team\n"
        + "  - id: weekday-transfers-in-the-eu\n"
        + "    allow:\n"
        + "      tools: [billing__transfer]\n"
        + "      when_cel: >-\n"
        + "        args.currency == \"EUR\" && args.iban.matches(\"^[A-Z]{2}[0-9]{2}\")\n"
        + "        && \"payments\" in principal.attributes.team\n"
        + "        && time.getDayOfWeek(\"Europe/Berlin\") in [1, 2, 3, 4, 5]\n",
        "policy.yaml", CEL);
    Principal payer = new Principal("ann", Set.of(), Map.of("team", List.of("payments")));
    RequestContext transfer = RequestContext.of(payer, Request.toolCall("b", "billing__transfer",
        JSON.readTree("{\"currency\": \"EUR\", \"iban\": \"DE89370400440532013000\"}")),
        MONDAY_NOON);
    assertThat(policy.decide(transfer).effect()).isEqualTo(Effect.ALLOW);
    RequestContext pay = RequestContext.of(payer, Request.toolCall("b", "billing__pay",
        JSON.readTree("{\"amount\": 5000}")), MONDAY_NOON);
    assertThat(policy.decide(pay).rules()).containsExactly("big-payments-need-finance");
  }

  // ---- the variables -------------------------------------------------------------------------

  @Test
  void variables_rolesWithInheritance_attributes_args_time() {
    PolicyEngine policy = policy("  - id: finance-pays-weekdays\n    allow:\n      tools: [pay]\n"
        + "      when_cel: >-\n"
        + "        principal.roles.exists(r, r == \"finance\") &&\n"
        + "        \"payments\" in principal.attributes.team &&\n"
        + "        args.amount <= 10000 && args.to.startsWith(\"DE\") &&\n"
        + "        time.getDayOfWeek(\"Europe/Berlin\") in [1, 2, 3, 4, 5] &&\n"
        + "        request.backend == \"bank\" && request.name == \"pay\" && "
        + "request.method == \"tools/call\"\n");
    Principal admin = new Principal("ann", Set.of("admin"), Map.of("team", List.of("payments")));
    JsonNode ok = JSON.readTree("{\"amount\": 9000, \"to\": \"DE89\"}");
    assertThat(policy.decide(call(admin, "pay", ok)).effect()).isEqualTo(Effect.ALLOW);
    // admin holds finance through inheritance; staff does not.
    Principal staff = new Principal("bob", Set.of("staff"), Map.of("team", List.of("payments")));
    assertThat(policy.decide(call(staff, "pay", ok)).effect()).isEqualTo(Effect.DENY);
    Principal noTeam = new Principal("cy", Set.of("admin"), Map.of());
    assertThat(policy.decide(call(noTeam, "pay", ok)).effect()).isEqualTo(Effect.DENY);
    assertThat(policy.decide(call(admin, "pay", JSON.readTree("{\"amount\": 20000, \"to\": "
        + "\"DE89\"}"))).effect()).isEqualTo(Effect.DENY);
    RequestContext saturday = new RequestContext(admin, Request.toolCall("bank", "pay", ok), null,
        null, Instant.parse("2025-01-04T12:00:00Z"));
    assertThat(policy.decide(saturday).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void whenCel_combinesWithWhen_allMustHold() {
    PolicyEngine policy = policy("  - id: a\n    allow:\n      tools: [pay]\n"
        + "      when: { \"/amount\": { lte: 100 } }\n      when_cel: 'args.to != \"XX\"'\n");
    assertThat(policy.decide(call("{\"amount\": 5, \"to\": \"DE\"}")).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(policy.decide(call("{\"amount\": 500, \"to\": \"DE\"}")).effect())
        .isEqualTo(Effect.DENY);
    assertThat(policy.decide(call("{\"amount\": 5, \"to\": \"XX\"}")).effect())
        .isEqualTo(Effect.DENY);
  }

  @Test
  void request_withoutBackendOrName_seesEmptyStrings() {
    PolicyEngine policy = policy("  - id: ping\n    allow: { methods: [ping], when_cel: "
        + "'request.backend == \"\" && request.name == \"\"' }\n");
    assertThat(policy.decide(RequestContext.of(Principal.ANONYMOUS, Request.of("ping"),
        MONDAY_NOON)).effect()).isEqualTo(Effect.ALLOW);
  }

  // ---- failing closed ------------------------------------------------------------------------

  @Test
  void evaluationError_inDeny_matches_andInAllow_doesNot() {
    // No 'amount' in the arguments: CEL's "no such key" error leaves the condition undecided.
    assertThat(denies("args.amount > 1000", JSON.readTree("{}"))).isTrue();
    PolicyEngine allow = policy("  - id: small\n    allow: { tools: [pay], when_cel: "
        + "'args.amount <= 1000' }\n");
    assertThat(allow.decide(call("{}"))).isEqualTo(Decision.defaultDeny());
    // A string where a number is compared: no overload at run time, undecided too.
    assertThat(denies("args.amount > 1000", JSON.readTree("{\"amount\": \"5000\"}"))).isTrue();
    assertThat(allow.decide(call("{\"amount\": \"5\"}"))).isEqualTo(Decision.defaultDeny());
    assertThat(denies("args.amount > 1000", JSON.readTree("{\"amount\": 5}"))).isFalse();
    assertThat(allow.decide(call("{\"amount\": 5}")).effect()).isEqualTo(Effect.ALLOW);
  }

  @Test
  void confirm_undecided_asksAHuman() {
    PolicyEngine policy = policy("  - id: all\n    allow: { tools: [pay] }\n"
        + "  - id: big\n    confirm: { tools: [pay], when_cel: 'args.amount > 1000' }\n");
    assertThat(policy.decide(call("{\"amount\": [5000]}")).effect()).isEqualTo(Effect.CONFIRM);
    assertThat(policy.decide(call("{\"amount\": 5}")).effect()).isEqualTo(Effect.ALLOW);
  }

  @Test
  void overflow_isUndecided() {
    assertThat(denies("args.n * 2 > 0", JSON.readTree("{\"n\": 9223372036854775807}"))).isTrue();
    assertThat(denies("args.n * 2 < 0", JSON.readTree("{\"n\": 9223372036854775807}"))).isTrue();
    assertThat(denies("args.n * 2 < 0", JSON.readTree("{\"n\": 4}"))).isFalse();
  }

  @Test
  void anErrorAnotherOperandDecides_doesNotMatter() {
    // CEL's logic: false && error is false, true || error is true.
    assertThat(denies("has(args.x) && args.x > 5", JSON.readTree("{}"))).isFalse();
    assertThat(denies("args.missing > 5 && false", JSON.readTree("{}"))).isFalse();
    assertThat(denies("args.missing > 5 || true", JSON.readTree("{}"))).isTrue();
  }

  // ---- numbers -------------------------------------------------------------------------------

  @Test
  void numbers_compareAcrossIntUintAndDouble_whateverTheParserMadeOfThem() {
    for (JsonMapper mapper : List.of(JSON, EXACT)) {
      assertThat(denies("args.a > 1000", mapper.readTree("{\"a\": 1000.5}"))).isTrue();
      assertThat(denies("args.a > 1000", mapper.readTree("{\"a\": 1000.0}"))).isFalse();
      assertThat(denies("args.a == 1000", mapper.readTree("{\"a\": 1000.0}"))).isTrue();
      // A whole number is an int, so integer arithmetic works on it however it was written.
      assertThat(denies("args.a + 1 == 1001", mapper.readTree("{\"a\": 1e3}"))).isTrue();
      assertThat(denies("args.a == 0.1", mapper.readTree("{\"a\": 0.1}"))).isTrue();
      // 2^63 is above int: a uint, still comparable.
      assertThat(denies("args.a > 9223372036854775807",
          mapper.readTree("{\"a\": 9223372036854775808}"))).isTrue();
      assertThat(denies("args.a < -9223372036854775807",
          mapper.readTree("{\"a\": -9223372036854775808}"))).isTrue();
    }
  }

  @Test
  void numbers_thatCelCannotHoldExactly_areUndecided() {
    // 1000.0000000000000001 as a double is 1000.0, which would not be > 1000: undecided instead.
    JsonNode fine = EXACT.readTree("{\"a\": 1000.0000000000000001}");
    assertThat(denies("args.a > 1000", fine)).isTrue();
    PolicyEngine allow = policy("  - id: small\n    allow: { tools: [pay], when_cel: "
        + "'args.a <= 1000' }\n");
    assertThat(allow.decide(call(Principal.of("ann"), "pay", fine)))
        .isEqualTo(Decision.defaultDeny());
    assertThat(why(allow, call(Principal.of("ann"), "pay", fine), "small")).isEqualTo(
        "when_cel args.a <= 1000 is undecided (the number at /a cannot "
            + "be represented exactly in CEL (it is not a 64-bit integer, and no double equals "
            + "it)), counts as no match for this allow rule");
    // 2^64 + 1: beyond uint, and no double equals it.
    assertThat(denies("args.a > 0", EXACT.readTree("{\"a\": 18446744073709551617}"))).isTrue();
    assertThat(allow.decide(call(Principal.of("ann"), "pay",
        EXACT.readTree("{\"a\": 18446744073709551617}")))).isEqualTo(Decision.defaultDeny());
    // A number the double parser overflowed to infinity.
    assertThat(denies("args.a < 0", JSON.readTree("{\"a\": 1e999999}"))).isTrue();
    // An unrepresentable number the expression does not read does not matter.
    assertThat(denies("args.b > 1", EXACT.readTree("{\"a\": 1000.0000000000000001, \"b\": 0}")))
        .isFalse();
  }

  @Test
  void numbers_2e23_isTheDouble2e23_evenWhereJava17PrintsItLonger() {
    // Java 17 prints the double 2e23 as 1.9999999999999998E23; compared with that, an exact
    // 2e23 looked unrepresentable and an allow rule never matched it.
    PolicyEngine policy = policy("  - id: a\n    allow: { tools: [pay], when_cel: 'args.a == 2e23' }\n");
    assertThat(policy.decide(call(Principal.of("ann"), "pay", EXACT.readTree("{\"a\": 2e23}")))
        .effect()).isEqualTo(Effect.ALLOW);
    assertThat(policy.decide(call(Principal.of("ann"), "pay", JSON.readTree("{\"a\": 2e23}")))
        .effect()).isEqualTo(Effect.ALLOW);
  }

  // ---- hostile arguments ---------------------------------------------------------------------

  @Test
  void hugeList_inAComprehension_isCutOffAtTheIterationLimit() {
    JsonNode args = JSON.readTree("{\"items\": [" + "1,".repeat(200_000) + "1]}");
    PolicyEngine policy = denyWhen("args.items.exists(x, x == 2)");
    assertThat(policy.decide(call(Principal.of("ann"), "pay", args)).effect())
        .isEqualTo(Effect.DENY);
    assertThat(why(policy, call(Principal.of("ann"), "pay", args), "cel"))
        .contains("is undecided (Iteration budget exceeded: 10000)");
    PolicyEngine allow = policy("  - id: all-small\n    allow: { tools: [pay], when_cel: "
        + "'args.items.all(x, x < 5)' }\n");
    assertThat(allow.decide(call(Principal.of("ann"), "pay", args)))
        .isEqualTo(Decision.defaultDeny());
  }

  @Test
  void quadraticReadsOfAHugeList_areCutOffByTheReadBudget() {
    // 9,000 iterations (under the limit) each scanning 9,000 elements: 81 million reads.
    JsonNode args = JSON.readTree("{\"items\": [" + "\"a\",".repeat(8_999) + "\"b\"]}");
    PolicyEngine policy = denyWhen("args.items.all(x, !(\"c\" in args.items))");
    assertThat(why(policy, call(Principal.of("ann"), "pay", args), "cel"))
        .contains("is undecided (the expression read more of the arguments than its budget of "
            + "1000000 units allows)");
  }

  @Test
  void hugeStrings_readOverAndOver_areCutOffByTheReadBudget() {
    String big = "x".repeat(1_000_000);
    JsonNode args = JSON.readTree("{\"s\": \"" + big + "\", \"n\": [1,2,3,4,5,6,7,8,9,10,11,12,"
        + "13,14,15,16,17,18,19,20]}");
    PolicyEngine policy = denyWhen("args.n.exists(i, args.s.contains(\"y\"))");
    assertThat(why(policy, call(Principal.of("ann"), "pay", args), "cel"))
        .contains("is undecided (the expression read more of the arguments than its budget");
    // Read a few times, the same string is fine.
    assertThat(denies("args.s.contains(\"y\") || args.s.endsWith(\"y\")", args)).isFalse();
  }

  @Test
  void deeplyNestedArguments_areReadLazily() {
    JsonNode args = JSON.readTree("{\"a\": " + "[".repeat(400) + "]".repeat(400) + ", \"b\": 1}");
    assertThat(denies("args.b == 1", args)).isTrue();
    assertThat(denies("size(args.a) == 1", args)).isTrue();
  }

  // ---- explain and policy tests --------------------------------------------------------------

  @Test
  void explain_showsTrueFalseAndUndecided() {
    PolicyEngine policy = policy("  - id: yes\n    allow: { tools: [pay], when_cel: 'args.a > 1' }\n"
        + "  - id: no\n    allow: { tools: [pay], when_cel: 'args.a > 100' }\n"
        + "  - id: maybe\n    deny: { tools: [pay], when_cel: 'args.b > 1' }\n");
    List<RuleTrace> rules = policy.explain(call("{\"a\": 5}")).rules();
    assertThat(rules.get(0).why()).isEqualTo("tool 'pay' matches 'pay'; when_cel args.a > 1 is true");
    assertThat(rules.get(1).why()).isEqualTo("when_cel args.a > 100 is false");
    assertThat(rules.get(2).why()).isEqualTo("tool 'pay' matches 'pay'; when_cel args.b > 1 is undecided (key 'b' is not "
        + "present in map), counts as a match for this deny rule");
  }

  @Test
  void policyTests_runOnAPolicyWithCel() {
    PolicyEngine policy = policy("  - id: finance-pays\n    allow: { tools: [pay], when_cel: "
        + "'principal.roles.exists(r, r == \"finance\") && args.amount <= 10000' }\n");
    PolicyTestReport report = PolicyTests.run(policy, "tests:\n"
        + "  - name: admins pay through finance\n"
        + "    principal: { id: ann, roles: [admin] }\n"
        + "    request: { tool: pay, arguments: { amount: 9000 } }\n"
        + "    expect: allow\n    rules: [finance-pays]\n"
        + "  - name: too much\n"
        + "    principal: { id: ann, roles: [admin] }\n"
        + "    request: { tool: pay, arguments: { amount: 90000 } }\n"
        + "    expect: deny\n"
        + "  - name: staff do not pay\n"
        + "    principal: { id: bob, roles: [staff] }\n"
        + "    request: { tool: pay, arguments: { amount: 1 } }\n"
        + "    expect: deny\n", "policy.test.yaml");
    assertThat(report.render()).isEqualTo("PASS admins pay through finance\nPASS too much\n"
        + "PASS staff do not pay\n3 passed, 0 failed");
  }

  @Test
  void compiledExpressions_areSharedSafelyAcrossThreads() throws Exception {
    PolicyEngine policy = denyWhen("args.amount > 1000");
    List<Thread> threads = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
    for (int t = 0; t < 4; t++) {
      int seed = t;
      threads.add(new Thread(() -> {
        for (int i = 0; i < 2_000; i++) {
          int amount = (i * 7 + seed) % 2_000;
          Effect effect = policy.decide(call("{\"amount\": " + amount + "}")).effect();
          if ((effect == Effect.DENY) != (amount > 1000)) {
            wrong.incrementAndGet();
          }
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(wrong).hasValue(0);
  }
}
