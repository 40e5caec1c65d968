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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import tools.jackson.databind.json.JsonMapper;

/**
 * Policy evaluation as the rule count grows, when few rules concern the request's tool: the
 * file has {@code rules} rules, of which all but four name other tools (a mix of exact names and
 * prefix globs, across ten roles), and four concern {@code db__query} (two allows, a
 * conditional deny with a regex, a wildcard allow). {@code baseline} returns a prebuilt decision.
 *
 * <p>Run: {@code benchmarks/run PolicyBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PolicyBenchmark {

  @Param({"10", "100", "1000", "10000"})
  public int rules;

  private PolicyEngine policy;
  private RequestContext allowed;
  private RequestContext denied;
  private Decision prebuilt;

  @Setup
  public void setUp() {
    policy = PolicyEngine.parse(policyWith(rules), "generated.yaml");
    JsonMapper json = JsonMapper.builder().build();
    Principal principal = Principal.of("ann", "role3");
    Instant now = Instant.parse("2026-03-02T10:00:00Z");
    allowed = RequestContext.of(principal,
        Request.toolCall("db", "db__query", json.readTree("{\"sql\":\"select 1\"}")), now);
    denied = RequestContext.of(principal,
        Request.toolCall("db", "db__query", json.readTree("{\"sql\":\"drop table x\"}")), now);
    prebuilt = policy.decide(allowed);
    if (!prebuilt.permits() || policy.decide(denied).permits()) {
      throw new IllegalStateException("the generated policy does not decide as intended");
    }
  }

  /** A policy of {@code count} rules, four of which concern {@code db__query}. */
  static String policyWith(int count) {
    StringBuilder yaml = new StringBuilder("roles:\n");
    for (int r = 0; r < 10; r++) {
      yaml.append("  role").append(r).append(": {}\n");
    }
    yaml.append("rules:\n");
    yaml.append("  - id: db-allow\n    allow: { roles: [role3], tools: [\"db__query\"] }\n");
    yaml.append("  - id: db-allow-admins\n    allow: { roles: [role9], tools: [\"db__*\"] }\n");
    yaml.append("  - id: db-deny-destructive\n    deny:\n      tools: [\"db__query\"]\n")
        .append("      when: { \"/sql\": { regex: \"(?i)\\\\b(drop|truncate|delete)\\\\b\" } }\n");
    yaml.append("  - id: any-read\n    allow: { roles: [role1], tools: [\"*\"] }\n");
    for (int i = 4; i < count; i++) {
      String tool = i % 3 == 0 ? "svc" + i + "__*" : "svc" + (i / 3) + "__tool" + i;
      String effect = i % 7 == 0 ? "deny" : "allow";
      yaml.append("  - id: rule").append(i).append("\n    ").append(effect)
          .append(": { roles: [role").append(i % 10).append("], tools: [\"").append(tool).append("\"] }\n");
    }
    return yaml.toString();
  }

  /** Returns a decision made earlier: the floor. */
  @Benchmark
  public Decision baseline() {
    return prebuilt;
  }

  /** An allowed request. */
  @Benchmark
  public Decision decideAllow() {
    return policy.decide(allowed);
  }

  /** A request denied by a conditional rule. */
  @Benchmark
  public Decision decideDeny() {
    return policy.decide(denied);
  }
}
