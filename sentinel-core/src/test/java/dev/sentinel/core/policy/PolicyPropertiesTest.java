package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.testing.Gen;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

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

  static RuleSpec rule(Random r) {
    return new RuleSpec(
        Gen.pick(r, "allow", "deny", "confirm"),
        Gen.orNull(r, 0.25, () -> Gen.list(r, 1, 3, () -> Gen.pick(r, TOOL_GLOBS))),
        Gen.orNull(r, 0.5,
            () -> Gen.list(r, 1, 2, () -> Gen.pick(r, "admin", "developer", "readonly", "guest"))),
        Gen.orNull(r, 0.8, () -> Gen.pick(r, "[alice]", "[\"b*\"]", "[carol, eve]")),
        Gen.orNull(r, 0.8, () -> Gen.pick(r, "[fs]", "[\"d*\"]")),
        Gen.orNull(r, 0.8, () -> Gen.pick(r, "[\"tools/call\"]", "[ping]", "[\"tools/*\"]")),
        Gen.orNull(r, 0.6, () -> Gen.pick(r,
            "{ \"/n\": { gt: 5 } }", "{ \"/path\": { glob: \"/w/**\" } }",
            "{ \"/sql\": { regex: \"(?i)drop\" } }", "{ \"/n\": { exists: false } }",
            "{ \"/path\": { prefix: \"/w/\" }, \"/n\": { lte: 10 } }")),
        Gen.orNull(r, 0.8, () -> Gen.pick(r, "{ hours: \"09:00-17:00\" }", "{ days: [sat, sun] }")));
  }

  static List<RuleSpec> rules(Random random) {
    return Gen.list(random, 0, 12, () -> rule(random));
  }

  static RequestContext request(Random r) {
    Principal principal = Gen.pick(r, PRINCIPALS);
    String tool = Gen.pick(r, TOOLS);
    String method = Gen.pick(r, "tools/call", "tools/call", "tools/call", "ping", "prompts/get");
    String backend = Gen.pick(r, "fs", "db");
    String arguments = Gen.pick(r, "{}", "{\"n\":10}", "{\"n\":\"3\"}",
        "{\"path\":\"/w/a\",\"n\":1}", "{\"path\":\"/w/../etc\"}", "{\"sql\":\"DROP x\"}");
    Instant time = Gen.pick(r, Instant.parse("2025-01-06T10:00:00Z"),
        Instant.parse("2025-01-06T20:00:00Z"), Instant.parse("2025-01-11T10:00:00Z"));
    return RequestContext.of(principal,
        new Request(method, backend, method.equals("ping") ? null : tool, Requests.json(arguments)),
        time);
  }

  static LongStream seeds() {
    return Gen.seeds(300);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void decide_indexAgreesWithLinearScan(long seed) {
    Random random = new Random(seed);
    List<RuleSpec> rules = rules(random);
    RequestContext request = request(random);
    PolicyEngine engine = compile(rules);
    Decision decision = engine.decide(request);
    assertThat(decision).isEqualTo(engine.decideLinear(request));
    assertThat(engine.explain(request).decision()).isEqualTo(decision);
    assertThat(engine.visible(request)).isEqualTo(engine.visibleLinear(request));
    assertThat(decision.diagnostics()).isEmpty();
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void decide_denyBeatsAllowWhateverTheOrder(long seed) {
    Random random = new Random(seed);
    List<RuleSpec> rules = rules(random);
    RequestContext request = request(random);
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
    Collections.shuffle(order, random);
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

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void decide_matchingDenyInsertedAnywhereDenies(long seed) {
    Random random = new Random(seed);
    List<RuleSpec> rules = rules(random);
    RequestContext request = request(random);
    String tool = request.request().name() == null ? "*" : request.request().name();
    RuleSpec deny = new RuleSpec("deny", request.request().name() == null ? null
        : List.of(tool), null, null, null, null, null, null);
    List<RuleSpec> withDeny = new ArrayList<>(rules);
    int at = random.nextInt(rules.size() + 1);
    withDeny.add(at, deny);
    Request r = request.request();
    boolean addressable = r.name() != null ? r.method().equals("tools/call") : true;
    Decision decision = compile(withDeny).decide(request);
    if (addressable) {
      assertThat(decision.effect()).isEqualTo(Effect.DENY);
      assertThat(decision.rules()).contains("r" + at);
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void decide_unmatchableRuleChangesNothing(long seed) {
    Random random = new Random(seed);
    List<RuleSpec> rules = rules(random);
    RuleSpec extra = rule(random);
    RequestContext request = request(random);
    Decision before = compile(rules).decide(request);
    RuleSpec never = new RuleSpec(extra.effect(), List.of("zz_no_such_tool__*"), extra.roles(),
        extra.principals(), extra.backends(), null, extra.when(), extra.during());
    List<RuleSpec> more = new ArrayList<>(rules);
    more.add(random.nextInt(rules.size() + 1), never);
    // Keep ids stable: the extra rule gets its own id and the others keep theirs.
    List<String> ids = new ArrayList<>();
    int next = 0;
    for (RuleSpec rule : more) {
      ids.add(rule == never ? "extra" : "r" + next++);
    }
    assertThat(compileNamed(more, ids).decide(request)).isEqualTo(before);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void decide_policyWithoutRulesDeniesEverything(long seed) {
    RequestContext request = request(new Random(seed));
    PolicyEngine engine = compile(List.of());
    assertThat(engine.decide(request)).isEqualTo(Decision.defaultDeny());
    assertThat(engine.visible(request)).isFalse();
  }
}
