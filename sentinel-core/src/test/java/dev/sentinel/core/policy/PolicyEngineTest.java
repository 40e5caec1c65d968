package dev.sentinel.core.policy;

import static dev.sentinel.core.policy.Requests.request;
import static dev.sentinel.core.policy.Requests.tool;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyEngineTest {
  private static final String ROLES = "roles:\n"
      + "  admin: { inherits: [developer] }\n"
      + "  developer: { inherits: [readonly] }\n"
      + "  readonly: {}\n"
      + "  auditor: {}\n";
  private static final Principal ALICE = Principal.of("alice", "readonly");
  private static final Principal BOB = Principal.of("bob", "developer");
  private static final Principal CAROL = Principal.of("carol", "admin");
  private static final Principal NOBODY = Principal.of("nobody");

  private static PolicyEngine policy(String rules) {
    return PolicyEngine.parse(ROLES + "rules:\n" + rules, "test.yaml");
  }

  @Test
  void decide_noRulesDeniesByDefault() {
    PolicyEngine engine = PolicyEngine.parse("", "empty.yaml");
    assertThat(engine.decide(tool(ALICE, "fs__read"))).isSameAs(Decision.defaultDeny());
    assertThat(engine.ruleCount()).isZero();
  }

  @Test
  void decide_matchingAllowAllowsWithCachedDecision() {
    PolicyEngine engine = policy("  - id: read\n    allow: { tools: [\"fs__read_*\"] }\n");
    Decision first = engine.decide(tool(ALICE, "fs__read_file"));
    assertThat(first).isEqualTo(Decision.allow(List.of("read"), "allowed by rule read"));
    assertThat(engine.decide(tool(BOB, "fs__read_dir"))).isSameAs(first);
    assertThat(engine.decide(tool(ALICE, "fs__write_file")).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_denyOverridesAllowAndListsAllDenies() {
    PolicyEngine engine = policy(
        "  - id: all\n    allow: {}\n"
            + "  - id: no-db\n    deny: { tools: [\"db__*\"] }\n    reason: no databases\n"
            + "  - id: no-query\n    deny: { tools: [db__query] }\n");
    Decision decision = engine.decide(tool(ALICE, "db__query"));
    assertThat(decision.effect()).isEqualTo(Effect.DENY);
    assertThat(decision.rules()).containsExactly("no-db", "no-query");
    assertThat(decision.reason()).isEqualTo("no databases");
  }

  @Test
  void decide_toolNameWithSlashCannotEscapeWildcardDeny() {
    PolicyEngine engine = policy(
        "  - id: all\n    allow: {}\n"
            + "  - id: no-db\n    deny: { tools: [\"db__*\"] }\n");
    assertThat(engine.decide(tool(ALICE, "db__query/../../x")).rules()).containsExactly("no-db");
    assertThat(engine.visible(tool(ALICE, "db__a/b"))).isFalse();
  }

  @Test
  void decide_listMethodNoRuleDecides_isAllowedAsDiscovery() {
    PolicyEngine engine = PolicyEngine.parse("", "empty.yaml");
    RequestContext list = request(ALICE, "tools/list", null, null);

    Decision decision = engine.decide(list);

    assertThat(decision.effect()).isEqualTo(Effect.ALLOW);
    assertThat(decision.rules()).isEmpty();
    assertThat(decision.reason()).contains("filtered");
    assertThat(engine.explain(list).decision()).isEqualTo(decision);
    assertThat(engine.decide(request(ALICE, "tools/call", null, "x")).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_listMethodWithMatchingDeny_isDenied() {
    PolicyEngine engine = policy("  - id: no-listing\n    deny: { methods: [\"prompts/list\"] }\n");
    assertThat(engine.decide(request(ALICE, "prompts/list", null, null)).rules()).containsExactly("no-listing");
  }

  @Test
  void decide_defaultDenyReasonNamesRule() {
    PolicyEngine engine = policy("  - id: no-db\n    deny: { tools: [db__query] }\n");
    assertThat(engine.decide(tool(ALICE, "db__query")).reason()).isEqualTo("denied by rule no-db");
  }

  @Test
  void decide_confirmBeatsAllowButNotDeny() {
    PolicyEngine engine = policy(
        "  - id: all\n    allow: {}\n"
            + "  - id: billing\n    confirm: { tools: [\"billing__*\"] }\n    reason: ask first\n"
            + "  - id: no-refund\n    deny: { tools: [billing__refund] }\n");
    Decision charge = engine.decide(tool(ALICE, "billing__charge"));
    assertThat(charge.effect()).isEqualTo(Effect.CONFIRM);
    assertThat(charge.rules()).containsExactly("billing");
    assertThat(charge.reason()).isEqualTo("ask first");
    assertThat(engine.decide(tool(ALICE, "billing__refund")).effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(tool(ALICE, "fs__read")).effect()).isEqualTo(Effect.ALLOW);
  }

  @Test
  void decide_multipleAllowsListedInFileOrder() {
    PolicyEngine engine = policy(
        "  - id: b\n    allow: { tools: [\"fs__*\"] }\n"
            + "  - id: a\n    allow: { tools: [fs__read] }\n"
            + "  - id: c\n    allow: { tools: [\"fs__*\", \"fs__r*\"] }\n");
    Decision decision = engine.decide(tool(ALICE, "fs__read"));
    assertThat(decision.rules()).containsExactly("b", "a", "c");
    assertThat(decision.reason()).isEqualTo("allowed by rule b");
    assertThat(engine.decide(tool(ALICE, "fs__write")).rules()).containsExactly("b", "c");
  }

  @Test
  void decide_rolesExpandThroughInheritance() {
    PolicyEngine engine = policy("  - id: read\n    allow: { roles: [readonly], tools: [t] }\n"
        + "  - id: dev\n    allow: { roles: [developer], tools: [d] }\n");
    assertThat(engine.decide(tool(ALICE, "t")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(BOB, "t")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(CAROL, "t")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(ALICE, "d")).effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(tool(CAROL, "d")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(NOBODY, "t")).effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(tool(Principal.of("x", "auditor"), "t")).effect())
        .isEqualTo(Effect.DENY);
    assertThat(engine.roles().get("admin")).containsExactlyInAnyOrder(
        "admin", "developer", "readonly");
  }

  @Test
  void decide_undeclaredPrincipalRolesAreIgnored() {
    PolicyEngine engine = policy("  - id: read\n    allow: { roles: [readonly], tools: [t] }\n");
    assertThat(engine.decide(tool(Principal.of("x", "superuser"), "t")).effect())
        .isEqualTo(Effect.DENY);
  }

  @Test
  void decide_principalGlobs() {
    PolicyEngine engine = policy(
        "  - id: svc\n    allow: { principals: [alice, \"svc-*\"], tools: [t] }\n");
    assertThat(engine.decide(tool(ALICE, "t")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(Principal.of("svc-build"), "t")).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(BOB, "t")).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_attributesNeedEveryNamedAttribute() {
    PolicyEngine engine = policy("  - id: pay\n    allow:\n      tools: [t]\n"
        + "      attributes: { team: [payments, ops], region: eu }\n");
    Principal both = new Principal("p", Set.of(),
        Map.of("team", List.of("x", "ops"), "region", List.of("eu")));
    Principal teamOnly = new Principal("q", Set.of(), Map.of("team", List.of("payments")));
    assertThat(engine.decide(tool(both, "t")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(teamOnly, "t")).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_principalConstraintsAllMustHold() {
    PolicyEngine engine = policy(
        "  - id: r\n    allow: { roles: [developer], principals: [bob], tools: [t] }\n");
    assertThat(engine.decide(tool(BOB, "t")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(Principal.of("dave", "developer"), "t")).effect())
        .isEqualTo(Effect.DENY);
    assertThat(engine.decide(tool(Principal.of("bob"), "t")).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_backendsAreGlobs() {
    PolicyEngine engine = policy("  - id: git\n    allow: { backends: [fs, \"git*\"] }\n");
    assertThat(engine.decide(tool(ALICE, "github", "x", "{}")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(ALICE, "fs", "x", "{}")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(ALICE, "db", "x", "{}")).effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(request(ALICE, "ping", null, null)).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_methodsDerivedFromTargetKind() {
    PolicyEngine engine = policy(
        "  - id: tools\n    allow: { tools: [\"*\"] }\n"
            + "  - id: prompts\n    allow: { prompts: [\"greet*\"] }\n"
            + "  - id: files\n    allow: { resources: [\"file:///workspace/**\"] }\n");
    assertThat(engine.decide(request(ALICE, "tools/call", "b", "x")).rules())
        .containsExactly("tools");
    assertThat(engine.decide(request(ALICE, "prompts/get", "b", "greeting")).rules())
        .containsExactly("prompts");
    assertThat(engine.decide(request(ALICE, "prompts/get", "b", "other")).effect())
        .isEqualTo(Effect.DENY);
    assertThat(engine.decide(request(ALICE, "resources/read", "b", "file:///workspace/a/b"))
        .rules()).containsExactly("files");
    assertThat(engine.decide(request(ALICE, "resources/subscribe", "b",
        "file:///workspace/a")).rules()).containsExactly("files");
    assertThat(engine.decide(request(ALICE, "resources/read", "b", "file:///etc/passwd"))
        .effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(request(ALICE, "tools/list", "b", null)).rules())
        .as("a list is discovery, not a match of the tools rule")
        .isEmpty();
  }

  @Test
  void decide_ruleWithoutTargetMatchesAnyMethod() {
    PolicyEngine engine = policy("  - id: admin\n    allow: { roles: [admin] }\n"
        + "  - id: ping\n    allow: { methods: [ping, \"tools/list\"] }\n");
    assertThat(engine.decide(request(CAROL, "resources/read", "b", "file:///x")).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(request(NOBODY, "ping", null, null)).rules())
        .containsExactly("ping");
    assertThat(engine.decide(request(NOBODY, "tools/list", null, null)).rules())
        .containsExactly("ping");
    assertThat(engine.decide(request(NOBODY, "completion/complete", null, null)).effect())
        .isEqualTo(Effect.DENY);
  }

  @Test
  void decide_explicitMethodsWithTargets() {
    PolicyEngine engine = policy(
        "  - id: sub\n    allow: { methods: [\"resources/subscribe\"], resources: [\"x:*\"] }\n");
    assertThat(engine.decide(request(ALICE, "resources/subscribe", "b", "x:1")).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(request(ALICE, "resources/read", "b", "x:1")).effect())
        .isEqualTo(Effect.DENY);
  }

  @Test
  void decide_whenConditionsAllMustHold() {
    PolicyEngine engine = policy("  - id: w\n    allow:\n      tools: [fs__write]\n"
        + "      when:\n        \"/path\": { glob: \"/workspace/**\" }\n"
        + "        \"/size\": { lte: 100 }\n");
    assertThat(engine.decide(tool(ALICE, "fs__write", "{\"path\":\"/workspace/a\",\"size\":5}"))
        .effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(ALICE, "fs__write", "{\"path\":\"/workspace/a\",\"size\":500}"))
        .effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(tool(ALICE, "fs__write", "{\"path\":\"/workspace/a\"}")).effect())
        .isEqualTo(Effect.DENY);
  }

  @Test
  void decide_destructiveSqlDeniedWithPathTraversalBlocked() {
    PolicyEngine engine = policy(
        "  - id: devs\n    allow: { roles: [developer], tools: [db__query, fs__read] }\n"
            + "  - id: no-destructive-sql\n    deny:\n      tools: [db__query]\n"
            + "      when: { \"/sql\": { regex: \"(?i)\\\\b(drop|truncate|delete)\\\\b\" } }\n"
            + "  - id: workspace-only\n    deny:\n      tools: [fs__read]\n"
            + "      when: { \"/path\": { glob: \"/etc/**\" } }\n");
    assertThat(engine.decide(tool(BOB, "db__query", "{\"sql\":\"select 1\"}")).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(BOB, "db__query", "{\"sql\":\"DROP table x\"}")).rules())
        .containsExactly("no-destructive-sql");
    assertThat(engine.decide(tool(BOB, "fs__read", "{\"path\":\"/workspace/../etc/passwd\"}"))
        .rules()).containsExactly("workspace-only");
  }

  /** The README's rule, and an allow for developers: the shape the attacks below walk around. */
  private static final String NO_DESTRUCTIVE_SQL =
      "  - id: devs\n    allow: { roles: [developer], tools: [db__query] }\n"
          + "  - id: no-destructive-sql\n    deny:\n      tools: [db__query]\n"
          + "      when: { \"/sql\": { regex: \"(?i)\\\\b(drop|truncate|delete)\\\\b\" } }\n";

  @Test
  void decide_denyRegex_whenSqlArrivesInAnotherShape_stillDenies() {
    PolicyEngine engine = policy(NO_DESTRUCTIVE_SQL);
    for (String args : List.of("{\"sql\":[\"DROP TABLE users\"]}",
        "{\"sql\":{\"q\":\"DROP TABLE users\"}}", "{\"sql\":[\"select 1\",\"drop table x\"]}",
        "{\"sql\":42}", "{\"sql\":true}", "{\"sql\":null}")) {
      assertThat(engine.decide(tool(BOB, "db__query", args)).rules()).as(args)
          .containsExactly("no-destructive-sql");
    }
    assertThat(engine.decide(tool(BOB, "db__query", "{\"sql\":\"select 1\"}")).rules())
        .containsExactly("devs");
    // Omitting the argument is harmless: the backend gets no SQL at all.
    assertThat(engine.decide(tool(BOB, "db__query", "{}")).rules()).containsExactly("devs");
  }

  @Test
  void decide_denyAmountGt_whenAmountIsNotAPlainJsonNumber_stillDenies() {
    PolicyEngine engine = policy("  - id: pay\n    allow: { tools: [pay] }\n"
        + "  - id: big\n    deny:\n      tools: [pay]\n      when: { \"/amount\": { gt: 1000 } }\n");
    for (String args : List.of("{\"amount\":\"0x1388\"}", "{\"amount\":[5000]}",
        "{\"amount\":\"Infinity\"}", "{\"amount\":1e999999}", "{\"amount\":\"5000\"}",
        "{\"amount\":\" 5000 \"}", "{\"amount\":{\"value\":5000}}", "{\"amount\":null}",
        "{\"amount\":true}", "{\"amount\":5000}", "{\"amount\":1000.5}",
        "{\"amount\":123456789012345678901234567890}")) {
      assertThat(engine.decide(tool(ALICE, "pay", args)).rules()).as(args).containsExactly("big");
      assertThat(engine.decide(tool(ALICE, "pay", Requests.exactJson(args))).rules()).as(args)
          .containsExactly("big");
    }
    // Kept exactly (as BigDecimal), a hair above the bound is above it.
    assertThat(engine.decide(tool(ALICE, "pay",
        Requests.exactJson("{\"amount\":1000.0000000000000000001}"))).rules())
        .containsExactly("big");
    for (String args : List.of("{\"amount\":10}", "{\"amount\":1000}", "{\"amount\":1000.0}",
        "{\"amount\":-5e3}", "{}")) {
      assertThat(engine.decide(tool(ALICE, "pay", args)).rules()).as(args)
          .containsExactly("pay");
      assertThat(engine.decide(tool(ALICE, "pay", Requests.exactJson(args))).rules()).as(args)
          .containsExactly("pay");
    }
    // -1e999999 overflows a double to -Infinity: not a finite number, so a mismatch (denied);
    // kept exactly, it is a very negative number, not above 1000.
    assertThat(engine.decide(tool(ALICE, "pay", "{\"amount\":-1e999999}")).rules())
        .containsExactly("big");
    assertThat(engine.decide(tool(ALICE, "pay", Requests.exactJson("{\"amount\":-1e999999}")))
        .rules()).containsExactly("pay");
  }

  @Test
  void decide_allowAmountLte_whenAmountIsNotAPlainJsonNumber_doesNotAllow() {
    PolicyEngine engine = policy("  - id: small\n    allow:\n      tools: [pay]\n"
        + "      when: { \"/amount\": { lte: 100 } }\n");
    for (String args : List.of("{\"amount\":\"50\"}", "{\"amount\":[50]}",
        "{\"amount\":\"-Infinity\"}", "{\"amount\":-1e999999}", "{\"amount\":null}",
        "{\"amount\":\"0x10\"}", "{}")) {
      assertThat(engine.decide(tool(ALICE, "pay", args)).effect()).as(args)
          .isEqualTo(Effect.DENY);
    }
    assertThat(engine.decide(tool(ALICE, "pay", "{\"amount\":50}")).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(ALICE, "pay", Requests.exactJson("{\"amount\":100.000}")))
        .effect()).isEqualTo(Effect.ALLOW);
  }

  @Test
  void decide_embeddingExampleRule_whenQueryIsAnArray_stillDenies() {
    PolicyEngine engine = policy("  - id: analysts-read\n    allow: { tools: [\"reports.*\"] }\n"
        + "  - id: no-exports-of-everything\n    deny:\n      tools: [\"reports.*\"]\n"
        + "      when:\n        \"/query\": { regex: \"(?i)select\\\\s+\\\\*\" }\n");
    assertThat(engine.decide(tool(ALICE, "reports.run", "{\"query\":[\"SELECT * FROM t\"]}"))
        .rules()).containsExactly("no-exports-of-everything");
    assertThat(engine.decide(tool(ALICE, "reports.run", "{\"query\":\"SELECT a FROM t\"}"))
        .rules()).containsExactly("analysts-read");
  }

  @Test
  void decide_denyAnyEntityOfTypeSecret_lookingIntoTheArray() {
    PolicyEngine engine = policy("  - id: all\n    allow: { tools: [store] }\n"
        + "  - id: no-secrets\n    deny:\n      tools: [store]\n"
        + "      when: { \"/entities/*/entityType\": { equals: secret } }\n");
    assertThat(engine.decide(tool(ALICE, "store", "{\"entities\":[{\"entityType\":\"note\"},"
        + "{\"entityType\":\"secret\"}]}")).rules()).containsExactly("no-secrets");
    assertThat(engine.decide(tool(ALICE, "store", "{\"entities\":[{\"entityType\":\"note\"},"
        + "{\"entityType\":[\"secret\"]}]}")).rules()).containsExactly("no-secrets");
    assertThat(engine.decide(tool(ALICE, "store", "{\"entities\":{\"a\":{\"entityType\":"
        + "\"secret\"}}}")).rules()).containsExactly("no-secrets");
    assertThat(engine.decide(tool(ALICE, "store", "{\"entities\":\"secret\"}")).rules())
        .containsExactly("no-secrets");
    assertThat(engine.decide(tool(ALICE, "store", "{\"entities\":[{\"entityType\":\"note\"},"
        + "{\"name\":\"x\"}]}")).rules()).containsExactly("all");
    assertThat(engine.decide(tool(ALICE, "store", "{\"entities\":[]}")).rules())
        .containsExactly("all");
    assertThat(engine.decide(tool(ALICE, "store", "{}")).rules()).containsExactly("all");
  }

  @Test
  void decide_catastrophicRegex_isBoundedAndFailsClosed() {
    String input = "{\"s\":\"" + "a".repeat(50_000) + "!\"}";
    PolicyEngine deny = policy("  - id: all\n    allow: { tools: [t] }\n"
        + "  - id: evil\n    deny:\n      tools: [t]\n      when: { \"/s\": { regex: \"(a+)+$\" } }\n");
    assertThat(deny.decide(tool(ALICE, "t", input)).rules()).containsExactly("evil");
    assertThat(deny.decide(tool(ALICE, "t", input)).diagnostics()).isEmpty();
    PolicyEngine allow = policy("  - id: evil\n    allow:\n      tools: [t]\n"
        + "      when: { \"/s\": { regex: \"(a+)+$\" } }\n");
    assertThat(allow.decide(tool(ALICE, "t", input)).effect()).isEqualTo(Effect.DENY);
    assertThat(allow.decide(tool(ALICE, "t", "{\"s\":\"aaa\"}")).effect())
        .isEqualTo(Effect.ALLOW);
  }

  @Test
  void decide_ordinaryRegexOnLongText_isNotCutShort() {
    PolicyEngine engine = policy(NO_DESTRUCTIVE_SQL);
    String longSelect = "select " + "a, ".repeat(100_000) + "b from t";
    assertThat(engine.decide(tool(BOB, "db__query", "{\"sql\":\"" + longSelect + "\"}")).rules())
        .containsExactly("devs");
    assertThat(engine.decide(tool(BOB, "db__query", "{\"sql\":\"" + longSelect + "; drop table t\"}"))
        .rules()).containsExactly("no-destructive-sql");
  }

  @Test
  void decide_pathTraversalDoesNotMatchWorkspaceGlob() {
    PolicyEngine engine = policy("  - id: ws\n    allow:\n      tools: [fs__read]\n"
        + "      when: { \"/path\": { glob: \"/workspace/**\" } }\n");
    assertThat(engine.decide(tool(ALICE, "fs__read", "{\"path\":\"/workspace/a/b.txt\"}"))
        .effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(ALICE, "fs__read", "{\"path\":\"/workspace/../etc/passwd\"}"))
        .effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(tool(ALICE, "fs__read", "{\"path\":\"/workspace/a/../../etc\"}"))
        .effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(tool(ALICE, "fs__read", "{\"path\":\"/workspace//a/./b\"}"))
        .effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(tool(ALICE, "fs__read", "{\"path\":\"/../workspace/a\"}"))
        .effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(tool(ALICE, "fs__read", "{\"path\":\"workspace/a\"}"))
        .effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_nonPathGlobIsNotNormalized() {
    PolicyEngine engine = policy("  - id: g\n    allow:\n      tools: [t]\n"
        + "      when: { \"/name\": { glob: \"a*/../b\" } }\n");
    assertThat(engine.decide(tool(ALICE, "t", "{\"name\":\"ax/../b\"}")).effect())
        .isEqualTo(Effect.ALLOW);
  }

  @Test
  void decide_neverThrowsForOddInputs() {
    PolicyEngine engine = policy("  - id: w\n    allow:\n      tools: [\"*\"]\n"
        + "      when: { \"/a/0/b\": { gt: 1 }, \"/s\": { regex: x } }\n");
    for (String args : List.of("{}", "{\"a\":[]}", "{\"a\":[{\"b\":\"NaN\"}]}",
        "{\"a\":[{\"b\":1e400}]}", "{\"a\":{\"0\":{\"b\":5}},\"s\":\"x\"}", "{\"s\":null}")) {
      assertThat(engine.decide(tool(ALICE, "t", args))).isNotNull();
    }
    assertThat(engine.decide(tool(ALICE, "t", "{\"a\":{\"0\":{\"b\":5}},\"s\":\"x\"}")).effect())
        .isEqualTo(Effect.ALLOW);
    assertThat(engine.decide(null).effect()).isEqualTo(Effect.DENY);
    assertThat(engine.decide(null).diagnostics()).isNotEmpty();
    assertThat(engine.visible(null)).isFalse();
  }

  @Test
  void decide_explainAgreesOnEveryRequest() {
    PolicyEngine engine = policy(
        "  - id: read\n    allow: { roles: [readonly], tools: [\"fs__read_*\"] }\n"
            + "  - id: dev\n    allow: { roles: [developer], tools: [\"fs__*\"] }\n"
            + "  - id: ask\n    confirm: { tools: [fs__delete] }\n"
            + "  - id: nope\n    deny: { tools: [fs__read_secret] }\n");
    for (Principal p : List.of(ALICE, BOB, CAROL, NOBODY)) {
      for (String t : List.of("fs__read_a", "fs__read_secret", "fs__delete", "fs__write", "x")) {
        RequestContext context = tool(p, t);
        assertThat(engine.explain(context).decision()).isEqualTo(engine.decide(context));
        assertThat(engine.decideLinear(context)).isEqualTo(engine.decide(context));
      }
    }
  }

  @Test
  void visible_ignoresArgumentsAndTimeButHonoursUnconditionalDeny() {
    PolicyEngine engine = policy(
        "  - id: ws\n    allow:\n      tools: [fs__write]\n"
            + "      when: { \"/path\": { glob: \"/workspace/**\" } }\n"
            + "      during: { hours: \"09:00-10:00\" }\n"
            + "  - id: ask\n    confirm: { tools: [billing] }\n"
            + "  - id: sql\n    allow: { tools: [\"db__*\"] }\n"
            + "  - id: no-drop\n    deny:\n      tools: [db__query]\n"
            + "      when: { \"/sql\": { regex: drop } }\n"
            + "  - id: no-admin\n    deny: { tools: [db__admin] }\n");
    assertThat(engine.visible(tool(ALICE, "fs__write"))).isTrue();
    assertThat(engine.decide(tool(ALICE, "fs__write")).effect()).isEqualTo(Effect.DENY);
    assertThat(engine.visible(tool(ALICE, "billing"))).isTrue();
    assertThat(engine.visible(tool(ALICE, "db__query"))).isTrue();
    assertThat(engine.visible(tool(ALICE, "db__admin"))).isFalse();
    assertThat(engine.visible(tool(ALICE, "fs__read"))).isFalse();
    assertThat(engine.visibleLinear(tool(ALICE, "db__admin"))).isFalse();
    assertThat(engine.visibleLinear(tool(ALICE, "db__query"))).isTrue();
  }

  @Test
  void visible_usesRoles() {
    PolicyEngine engine = policy("  - id: dev\n    allow: { roles: [developer], tools: [t] }\n");
    assertThat(engine.visible(tool(BOB, "t"))).isTrue();
    assertThat(engine.visible(tool(CAROL, "t"))).isTrue();
    assertThat(engine.visible(tool(ALICE, "t"))).isFalse();
  }

  @Test
  void explain_tracesEveryRuleWithReasons() {
    PolicyEngine engine = policy(
        "  - id: dev-sql\n    allow: { roles: [developer], tools: [\"db__*\"] }\n"
            + "  - id: no-destructive-sql\n    deny:\n      tools: [db__query]\n"
            + "      when: { \"/sql\": { regex: \"(?i)drop\" } }\n"
            + "    reason: destructive SQL is not allowed\n"
            + "  - id: readers\n    allow: { roles: [auditor], tools: [\"fs__*\"] }\n");
    Explanation explanation = engine.explain(tool(CAROL, "db__query", "{\"sql\":\"DROP x\"}"));
    assertThat(explanation.decision().rules()).containsExactly("no-destructive-sql");
    assertThat(explanation.rules()).extracting(RuleTrace::ruleId)
        .containsExactly("dev-sql", "no-destructive-sql", "readers");
    assertThat(explanation.rules().get(0).matched()).isTrue();
    assertThat(explanation.rules().get(0).why())
        .contains("tool 'db__query' matches 'db__*'")
        .contains("role developer held via admin");
    assertThat(explanation.rules().get(1).why()).contains("/sql satisfies regex '(?i)drop'");
    assertThat(explanation.rules().get(2).matched()).isFalse();
    assertThat(explanation.rules().get(2).why()).contains("tool 'db__query' matches none of");
    assertThat(explanation.matched()).hasSize(2);
    String text = explanation.render();
    assertThat(text).startsWith(
        "decision: DENY by no-destructive-sql (destructive SQL is not allowed)\n");
    assertThat(text).contains("[match] deny no-destructive-sql: ");
    assertThat(text).contains("[ -   ] allow readers: ");
  }

  @Test
  void explain_namesMissingRoleAndFailedCondition() {
    PolicyEngine engine = policy(
        "  - id: dev\n    allow: { roles: [developer], tools: [t] }\n"
            + "  - id: small\n    allow:\n      tools: [t]\n"
            + "      when: { \"/n\": { lt: 10 } }\n");
    Explanation explanation = engine.explain(tool(ALICE, "t", "{\"n\": 50}"));
    assertThat(explanation.rules().get(0).why())
        .isEqualTo("role developer not held by alice (holds readonly)");
    assertThat(explanation.rules().get(1).why()).isEqualTo("/n 50 does not satisfy lt 10");
    assertThat(explanation.decision()).isEqualTo(Decision.defaultDeny());
    assertThat(explanation.render()).startsWith("decision: DENY (no rule allows this request)");
  }

  @Test
  void explain_ruleWithoutConstraintsMatchesEveryRequest() {
    PolicyEngine engine = policy("  - id: all\n    allow: {}\n");
    assertThat(engine.explain(tool(NOBODY, "x")).rules().get(0).why())
        .isEqualTo("matches every request");
  }

  @Test
  void revision_isSha256PrefixOfText() throws Exception {
    String text = ROLES + "rules: []\n";
    PolicyEngine engine = PolicyEngine.parse(text, "p.yaml");
    String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(text.getBytes(StandardCharsets.UTF_8)));
    assertThat(engine.revision()).isEqualTo("sha256:" + hex.substring(0, 12));
    assertThat(engine.source()).isEqualTo("p.yaml");
    assertThat(PolicyEngine.parse(text + "\n", "p.yaml").revision())
        .isNotEqualTo(engine.revision());
  }

  @Test
  void load_readsFileAndUsesItsName(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, "rules:\n  - id: all\n    allow: {}\n", StandardCharsets.UTF_8);
    PolicyEngine engine = PolicyEngine.load(file);
    assertThat(engine.source()).isEqualTo("policy.yaml");
    assertThat(engine.ruleCount()).isEqualTo(1);
    assertThat(engine.decide(tool(NOBODY, "x")).effect()).isEqualTo(Effect.ALLOW);
    assertThat(engine.toString()).contains("policy.yaml", "1 rules");
  }

  @Test
  void compile_embeddedPolicyAtPointer() {
    var document = dev.sentinel.core.config.YamlDocument.parse(
        "server: { port: 1 }\npolicy:\n  rules:\n    - id: all\n      allow: {}\n", "gw.yaml");
    PolicyEngine engine = PolicyEngine.compile(document, "/policy");
    assertThat(engine.ruleCount()).isEqualTo(1);
  }

  @Test
  void decide_tenThousandRulesUsesIndexAndAgreesWithLinearScan() {
    StringBuilder rules = new StringBuilder();
    for (int i = 0; i < 10_000; i++) {
      rules.append("  - id: r").append(i).append("\n    ")
          .append(i % 7 == 0 ? "deny" : "allow").append(": { tools: [")
          .append(i % 3 == 0 ? "\"svc" + i + "__*\"" : "svc" + i + "__op")
          .append("], roles: [developer] }\n");
    }
    PolicyEngine engine = policy(rules.toString());
    assertThat(engine.ruleCount()).isEqualTo(10_000);
    for (int i : new int[] {0, 1, 2, 3, 14, 9999}) {
      RequestContext context = tool(BOB, "svc" + i + "__op");
      assertThat(engine.decide(context)).isEqualTo(engine.decideLinear(context));
      assertThat(engine.decide(context).rules()).containsExactly("r" + i);
    }
    assertThat(engine.decide(tool(BOB, "other")).effect()).isEqualTo(Effect.DENY);
  }

  @Test
  void decide_requestKindsWithoutNamesOnlySeeUntargetedRules() {
    PolicyEngine engine = policy("  - id: t\n    allow: { tools: [\"**\"] }\n");
    assertThat(engine.decide(RequestContext.of(ALICE, Request.of("tools/list"),
        Requests.MONDAY_NOON)).rules()).isEmpty();
    assertThat(engine.decide(RequestContext.of(ALICE, Request.of("logging/setLevel"),
        Requests.MONDAY_NOON)).effect()).isEqualTo(Effect.DENY);
  }
}
