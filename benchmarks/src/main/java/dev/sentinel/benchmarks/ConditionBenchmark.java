package dev.sentinel.benchmarks;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.policy.PolicyEngine;
import java.time.Instant;
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
 * What hostile arguments cost the policy, each a whole {@code PolicyEngine.decide} of a deny rule
 * on {@code t}: {@code catastrophicRegex} runs {@code (a+)+$} (which backtracks without end in
 * Java's engine) against 50,000 {@code a}s and a {@code !}, and is cut off by the regex budget;
 * {@code ordinaryRegex} runs the README's {@code (?i)\b(drop|truncate|delete)\b} against a
 * 50,001-character SQL text that does not match (the same length, so the difference is the
 * backtracking the budget allowed); {@code wildcardMillion} checks {@code /xs/*} against an array
 * of a million elements, cut off after 10,000; {@code typeMismatch} decides a deny on
 * {@code /amount gt 1000} for {@code "0x1388"}. {@code baseline} returns a prebuilt decision.
 *
 * <p>Run: {@code benchmarks/run ConditionBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ConditionBenchmark {
  private PolicyEngine regexPolicy;
  private PolicyEngine ordinaryPolicy;
  private PolicyEngine wildcardPolicy;
  private PolicyEngine amountPolicy;
  private RequestContext catastrophic;
  private RequestContext ordinary;
  private RequestContext million;
  private RequestContext hex;
  private Decision prebuilt;

  @Setup
  public void setUp() {
    regexPolicy = deny("{ \"/s\": { regex: \"(a+)+$\" } }");
    ordinaryPolicy = deny("{ \"/s\": { regex: \"(?i)\\\\b(drop|truncate|delete)\\\\b\" } }");
    wildcardPolicy = deny("{ \"/xs/*\": { equals: 1 } }");
    amountPolicy = deny("{ \"/amount\": { gt: 1000 } }");
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    catastrophic = call(nodes.objectNode().put("s", "a".repeat(50_000) + "!"));
    String sql = "select " + "a, ".repeat(16_664) + "b from t";
    ordinary = call(nodes.objectNode().put("s", sql.substring(0, 50_001)));
    ObjectNode args = nodes.objectNode();
    ArrayNode xs = args.putArray("xs");
    for (int i = 0; i < 1_000_000; i++) {
      xs.add(0);
    }
    million = call(args);
    hex = call(nodes.objectNode().put("amount", "0x1388"));
    prebuilt = regexPolicy.decide(catastrophic);
    if (prebuilt.permits() || ordinaryPolicy.decide(ordinary).rules().contains("r")
        || wildcardPolicy.decide(million).permits() || amountPolicy.decide(hex).permits()) {
      throw new IllegalStateException("the policies do not decide as intended");
    }
  }

  private static PolicyEngine deny(String when) {
    return PolicyEngine.parse("rules:\n  - id: all\n    allow: { tools: [t] }\n"
        + "  - id: r\n    deny:\n      tools: [t]\n      when: " + when + "\n", "bench.yaml");
  }

  private static RequestContext call(ObjectNode arguments) {
    return RequestContext.of(Principal.of("ann"), Request.toolCall("b", "t", arguments),
        Instant.parse("2026-03-02T10:00:00Z"));
  }

  /** Returns a decision made earlier: the floor. */
  @Benchmark
  public Decision baseline() {
    return prebuilt;
  }

  /** {@code (a+)+$} against 50,000 a's and a '!': stopped by the budget, denied. */
  @Benchmark
  public Decision catastrophicRegex() {
    return regexPolicy.decide(catastrophic);
  }

  /** The README's SQL regex against 50,001 characters that do not match: allowed. */
  @Benchmark
  public Decision ordinaryRegex() {
    return ordinaryPolicy.decide(ordinary);
  }

  /** A deny-any wildcard over a million elements: stopped after 10,000, denied. */
  @Benchmark
  public Decision wildcardMillion() {
    return wildcardPolicy.decide(million);
  }

  /** {@code /amount gt 1000} for the string {@code "0x1388"}: a type mismatch, denied. */
  @Benchmark
  public Decision typeMismatch() {
    return amountPolicy.decide(hex);
  }
}
