package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.GatewayConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The condition-language extension point: registration, the located error for a language that
 * was not registered, failing closed on undecided and throwing expressions, errors located
 * inside the expression, and explanations. Uses {@link Words}, a small real language.
 */
class ConditionLanguageTest {
  private static final PolicyOptions WORDS = PolicyOptions.builder().language(new Words()).build();
  private static final Principal ANN = Principal.of("ann", "admin");

  private static PolicyEngine policy(String rules) {
    return PolicyEngine.parse("roles:\n  admin: { inherits: [finance] }\n  finance: {}\nrules:\n"
        + rules, "policy.yaml", WORDS);
  }

  private static ConfigException fail(String rules, PolicyOptions options) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> PolicyEngine.parse(
        "roles: { finance: {} }\nrules:\n" + rules, "policy.yaml", options));
    assertThat(e).as("expected a ConfigException").isNotNull();
    return e;
  }

  private static Decision decide(PolicyEngine policy, String arguments) {
    return policy.decide(Requests.tool(ANN, "pay", arguments));
  }

  @Test
  void whenCel_withoutTheCelLanguage_isALocatedErrorNamingItsModule() {
    ConfigException e = fail("  - id: big\n    deny: { tools: [pay], when_cel: \"args.amount > 1\" }\n",
        PolicyOptions.defaults());
    assertThat(e.problems()).hasSize(1);
    assertThat(e.getMessage()).startsWith("policy.yaml:4:27: rule 'big': 'when_cel' is not "
        + "available here: CEL (Common Expression Language) conditions are in the module "
        + "sentinel-policy-cel (dev.sentinel:sentinel-policy-cel)")
        .contains("PolicyOptions.builder().language(CelConditionLanguage.create())");
  }

  @Test
  void misspeltLanguageKey_suggestsTheRegisteredOne() {
    ConfigException e = fail("  - id: r\n    allow: { when_tset: \"true\" }\n", WORDS);
    assertThat(e.getMessage()).contains("unknown key 'when_tset'")
        .contains("when_test").contains("did you mean 'when_test'?");
  }

  @Test
  void expression_decides_andCombinesWithWhen() {
    PolicyEngine policy = policy("  - id: pay\n    allow:\n      tools: [pay]\n"
        + "      when: { \"/amount\": { lte: 100 } }\n      when_test: \"arg note\"\n");
    assertThat(decide(policy, "{\"amount\": 5, \"note\": \"x\"}").effect()).isEqualTo(Effect.ALLOW);
    assertThat(decide(policy, "{\"amount\": 5}").effect()).isEqualTo(Effect.DENY);
    assertThat(decide(policy, "{\"amount\": 500, \"note\": \"x\"}").effect())
        .isEqualTo(Effect.DENY);
  }

  @Test
  void undecided_isAMatchForDenyAndConfirm_andNoMatchForAllow() {
    assertThat(decide(policy("  - id: all\n    allow: { tools: [pay] }\n"
        + "  - id: d\n    deny: { tools: [pay], when_test: undecided }\n"), "{}").rules())
        .containsExactly("d");
    assertThat(decide(policy("  - id: all\n    allow: { tools: [pay] }\n"
        + "  - id: c\n    confirm: { tools: [pay], when_test: undecided }\n"), "{}").effect())
        .isEqualTo(Effect.CONFIRM);
    assertThat(decide(policy("  - id: a\n    allow: { tools: [pay], when_test: undecided }\n"),
        "{}")).isEqualTo(Decision.defaultDeny());
  }

  @Test
  void throwingExpression_isUndecided_andFailsClosed() {
    PolicyEngine deny = policy("  - id: all\n    allow: { tools: [pay] }\n"
        + "  - id: d\n    deny: { tools: [pay], when_test: throw }\n");
    assertThat(decide(deny, "{}").rules()).containsExactly("d");
    PolicyEngine allow = policy("  - id: a\n    allow: { tools: [pay], when_test: throw }\n");
    assertThat(decide(allow, "{}")).isEqualTo(Decision.defaultDeny());
    assertThat(allow.explain(Requests.tool(ANN, "pay", "{}")).rules().get(0).why())
        .endsWith("when_test throw is undecided (the when_test expression failed "
            + "(IllegalStateException)), counts as no match for this allow rule");
  }

  @Test
  void input_rolesIncludeWhatTheyInherit() {
    PolicyEngine policy = policy("  - id: a\n    allow: { tools: [pay], when_test: \"role finance\" }\n");
    assertThat(decide(policy, "{}").effect()).isEqualTo(Effect.ALLOW);
    assertThat(policy.decide(Requests.tool(Principal.of("bob", "other"), "pay")).effect())
        .isEqualTo(Effect.DENY);
  }

  @Test
  void explain_saysWhatTheExpressionGave() {
    PolicyEngine policy = policy("  - id: yes\n    allow: { tools: [pay], when_test: \"true\" }\n"
        + "  - id: no\n    allow: { tools: [pay], when_test: \"false\" }\n"
        + "  - id: maybe\n    deny: { tools: [pay], when_test: undecided }\n");
    List<RuleTrace> rules = policy.explain(Requests.tool(ANN, "pay", "{}")).rules();
    assertThat(rules.get(0).why()).isEqualTo("tool 'pay' matches 'pay'; when_test true is true");
    assertThat(rules.get(1).matched()).isFalse();
    assertThat(rules.get(1).why()).isEqualTo("when_test false is false");
    assertThat(rules.get(2).why()).endsWith("when_test undecided is undecided (the words say "
        + "so), counts as a match for this deny rule");
  }

  @Test
  void visibility_ignoresExpressions_likeWhen() {
    PolicyEngine policy = policy("  - id: a\n    allow: { tools: [pay], when_test: \"false\" }\n"
        + "  - id: d\n    deny: { tools: [pay], when_test: \"true\" }\n");
    assertThat(policy.visible(Requests.tool(ANN, "pay"))).isTrue();
  }

  @Test
  void compileErrors_areLocatedAtTheCharacterInTheFile() {
    String rules = "  - id: plain\n    allow: { when_test: arg x! }\n"
        + "  - id: double\n    allow: { when_test: \"arg \\\"x\\\" !\" }\n"
        + "  - id: single\n    allow: { when_test: 'arg ''x'' !' }\n"
        + "  - id: literal\n    allow:\n      when_test: |\n        arg x\n          and !\n"
        + "  - id: folded\n    allow:\n      when_test: >-\n        arg x\n        and y !\n"
        + "  - id: nextline\n    allow:\n      when_test:\n        \"arg !\"\n";
    ConfigException e = fail(rules, WORDS);
    assertThat(e.problems()).extracting(p -> p.subject() + " " + p.line() + ":" + p.column())
        .containsExactly("rule 'plain' 4:30", "rule 'double' 6:36", "rule 'single' 8:36",
            "rule 'literal' 13:15", "rule 'folded' 18:15", "rule 'nextline' 22:14");
    assertThat(e.problems().get(0).message()).isEqualTo("'when_test': '!' is not a word");
  }

  @Test
  void compileErrorThatCannotBeMapped_isAtTheValue_withItsPositionInTheExpression() {
    // A double-quoted scalar folded over two lines: positions on its second line are not mapped.
    ConfigException e = fail("  - id: r\n    allow: { when_test: \"arg x\n      and !\" }\n",
        WORDS);
    assertThat(e.problems().get(0).line()).isEqualTo(4);
    assertThat(e.problems().get(0).column()).isEqualTo(25);
    assertThat(e.problems().get(0).message())
        .isEqualTo("'when_test': '!' is not a word (at line 1, column 11 of the expression)");
  }

  @Test
  void nonTextExpression_isAnError() {
    ConfigException e = fail("  - id: r\n    allow: { when_test: [a, b] }\n", WORDS);
    assertThat(e.getMessage()).contains("rule 'r': 'when_test' expects one expression (text)");
  }

  @Test
  void options_checkKeysAsTheyAreSet() {
    assertThatThrownBy(() -> PolicyOptions.builder().language(new Words("cel")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'cel' must be when_");
    assertThatThrownBy(() -> PolicyOptions.builder().language(new Words()).language(new Words()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("registered twice");
    assertThat(WORDS.language("when_test")).isPresent();
    assertThat(PolicyOptions.defaults().languages()).isEmpty();
  }

  @Test
  void gatewayConfig_passesTheOptionsToItsInlinePolicy() {
    String yaml = "backends:\n  - name: b\n    stdio: { command: cat }\n"
        + "policy:\n  rules:\n    - id: r\n      allow: { when_test: \"true\" }\n";
    assertThat(GatewayConfig.parse(yaml, "gw.yaml", Path.of("."), Map.of(), WORDS).policy()
        .ruleCount()).isEqualTo(1);
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> GatewayConfig.parse(yaml, "gw.yaml", Path.of("."), Map.of()));
    assertThat(e.getMessage()).contains("gw.yaml:7:16: rule 'r': unknown key 'when_test'");
  }

  @Test
  void conditionInput_of_holdsTheGivenRoles() {
    ConditionInput input = ConditionInput.of(Requests.tool(ANN, "pay"), Set.of("x"));
    assertThat(input.roles()).containsExactly("x");
    assertThat(input.request().name()).isEqualTo("pay");
    assertThat(input.time()).isEqualTo(Requests.MONDAY_NOON);
  }

  /**
   * A tiny condition language: {@code true}, {@code false}, {@code undecided}, {@code throw},
   * {@code role NAME} (the principal holds it, after inheritance), {@code arg NAME} (the
   * argument is present), possibly followed by {@code and ...}; a {@code !} anywhere is an error
   * located at it.
   */
  static final class Words implements ConditionLanguage {
    private final String key;

    Words() {
      this("when_test");
    }

    Words(String key) {
      this.key = key;
    }

    @Override
    public String key() {
      return key;
    }

    @Override
    public Expression compile(String expression) {
      int line = 1;
      int column = 1;
      for (int c : expression.codePoints().toArray()) {
        if (c == '!') {
          throw new InvalidExpressionException(List.of(new Issue(line, column,
              "'!' is not a word")));
        }
        if (c == '\n') {
          line++;
          column = 1;
        } else {
          column++;
        }
      }
      String[] words = expression.strip().split("\\s+");
      switch (words[0]) {
        case "true":
          return input -> Result.TRUE;
        case "false":
          return input -> Result.FALSE;
        case "undecided":
          return input -> Result.undecided("the words say so");
        case "throw":
          return input -> {
            throw new IllegalStateException("secret argument value");
          };
        case "role":
          return input -> Result.of(input.roles().contains(words[1]));
        case "arg":
          return input -> Result.of(input.arguments().has(words[1]));
        default:
          throw new InvalidExpressionException(List.of(new Issue(0, 0, "unknown word")));
      }
    }
  }

  @Test
  void aDeferredLanguage_isMadeOnItsFirstCompile_once_andCompilesAsItself() {
    AtomicInteger made = new AtomicInteger();
    ConditionLanguage deferred = ConditionLanguage.deferred(new Words().key(), () -> {
      made.incrementAndGet();
      return new Words();
    });
    PolicyOptions options = PolicyOptions.builder().language(deferred).build();
    assertThat(made).as("registering makes nothing").hasValue(0);
    PolicyEngine loaded = PolicyEngine.parse("roles: { finance: {} }\nrules:\n"
        + "  - id: secret\n    deny: { tools: [pay], when_test: \"arg secret\" }\n"
        + "  - id: rest\n    allow: { tools: [pay] }\n", "policy.yaml", options);
    PolicyEngine.parse("roles: { finance: {} }\nrules:\n"
        + "  - id: other\n    allow: { tools: [pay], when_test: \"role finance\" }\n", "policy.yaml", options);
    assertThat(made).as("made once, for the first expression").hasValue(1);
    assertThat(decide(loaded, "{\"secret\": 1}").effect()).isEqualTo(Effect.DENY);
    assertThat(decide(loaded, "{\"amount\": 50}").effect()).isEqualTo(Effect.ALLOW);
  }

  @Test
  void aDeferredLanguage_whoseFactoryMakesAnotherKey_failsItsCompile() {
    ConditionLanguage deferred = ConditionLanguage.deferred("when_other", Words::new);
    assertThatThrownBy(() -> deferred.compile("true"))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("when_other");
  }
}
