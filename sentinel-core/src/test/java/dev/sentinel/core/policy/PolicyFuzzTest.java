package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.config.ConfigException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzz target for the policy loader and engine ({@code benchmarks/fuzz PolicyFuzzTest}): any
 * text loads or fails with located problems, and a policy that loads decides every request the
 * same through its index as by a linear scan.
 */
class PolicyFuzzTest {
  private static final List<Principal> PRINCIPALS = List.of(
      Principal.of("alice", "readonly"), Principal.of("bob", "developer", "admin"),
      Principal.of("eve"));
  private static final List<String> ARGUMENTS = List.of("{}", "{\"n\":10}", "{\"n\":\"3\"}",
      "{\"path\":\"/w/a\",\"n\":1.5}", "{\"path\":\"/w/../etc\"}", "{\"sql\":\"DROP x\"}",
      "{\"a\":[1,\"x\",null,{\"b\":true}]}");
  private static final List<String> NAMES = List.of("fs__read", "db__query", "a", "x/y", "");
  private static final List<String> METHODS = List.of(Request.TOOLS_CALL, Request.TOOLS_CALL,
      Request.PROMPTS_GET, Request.RESOURCES_READ, "tools/list", "ping");

  /**
   * Any text is a policy or a {@link ConfigException} whose problems name the source and say
   * what is wrong. A policy decides requests without throwing, its index agrees with a linear
   * scan, and its explanation agrees with its decision.
   */
  @FuzzTest
  void parse_anyText_isPolicyOrLocatedProblems_andIndexAgreesWithScan(FuzzedDataProvider data) {
    int pick = data.consumeInt();
    String yaml = data.consumeRemainingAsString();
    PolicyEngine engine;
    try {
      engine = PolicyEngine.parse(yaml, "fuzz.yaml");
    } catch (ConfigException e) {
      assertThat(e.problems()).isNotEmpty().allSatisfy(problem -> {
        assertThat(problem.source()).isEqualTo("fuzz.yaml");
        assertThat(problem.message()).isNotBlank();
      });
      return;
    }
    for (int i = 0; i < 6; i++) {
      // a mask, not Math.abs: Math.abs(Integer.MIN_VALUE) is negative (the fuzzer found it)
      int k = ((pick >>> (i * 5)) + i) & Integer.MAX_VALUE;
      String method = METHODS.get(k % METHODS.size());
      boolean named = !method.equals("ping") && !method.equals("tools/list");
      Request request = new Request(method, k % 2 == 0 ? "fs" : "db",
          named ? NAMES.get(k % NAMES.size()) : null,
          Requests.json(ARGUMENTS.get(k % ARGUMENTS.size())));
      RequestContext context = RequestContext.of(PRINCIPALS.get(k % PRINCIPALS.size()), request,
          Instant.parse("2025-01-06T10:00:00Z").plusSeconds(k % 604_800));

      Decision decision = engine.decide(context);

      assertThat(decision).isEqualTo(engine.decideLinear(context));
      assertThat(engine.visible(context)).isEqualTo(engine.visibleLinear(context));
      assertThat(engine.explain(context).decision()).isEqualTo(decision);
    }
  }

  /**
   * Found by this target: a numeric condition on YAML's {@code .inf} makes the compiler throw
   * Jackson's JsonNodeException ("cannot convert value Infinity to BigDecimal",
   * PolicyCompiler.operator) instead of reporting the rule's problem.
   */
  @Test
  void parse_infiniteNumberInCondition_isALocatedProblem() {
    String yaml = "rules:\n  - id: r\n    allow: { tools: [x], when: { \"/a\": { lte: .inf } } }\n";

    assertThatThrownBy(() -> PolicyEngine.parse(yaml, "fuzz.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fuzz.yaml:3");
  }
}
