package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The rules of policy composition hold for generated policies and requests. */
class PolicyPropertiesTest {
  private static final String ROLES = "roles:\n  admin: { inherits: [developer] }\n"
      + "  developer: { inherits: [readonly] }\n  readonly: {}\n  guest: {}\n";
  private static final List<String> TOOLS =
      List.of("fs__read", "fs__write", "db__query", "db__admin", "billing__pay", "a", "ab");
  private static final List<String> TOOL_GLOBS = List.of("fs__read", "fs__write", "db__query",
      "a", "fs__*", "db__*", "*", "a*", "f?__read", "**", "*__query", "b*__pay", "db__q*y");
  private static final List<Principal> PRINCIPALS = List.of(
      Principal.of("alice", "readonly"), Principal.of("bob", "developer"),
      Principal.of("carol", "admin"), Principal.of("dave", "guest"), Principal.of("eve"),
      Principal.of("bot", "guest", "readonly"));

  /** A generated rule, rendered as one YAML list item. */
  record RuleSpec(
      String effect, List<String> tools, List<String> roles, String principals, String backends,
      String methods, String when, String during) {

    String yaml(String id) {
      List<String> parts = new ArrayList<>();
      if (tools != null) {
        parts.add("tools: [" + tools.stream().map(t -> "\"" + t + "\"")
            .collect(Collectors.joining(", ")) + "]");
      }
      if (roles != null) {
        parts.add("roles: [" + String.join(", ", roles) + "]");
      }
      if (principals != null) {
        parts.add("principals: " + principals);
      }
      if (backends != null) {
        parts.add("backends: " + backends);
      }
      if (methods != null && (tools == null || methods.contains("tools/call"))) {
        parts.add("methods: " + methods);
      }
      if (when != null) {
        parts.add("when: " + when);
      }
      if (during != null) {
        parts.add("during: " + during);
      }
      return "  - id: " + id + "\n    " + effect + ": { " + String.join(", ", parts) + " }\n";
    }
  }

  private static PolicyEngine compile(List<RuleSpec> rules) {
    StringBuilder yaml = new StringBuilder(ROLES).append("rules:\n");
    for (int i = 0; i < rules.size(); i++) {
      yaml.append(rules.get(i).yaml("r" + i));
    }
    if (rules.isEmpty()) {
      yaml.append("  []\n");
    }
    return PolicyEngine.parse(yaml.toString(), "generated.yaml");
  }

  private static PolicyEngine compileNamed(List<RuleSpec> rules, List<String> ids) {
    StringBuilder yaml = new StringBuilder(ROLES).append("rules:\n");
    for (int i = 0; i < rules.size(); i++) {
      yaml.append(rules.get(i).yaml(ids.get(i)));
    }
    return PolicyEngine.parse(yaml.toString(), "generated.yaml");
  }

  @Provide
  Arbitrary<RuleSpec> rule() {
    Arbitrary<String> effect = Arbitraries.of("allow", "deny", "confirm");
    Arbitrary<List<String>> tools = Arbitraries.of(TOOL_GLOBS).list().ofMinSize(1).ofMaxSize(3)
        .injectNull(0.25);
    Arbitrary<List<String>> roles = Arbitraries.of("admin", "developer", "readonly", "guest")
        .list().ofMinSize(1).ofMaxSize(2).injectNull(0.5);
    Arbitrary<String> principals = Arbitraries.of("[alice]", "[\"b*\"]", "[carol, eve]")
        .injectNull(0.8);
    Arbitrary<String> backends = Arbitraries.of("[fs]", "[\"d*\"]").injectNull(0.8);
    Arbitrary<String> methods = Arbitraries.of("[\"tools/call\"]", "[ping]", "[\"tools/*\"]")
        .injectNull(0.8);
    Arbitrary<String> when = Arbitraries.of(
        "{ \"/n\": { gt: 5 } }", "{ \"/path\": { glob: \"/w/**\" } }",
        "{ \"/sql\": { regex: \"(?i)drop\" } }", "{ \"/n\": { exists: false } }",
        "{ \"/path\": { prefix: \"/w/\" }, \"/n\": { lte: 10 } }").injectNull(0.6);
    Arbitrary<String> during = Arbitraries.of("{ hours: \"09:00-17:00\" }",
        "{ days: [sat, sun] }").injectNull(0.8);
    return Combinators.combine(effect, tools, roles, principals, backends, methods, when, during)
        .as(RuleSpec::new);
  }

  @Provide
  Arbitrary<List<RuleSpec>> rules() {
    return rule().list().ofMaxSize(12);
  }

