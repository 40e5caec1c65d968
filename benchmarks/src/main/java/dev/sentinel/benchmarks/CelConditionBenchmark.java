package dev.sentinel.benchmarks;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.policy.ConditionInput;
import dev.sentinel.core.policy.ConditionLanguage;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.policy.cel.CelConditionLanguage;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a typical CEL condition costs, beside the same condition written as typed {@code when}
 * conditions, in one run. The condition: {@code args.amount > 1000 &&
 * principal.roles.exists(r, r == "finance")} for a principal holding {@code finance} and an
 * amount of 5,000 (it holds).
 *
 * <ul>
 *   <li>{@code celExpression}: the compiled expression alone ({@code Expression.evaluate});
 *   <li>{@code celDecide}: {@code PolicyEngine.decide} of an allow rule with that
 *       {@code when_cel};
 *   <li>{@code typedDecide}: the same rule as {@code roles: [finance]} and
 *       {@code when: { "/amount": { gt: 1000 } }};
 *   <li>{@code celHostileList}: a deny rule's {@code args.items.exists(x, x == 2)} over 200,000
 *       items, cut off after 10,000 iterations (undecided, denied);
 *   <li>{@code baseline}: returns a prebuilt decision.
 * </ul>
 *
 * <p>Run: {@code benchmarks/run CelConditionBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CelConditionBenchmark {
  private static final String CONDITION =
      "args.amount > 1000 && principal.roles.exists(r, r == \"finance\")";
  private static final PolicyOptions CEL =
      PolicyOptions.builder().language(CelConditionLanguage.create()).build();

  private ConditionLanguage.Expression expression;
  private ConditionInput input;
  private PolicyEngine celPolicy;
  private PolicyEngine typedPolicy;
  private PolicyEngine hostilePolicy;
  private RequestContext payment;
  private RequestContext hostile;
  private Decision prebuilt;

  @Setup
  public void setUp() {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    payment = call(nodes.objectNode().put("amount", 5000).put("to", "DE89370400440532013000"));
    expression = CelConditionLanguage.create().compile(CONDITION);
    input = ConditionInput.of(payment, Set.of("finance"));
    String roles = "roles: { finance: {} }\nrules:\n";
    celPolicy = PolicyEngine.parse(roles + "  - id: pay\n    allow: { tools: [pay], when_cel: '"
        + CONDITION + "' }\n", "cel.yaml", CEL);
    typedPolicy = PolicyEngine.parse(roles + "  - id: pay\n    allow: { tools: [pay], roles: "
        + "[finance], when: { \"/amount\": { gt: 1000 } } }\n", "typed.yaml");
    hostilePolicy = PolicyEngine.parse(roles + "  - id: all\n    allow: { tools: [pay] }\n"
        + "  - id: two\n    deny: { tools: [pay], when_cel: 'args.items.exists(x, x == 2)' }\n",
        "hostile.yaml", CEL);
    ObjectNode args = nodes.objectNode();
    ArrayNode items = args.putArray("items");
    for (int i = 0; i < 200_000; i++) {
      items.add(1);
    }
    hostile = call(args);
    prebuilt = celPolicy.decide(payment);
    if (!expression.evaluate(input).value() || !prebuilt.permits()
        || !typedPolicy.decide(payment).permits() || hostilePolicy.decide(hostile).permits()) {
      throw new IllegalStateException("the policies do not decide as intended");
    }
  }

  private static RequestContext call(ObjectNode arguments) {
    return RequestContext.of(Principal.of("ann", "finance"),
        Request.toolCall("bank", "pay", arguments), Instant.parse("2026-03-02T10:00:00Z"));
  }

  /** Returns a decision made earlier: the floor. */
  @Benchmark
  public Decision baseline() {
    return prebuilt;
  }

  /** The compiled CEL expression alone. */
  @Benchmark
  public ConditionLanguage.Result celExpression() {
    return expression.evaluate(input);
  }

  /** A whole decision by an allow rule with the CEL condition. */
  @Benchmark
  public Decision celDecide() {
    return celPolicy.decide(payment);
  }

  /** A whole decision by the same rule written with roles and a typed when condition. */
  @Benchmark
  public Decision typedDecide() {
    return typedPolicy.decide(payment);
  }

  /** {@code exists} over 200,000 items: stopped after 10,000 iterations, denied. */
  @Benchmark
  public Decision celHostileList() {
    return hostilePolicy.decide(hostile);
  }
}
