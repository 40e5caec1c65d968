package dev.sentinel.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Confirmation;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.Gen;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Properties of the whole pipeline over generated policies, principals, kill-switch states,
 * limits and requests (DESIGN.md guarantees 1 and 2).
 */
class SentinelPropertiesTest {

  private static final List<String> TOOLS = List.of("fs__read", "fs__write", "db__query", "pay__send");
  private static final List<String> ROLES = List.of("reader", "writer", "admin");

  /** One generated rule, rendered as YAML. */
  record Rule(String effect, List<String> roles, String tool, String when) {
    String yaml(int index) {
      StringBuilder out = new StringBuilder()
          .append("  - id: r").append(index).append('\n')
          .append("    ").append(effect).append(":\n")
          .append("      tools: [\"").append(tool).append("\"]\n");
      if (!roles.isEmpty()) {
        out.append("      roles: [").append(String.join(", ", roles)).append("]\n");
      }
      if (when != null) {
        out.append("      when: { \"/mode\": { equals: \"").append(when).append("\" } }\n");
      }
      return out.toString();
    }
  }

  /** One generated call: who, which tool, with which mode argument. */
  record Attempt(List<String> roles, String tool, String mode) {}

  static Rule rule(Random random) {
    return new Rule(
        Gen.pick(random, "allow", "deny", "confirm"),
        Gen.distinct(random, ROLES, 2),
        Gen.pick(random, "fs__*", "db__query", "pay__*", "*", "fs__read"),
        Gen.orNull(random, 0.6, () -> Gen.pick(random, "fast", "slow")));
  }

  static Attempt attempt(Random random) {
    return new Attempt(
        Gen.distinct(random, ROLES, 2), Gen.pick(random, TOOLS), Gen.pick(random, "fast", "slow"));
  }

  static LongStream seeds() {
    return Gen.seeds(300);
  }

  private static String policy(List<Rule> rules) {
    StringBuilder yaml = new StringBuilder("roles:\n  admin: { inherits: [writer] }\n  writer: {}\n  reader: {}\n");
    yaml.append(rules.isEmpty() ? "rules: []\n" : "rules:\n");
    for (int i = 0; i < rules.size(); i++) {
      yaml.append(rules.get(i).yaml(i));
    }
    return yaml.toString();
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void refusedRequestsNeverReachTheInvoker_andEveryRequestIsAuditedOnce(long seed) {
    Random random = new Random(seed);
    List<Rule> rules = Gen.list(random, 0, 8, () -> rule(random));
    List<Attempt> attempts = Gen.list(random, 1, 12, () -> attempt(random));
    String killedTool = Gen.pick(random, "", "", "fs__*", "db__query");
    boolean confirmerApproves = random.nextBoolean();
    int limitPerHour = Gen.pick(random, 0, 0, 1, 3);
    PolicyEngine policy = PolicyEngine.parse(policy(rules), "generated.yaml");
    ManualClock clock = new ManualClock();
    RecordingSink sink = new RecordingSink();
    KillSwitch killSwitch = KillSwitch.create();
    if (!killedTool.isEmpty()) {
      killSwitch.disableTool(killedTool, "generated");
    }
    Limits limits = limitPerHour == 0 ? Limits.none() : Limits.of(
        List.of(LimitRule.of("per-principal", Rate.parse(limitPerHour + "/h"), LimitRule.Key.PRINCIPAL)),
        LocalRateLimiter.create(clock));
    AtomicInteger invoked = new AtomicInteger();
    List<String> ids = new ArrayList<>();

    for (int i = 0; i < attempts.size(); i++) {
      Attempt attempt = attempts.get(i);
      Principal principal = Principal.of("p" + (i % 2), attempt.roles().toArray(String[]::new));
      Request request = Request.toolCall("b", attempt.tool(),
          JsonNodeFactory.instance.objectNode().put("mode", attempt.mode()));
      try (Sentinel sentinel = Sentinel.builder()
          .clock(clock)
          .authenticator(Authenticator.fixed(principal))
          .policy(policy)
          .limits(limits)
          .killSwitch(killSwitch)
          .confirmer((context, decision) -> confirmerApproves
              ? Confirmation.approve("ops") : Confirmation.reject("ops", "no"))
          .audit(AuditDispatcher.builder().sink(sink).build())
          .build()) {
        int before = invoked.get();
        CallResult<String> result = sentinel.call(Call.of(Credentials.launch(), request), r -> {
          invoked.incrementAndGet();
          return "done";
        });
        ids.add(result.eventId());
        boolean ran = invoked.get() > before;

        Decision decision = policy.decide(RequestContext.of(principal, request, clock.instant()));
        assertThat(ran).isEqualTo(!result.outcome().refusal());
        if (ran) {
          assertThat(decision.permits()).isTrue();
          assertThat(killSwitch.check(principal, request)).isNull();
        }
        if (!decision.permits()) {
          assertThat(result.outcome()).isIn(Outcome.DENIED, Outcome.DISABLED);
        }
      }
    }
    assertThat(sink.events()).extracting(AuditEvent::id).containsExactlyElementsOf(ids);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void callResultAlwaysAgreesWithItsAuditEvent(long seed) {
    Random random = new Random(seed);
    List<Rule> rules = Gen.list(random, 0, 6, () -> rule(random));
    Attempt attempt = attempt(random);
    RecordingSink sink = new RecordingSink();
    Principal principal = Principal.of("p", attempt.roles().toArray(String[]::new));
    CallResult<String> result;
    try (Sentinel sentinel = Sentinel.builder()
        .clock(new ManualClock())
        .authenticator(Authenticator.fixed(principal))
        .policy(PolicyEngine.parse(policy(rules), "generated.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .build()) {
      result = sentinel.call(
          Call.of(Credentials.launch(), Request.toolCall("b", attempt.tool(), null)), r -> "ok");
      assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
    }
    assertThat(sink.events()).singleElement().satisfies(event -> {
      assertThat(event.id()).isEqualTo(result.eventId());
      assertThat(event.outcome()).isEqualTo(result.outcome());
      if (result.refusal() != null) {
        assertThat(event.rules()).isEqualTo(result.refusal().rules());
      }
    });
  }
}
