package dev.sentinel.benchmarks;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Invoker;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Rate;
import dev.sentinel.core.policy.PolicyEngine;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole pipeline around an in-memory tool: authenticate (fixed identity), kill switch,
 * policy (a realistic 6-rule file), a per-principal limit, invoke, redact and enqueue the audit
 * event (to a sink that discards, so storage is not measured). {@code direct} calls the same
 * tool with no governance: the difference is Sentinel's overhead. Sample mode, so JMH reports
 * p50 and p99.
 *
 * <p>Run: {@code benchmarks/run PipelineBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PipelineBenchmark {
  static final String POLICY = String.join("\n",
      "roles:",
      "  developer: { inherits: [readonly] }",
      "  readonly: {}",
      "rules:",
      "  - id: readonly-tools",
      "    allow: { roles: [readonly], tools: [\"fs__read_*\", \"fs__list_*\", \"search__*\"] }",
      "  - id: devs-write-in-workspace",
      "    allow:",
      "      roles: [developer]",
      "      tools: [\"fs__write_file\"]",
      "      when: { \"/path\": { glob: \"/workspace/**\" } }",
      "  - id: devs-query",
      "    allow: { roles: [developer], tools: [\"db__query\"] }",
      "  - id: no-destructive-sql",
      "    deny:",
      "      tools: [\"db__query\"]",
      "      when: { \"/sql\": { regex: \"(?i)\\\\b(drop|truncate|delete)\\\\b\" } }",
      "    reason: destructive SQL is not allowed through the gateway",
      "  - id: payments-need-a-human",
      "    confirm: { tools: [\"billing__*\"] }",
      "");

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private Sentinel sentinel;
  private Invoker<JsonNode> tool;
  private Call allowed;
  private Call denied;
  private Call notAllowed;

  @Setup(Level.Trial)
  public void setUp() {
    PolicyEngine policy = PolicyEngine.parse(POLICY, "bench.yaml");
    sentinel = Sentinel.builder()
        .authenticator(Authenticator.fixed(Principal.of("ann", "developer")))
        .policy(policy)
        .limits(Limits.of(
            List.of(LimitRule.of("per-user", Rate.parse("1000000000/s"), LimitRule.Key.PRINCIPAL)),
            LocalRateLimiter.create(Clock.system())))
        .audit(AuditDispatcher.builder().sink(new DiscardingSink()).build())
        .build();
    JsonNode result = JSON.readTree("{\"content\":[{\"type\":\"text\",\"text\":\"42 rows\"}]}");
    tool = request -> result;
    allowed = Call.of(Credentials.launch(),
        Request.toolCall("db", "db__query", JSON.readTree("{\"sql\":\"select id, name from users where id = 7\"}")));
    denied = Call.of(Credentials.launch(),
        Request.toolCall("db", "db__query", JSON.readTree("{\"sql\":\"drop table users\"}")));
    notAllowed = Call.of(Credentials.launch(),
        Request.toolCall("shell", "shell__exec", JSON.readTree("{\"cmd\":\"rm -rf /\"}")));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    sentinel.close();
  }

  /** The tool called directly: the baseline. */
  @Benchmark
  public JsonNode direct() throws Exception {
    return tool.invoke(allowed.request());
  }

  /** Allowed by a rule, within the limit, invoked and audited. */
  @Benchmark
  public CallResult<JsonNode> allow() {
    return sentinel.call(allowed, tool);
  }

  /** Denied by a deny rule's regex on the arguments, audited. */
  @Benchmark
  public CallResult<JsonNode> denyByRule() {
    return sentinel.call(denied, tool);
  }

  /** Denied because no rule allows the tool, audited. */
  @Benchmark
  public CallResult<JsonNode> denyByDefault() {
    return sentinel.call(notAllowed, tool);
  }
}
