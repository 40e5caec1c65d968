package dev.sentinel.policy.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.policy.PolicyEngine;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class PolicyDiffTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String OLD = String.join("\n",
      "roles: { dev: {}, ops: {} }",
      "rules:",
      "  - id: devs-query",
      "    allow: { roles: [dev], tools: [\"db__query\"] }",
      "  - id: ops-all",
      "    allow: { roles: [ops], tools: [\"*\"] }",
      "  - id: gone",
      "    allow: { roles: [dev], tools: [\"fs__read\"] }",
      "limits:",
      "  - { id: per-user, rate: 10/s, per: [principal] }",
      "");
  private static final String NEW = String.join("\n",
      "# reordered, requoted and commented: none of that is a change",
      "rules:",
      "  - id: ops-all",
      "    allow: { tools: ['*'], roles: [ops] }",
      "  - id: devs-query",
      "    allow: { roles: [dev], tools: [\"db__query\"] }",
      "    reason: now with a reason",
      "  - id: no-drop",
      "    deny:",
      "      tools: [\"db__query\"]",
      "      when: { \"/sql\": { regex: \"(?i)drop\" } }",
      "roles: { ops: {}, dev: {}, auditor: {} }",
      "limits:",
      "  - { id: per-user, rate: 5/s, per: [principal] }",
      "");

  @Test
  void compare_namesAddedRemovedAndChanged_ignoringOrderQuotingAndComments() {
    PolicyDiff diff = PolicyDiff.compare(OLD, "old.yaml", NEW, "new.yaml");

    assertThat(diff.rules().added()).containsExactly("no-drop");
    assertThat(diff.rules().removed()).containsExactly("gone");
    assertThat(diff.rules().changed()).containsOnlyKeys("devs-query")
        .containsEntry("devs-query", List.of("reason"));
    assertThat(diff.roles().added()).containsExactly("auditor");
    assertThat(diff.roles().changed()).isEmpty();
    assertThat(diff.limits().changed()).containsEntry("per-user", List.of("rate"));
    assertThat(PolicyDiff.compare(OLD, "a", OLD, "b").isEmpty()).isTrue();
  }

  private static AuditEvent recorded(String id, String principal, String role, String tool, String args,
      Effect effect) {
    return new AuditEvent(id, Instant.parse("2026-12-01T10:00:00Z"), "gw", principal, List.of(role),
        null, null, null, "tools/call", "db", tool, JSON.readTree(args), null, effect, List.of(), null,
        -1, null, effect == Effect.ALLOW ? Outcome.ALLOWED : Outcome.DENIED, null, null, null, -1, null, "r1");
  }

  @Test
  void replay_reportsExactlyTheCallsWhoseDecisionChanges() {
    PolicyEngine before = PolicyEngine.parse(OLD, "old.yaml");
    PolicyEngine after = PolicyEngine.parse(NEW, "new.yaml");
    PolicyReplay replay = new PolicyReplay(before, after, 5);

    replay.accept(recorded("1", "ann", "dev", "db__query", "{\"sql\":\"select 1\"}", Effect.ALLOW));
    replay.accept(recorded("2", "ann", "dev", "db__query", "{\"sql\":\"DROP TABLE t\"}", Effect.ALLOW));
    replay.accept(recorded("3", "ann", "dev", "fs__read", "{}", Effect.ALLOW));
    replay.accept(recorded("4", "olga", "ops", "fs__read", "{}", Effect.ALLOW));
    replay.accept(recorded("5", "ann", "dev", "db__query", "{\"sql\":\"select 2\"}", Effect.DENY));
    replay.accept(new AuditEvent("6", Instant.EPOCH, "gw", null, List.of(), null, null, null, "tools/call",
        "db", "db__query", JSON.readTree("{}"), null, null, List.of(), null, -1, null,
        Outcome.UNAUTHENTICATED, null, null, null, -1, null, "r1"));
    PolicyReplay.Report report = replay.report();

    assertThat(report.replayed()).isEqualTo(5);
    assertThat(report.skipped()).isEqualTo(1);
    assertThat(report.changed()).isEqualTo(2);
    assertThat(report.unreproduced()).isEqualTo(1); // call 5 was recorded as denied
    assertThat(report.byTransition()).containsExactly(Map.entry("ALLOW -> DENY", 2L));
    assertThat(report.byTool()).containsExactly(Map.entry("db__query", 1L), Map.entry("fs__read", 1L));
    assertThat(report.byPrincipal()).containsExactly(Map.entry("ann", 2L));
    assertThat(report.byRule()).containsOnlyKeys("no-drop", "gone");
    assertThat(report.examples()).extracting(c -> c.event().id()).containsExactly("2", "3");
  }

  @Test
  void replay_aPolicyThatThrows_failsClosedLikeThePipeline() {
    PolicyReplay replay = new PolicyReplay(PolicyEngine.parse(OLD, "old.yaml"), context -> {
      throw new IllegalStateException("broken");
    }, 1);

    replay.accept(recorded("1", "ann", "dev", "db__query", "{}", Effect.ALLOW));

    assertThat(replay.report().examples()).singleElement()
        .satisfies(c -> assertThat(c.after().effect()).isEqualTo(Effect.DENY));
  }
}
