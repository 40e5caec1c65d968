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
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
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

  @Provide
  Arbitrary<Rule> rules() {
    return Combinators.combine(
            Arbitraries.of("allow", "deny", "confirm"),
            Arbitraries.of(ROLES).list().uniqueElements().ofMaxSize(2),
            Arbitraries.of("fs__*", "db__query", "pay__*", "*", "fs__read"),
            Arbitraries.of("fast", "slow").injectNull(0.6))
        .as(Rule::new);
  }

  @Provide
  Arbitrary<Attempt> attempts() {
    return Combinators.combine(
            Arbitraries.of(ROLES).list().uniqueElements().ofMaxSize(2),
            Arbitraries.of(TOOLS),
            Arbitraries.of("fast", "slow"))
        .as(Attempt::new);
  }

  private static String policy(List<Rule> rules) {
    StringBuilder yaml = new StringBuilder("roles:\n  admin: { inherits: [writer] }\n  writer: {}\n  reader: {}\n");
    yaml.append(rules.isEmpty() ? "rules: []\n" : "rules:\n");
    for (int i = 0; i < rules.size(); i++) {
      yaml.append(rules.get(i).yaml(i));
    }
    return yaml.toString();
  }

  @Property(tries = 300)
  void refusedRequestsNeverReachTheInvoker_andEveryRequestIsAuditedOnce(
      @ForAll @Size(max = 8) List<@From("rules") Rule> rules,
      @ForAll @Size(min = 1, max = 12) List<@From("attempts") Attempt> attempts,
      @ForAll("killedTool") String killedTool,
      @ForAll boolean confirmerApproves,
      @ForAll("limit") int limitPerHour) {
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

  @Provide
  Arbitrary<String> killedTool() {
    return Arbitraries.of("", "", "fs__*", "db__query");
  }

  @Provide
  Arbitrary<Integer> limit() {
    return Arbitraries.of(0, 0, 1, 3);
  }

  @Property(tries = 200)
  void callResultAlwaysAgreesWithItsAuditEvent(
      @ForAll @Size(max = 6) List<@From("rules") Rule> rules, @ForAll("attempts") Attempt attempt) {
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