  @Provide
  Arbitrary<RequestContext> request() {
    Arbitrary<Principal> principal = Arbitraries.of(PRINCIPALS);
    Arbitrary<String> tool = Arbitraries.of(TOOLS);
    Arbitrary<String> method = Arbitraries.of("tools/call", "tools/call", "tools/call", "ping",
        "prompts/get");
    Arbitrary<String> backend = Arbitraries.of("fs", "db");
    Arbitrary<String> arguments = Arbitraries.of("{}", "{\"n\":10}", "{\"n\":\"3\"}",
        "{\"path\":\"/w/a\",\"n\":1}", "{\"path\":\"/w/../etc\"}", "{\"sql\":\"DROP x\"}");
    Arbitrary<Instant> time = Arbitraries.of(Instant.parse("2025-01-06T10:00:00Z"),
        Instant.parse("2025-01-06T20:00:00Z"), Instant.parse("2025-01-11T10:00:00Z"));
    return Combinators.combine(principal, tool, method, backend, arguments, time)
        .as((p, t, m, b, a, at) -> RequestContext.of(p,
            new Request(m, b, m.equals("ping") ? null : t, Requests.json(a)), at));
  }

  @Property(tries = 300)
  void decide_indexAgreesWithLinearScan(
      @ForAll("rules") List<RuleSpec> rules, @ForAll("request") RequestContext request) {
    PolicyEngine engine = compile(rules);
    Decision decision = engine.decide(request);
    assertThat(decision).isEqualTo(engine.decideLinear(request));
    assertThat(engine.explain(request).decision()).isEqualTo(decision);
    assertThat(engine.visible(request)).isEqualTo(engine.visibleLinear(request));
    assertThat(decision.diagnostics()).isEmpty();
  }

  @Property(tries = 200)
  void decide_denyBeatsAllowWhateverTheOrder(
      @ForAll("rules") List<RuleSpec> rules, @ForAll("request") RequestContext request,
      @ForAll long seed) {
    PolicyEngine engine = compile(rules);
    Decision decision = engine.decide(request);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      ids.add("r" + i);
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed));
    List<RuleSpec> shuffledRules = new ArrayList<>();
    List<String> shuffledIds = new ArrayList<>();
    for (int i : order) {
      shuffledRules.add(rules.get(i));
      shuffledIds.add(ids.get(i));
    }
    Decision shuffled = compileNamed(shuffledRules, shuffledIds).decide(request);
    assertThat(shuffled.effect()).isEqualTo(decision.effect());
    assertThat(new HashSet<>(shuffled.rules())).isEqualTo(new HashSet<>(decision.rules()));

    boolean anyDenyMatches = false;
    for (int i = 0; i < rules.size(); i++) {
      if (rules.get(i).effect().equals("deny")
          && compile(List.of(rules.get(i))).decide(request).effect() == Effect.DENY
          && !compile(List.of(rules.get(i))).decide(request).rules().isEmpty()) {
        anyDenyMatches = true;
      }
    }
    if (anyDenyMatches) {
      assertThat(decision.effect()).isEqualTo(Effect.DENY);
      assertThat(decision.rules()).isNotEmpty();
    }
  }

  @Property(tries = 200)
  void decide_matchingDenyInsertedAnywhereDenies(
      @ForAll("rules") List<RuleSpec> rules, @ForAll("request") RequestContext request,
      @ForAll long seed) {
    String tool = request.request().name() == null ? "*" : request.request().name();
    RuleSpec deny = new RuleSpec("deny", request.request().name() == null ? null
        : List.of(tool), null, null, null, null, null, null);
    List<RuleSpec> withDeny = new ArrayList<>(rules);
    int at = new Random(seed).nextInt(rules.size() + 1);
    withDeny.add(at, deny);
    Request r = request.request();
    boolean addressable = r.name() != null ? r.method().equals("tools/call") : true;
    Decision decision = compile(withDeny).decide(request);
    if (addressable) {
      assertThat(decision.effect()).isEqualTo(Effect.DENY);
      assertThat(decision.rules()).contains("r" + at);
    }
  }

  @Property(tries = 200)
  void decide_unmatchableRuleChangesNothing(
      @ForAll("rules") List<RuleSpec> rules, @ForAll("rule") RuleSpec extra,
      @ForAll("request") RequestContext request, @ForAll long seed) {
    Decision before = compile(rules).decide(request);
    RuleSpec never = new RuleSpec(extra.effect(), List.of("zz_no_such_tool__*"), extra.roles(),
        extra.principals(), extra.backends(), null, extra.when(), extra.during());
    List<RuleSpec> more = new ArrayList<>(rules);
    more.add(new Random(seed).nextInt(rules.size() + 1), never);
    // Keep ids stable: the extra rule gets its own id and the others keep theirs.
    List<String> ids = new ArrayList<>();
    int next = 0;
    for (RuleSpec rule : more) {
      ids.add(rule == never ? "extra" : "r" + next++);
    }
    assertThat(compileNamed(more, ids).decide(request)).isEqualTo(before);
  }

  @Property(tries = 200)
  void decide_policyWithoutRulesDeniesEverything(@ForAll("request") RequestContext request) {
    PolicyEngine engine = compile(List.of());
    assertThat(engine.decide(request)).isEqualTo(Decision.defaultDeny());
    assertThat(engine.visible(request)).isFalse();
  }
}
