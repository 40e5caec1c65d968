package dev.sentinel.policy.tools;

import dev.sentinel.core.config.YamlDocument;
import dev.sentinel.core.internal.Glob;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Finds the mistakes a valid policy can still hold: rules that can never take effect, roles and
 * limits that apply to nothing, and tool globs that match no tool a backend lists. Each finding
 * names the file, line and rule, says why, and suggests a fix.
 *
 * <p>The analysis is conservative: a rule is reported as shadowed only when an unconditional deny
 * rule (no {@code when}, {@code when_cel} or {@code during}) provably matches everything it
 * matches. Where a glob's coverage cannot be decided simply, nothing is reported. Overlaps of an
 * allow rule with a deny rule are notes, not warnings: a narrow deny inside a broad allow is the
 * usual way to write an exception.
 */
public final class PolicyLint {
  private static final List<String> EFFECTS = List.of("allow", "deny", "confirm");
  private static final List<String> TARGETS = List.of("tools", "prompts", "resources");
  private static final Set<String> CONDITIONS = Set.of("when", "when_cel", "during");

  private PolicyLint() {}

  /** How much a finding matters: warnings fail {@code sentinel policy lint}, notes do not. */
  public enum Severity {
    /** Something in the policy has no effect, which is almost always a mistake. */
    WARNING,
    /** Worth knowing, often intended. */
    NOTE
  }

  /**
   * One finding.
   *
   * @param severity how much it matters
   * @param source the policy file
   * @param line its line (1-based), 0 if unknown
   * @param subject the rule, role or limit it is about
   * @param message what is wrong and why
   * @param suggestion what to do
   */
  public record Finding(Severity severity, String source, int line, String subject, String message,
      String suggestion) {
    @Override
    public String toString() {
      return source + ":" + line + ": " + severity.name().toLowerCase(java.util.Locale.ROOT) + ": "
          + subject + ": " + message + " (" + suggestion + ")";
    }
  }

  /** A rule as the lint sees it: where it is, its effect, its match keys. */
  private record Rule(String id, String pointer, String effect, JsonNode match) {
    boolean conditional() {
      return CONDITIONS.stream().anyMatch(match::has);
    }

    String target() {
      return TARGETS.stream().filter(match::has).findFirst().orElse(null);
    }
  }

  /**
   * Lints a policy file's text. The policy must be valid: compile it first to report its errors.
   *
   * @param listedTools the tool names the backends list (as the gateway names them, {@code
   *     backend__tool}), or {@code null} when the backends were not asked: then globs are not
   *     checked against them
   */
  public static List<Finding> lint(String yaml, String source, Collection<String> listedTools) {
    YamlDocument document = YamlDocument.parse(yaml, source);
    JsonNode root = document.root();
    List<Finding> findings = new ArrayList<>();
    List<Rule> rules = rules(root);
    Map<String, Set<String>> inherits = inherits(root);
    for (Rule rule : rules) {
      emptyLists(document, rule.pointer() + "/" + rule.effect(), "rule '" + rule.id() + "'",
          rule.match(), findings);
      if (rule.effect().equals("deny")) {
        continue;
      }
      for (Rule deny : rules) {
        if (!deny.effect().equals("deny")) {
          continue;
        }
        if (!deny.conditional() && covers(deny, rule, inherits)) {
          findings.add(finding(document, Severity.WARNING, rule.pointer(), "rule '" + rule.id() + "'",
              "never takes effect: the unconditional deny rule '" + deny.id() + "' (line "
                  + document.location(deny.pointer()).line() + ") matches every request it matches",
              "remove it, or narrow '" + deny.id() + "' with a condition or narrower globs"));
          break;
        }
        if (overlaps(deny, rule)) {
          findings.add(finding(document, Severity.NOTE, rule.pointer(), "rule '" + rule.id() + "'",
              "overlaps the deny rule '" + deny.id() + "', which wins where both match",
              "intended for exceptions; otherwise narrow one of them"));
        }
      }
      if (listedTools != null && "tools".equals(rule.target())) {
        globsMatchingNothing(document, rule.pointer() + "/" + rule.effect() + "/tools",
            "rule '" + rule.id() + "'", rule.match().get("tools"), listedTools, findings);
      }
    }
    unusedRoles(document, root, rules, inherits, findings);
    limits(document, root, rules, inherits, listedTools, findings);
    findings.sort((a, b) -> a.line() != b.line() ? Integer.compare(a.line(), b.line())
        : a.severity().compareTo(b.severity()));
    return findings;
  }

  private static List<Rule> rules(JsonNode root) {
    List<Rule> rules = new ArrayList<>();
    JsonNode list = root == null ? null : root.get("rules");
    if (list == null || !list.isArray()) {
      return rules;
    }
    for (int i = 0; i < list.size(); i++) {
      JsonNode rule = list.get(i);
      for (String effect : EFFECTS) {
        if (rule.has(effect) && rule.get(effect).isObject()) {
          rules.add(new Rule(rule.path("id").asString(""), "/rules/" + i, effect, rule.get(effect)));
        }
      }
    }
    return rules;
  }

  /** Each role and every role it includes, itself among them. */
  private static Map<String, Set<String>> inherits(JsonNode root) {
    Map<String, Set<String>> direct = new LinkedHashMap<>();
    JsonNode roles = root == null ? null : root.get("roles");
    if (roles != null && roles.isObject()) {
      for (Map.Entry<String, JsonNode> role : roles.properties()) {
        direct.put(role.getKey(), new HashSet<>(names(role.getValue() == null ? null : role.getValue().get("inherits"))));
      }
    }
    Map<String, Set<String>> closure = new LinkedHashMap<>();
    for (String role : direct.keySet()) {
      Set<String> all = new HashSet<>();
      List<String> todo = new ArrayList<>(List.of(role));
      while (!todo.isEmpty()) {
        String next = todo.remove(todo.size() - 1);
        if (all.add(next)) {
          todo.addAll(direct.getOrDefault(next, Set.of()));
        }
      }
      closure.put(role, all);
    }
    return closure;
  }

  /** Whether the deny matches every request the rule matches. */
  private static boolean covers(Rule deny, Rule rule, Map<String, Set<String>> inherits) {
    if (!Objects.equals(deny.target(), rule.target()) && deny.target() != null) {
      return false;
    }
    for (String key : names(deny.match())) {
      JsonNode general = deny.match().get(key);
      JsonNode specific = rule.match().get(key);
      if (specific == null) {
        return false; // the rule matches more on this key than the deny does
      }
      switch (key) {
        case "roles":
          // every role the rule accepts holds one of the deny's roles
          for (String role : names(specific)) {
            Set<String> held = inherits.getOrDefault(role, Set.of(role));
            if (names(general).stream().noneMatch(held::contains)) {
              return false;
            }
          }
          break;
        case "principals": case "backends": case "tools": case "prompts": case "resources":
          for (String glob : names(specific)) {
            boolean paths = key.equals("resources");
            if (names(general).stream().noneMatch(g -> coversGlob(g, glob, !paths))) {
              return false;
            }
          }
          break;
        case "methods":
          if (!new HashSet<>(names(general)).containsAll(names(specific))) {
            return false;
          }
          break;
        default:
          if (!general.equals(specific)) {
            return false; // attributes and anything else: only the same constraint is covered
          }
      }
    }
    return true;
  }

  /** Whether some request could match both (over target names only; conservative). */
  private static boolean overlaps(Rule deny, Rule rule) {
    String target = rule.target();
    if (target == null || !target.equals(deny.target())) {
      return false;
    }
    for (String a : names(deny.match().get(target))) {
      for (String b : names(rule.match().get(target))) {
        boolean names = !target.equals("resources");
        if (coversGlob(a, b, names) || coversGlob(b, a, names)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether every name the specific glob matches is matched by the general one, decided for the
   * shapes policies use: equal globs, {@code *} and {@code **}, and a literal prefix followed by
   * one of them. Anything else: not known to cover. In name globs (tools, prompts, principals,
   * backends) every wildcard crosses {@code /}; in path globs (resources) {@code *} does not.
   */
  static boolean coversGlob(String general, String specific, boolean names) {
    if (general.equals(specific) || general.equals("**")) {
      return true;
    }
    if (general.equals("*")) {
      return names || (!specific.contains("/") && !specific.contains("**"));
    }
    boolean deep = general.endsWith("**");
    String prefix = general.substring(0, Math.max(0, general.length() - (deep ? 2 : 1)));
    if (!general.endsWith("*") || wild(prefix) || !specific.startsWith(prefix)) {
      return false;
    }
    String rest = specific.substring(prefix.length());
    return names || deep || (!rest.contains("/") && !rest.contains("**"));
  }

  private static boolean wild(String text) {
    return text.indexOf('*') >= 0 || text.indexOf('?') >= 0 || text.indexOf('\\') >= 0;
  }

  private static void emptyLists(YamlDocument document, String pointer, String subject, JsonNode match,
      List<Finding> findings) {
    for (String key : names(match)) {
      JsonNode value = match.get(key);
      if (value.isArray() && value.isEmpty()) {
        findings.add(finding(document, Severity.WARNING, pointer + "/" + key, subject,
            "never matches: '" + key + "' is an empty list, which nothing matches",
            "list what it should match, or remove the key to match anything"));
      }
    }
  }

  private static void globsMatchingNothing(YamlDocument document, String pointer, String subject,
      JsonNode globs, Collection<String> listed, List<Finding> findings) {
    for (String glob : names(globs)) {
      Glob compiled = Glob.name(glob);
      if (listed.stream().noneMatch(compiled::matches)) {
        findings.add(finding(document, Severity.WARNING, pointer, subject,
            "the glob '" + glob + "' matches no tool the backends list (" + listed.size() + " tools)",
            "check the spelling and the backend prefix; `sentinel config check --start` lists them"));
      }
    }
  }

  private static void unusedRoles(YamlDocument document, JsonNode root, List<Rule> rules,
      Map<String, Set<String>> inherits, List<Finding> findings) {
    Set<String> named = new HashSet<>();
    rules.forEach(rule -> named.addAll(names(rule.match().get("roles"))));
    JsonNode limits = root == null ? null : root.get("limits");
    if (limits != null && limits.isArray()) {
      limits.forEach(limit -> named.addAll(names(limit.get("roles"))));
    }
    boolean anyRuleForEveryone = rules.stream()
        .anyMatch(rule -> !rule.effect().equals("deny") && !rule.match().has("roles"));
    for (Map.Entry<String, Set<String>> role : inherits.entrySet()) {
      if (role.getValue().stream().noneMatch(named::contains)) {
        findings.add(finding(document, Severity.WARNING, "/roles/" + role.getKey(), "role '" + role.getKey() + "'",
            "no rule or limit names it or a role it inherits"
                + (anyRuleForEveryone ? "; only rules without roles apply to its holders"
                    : ": a principal holding only it is denied everything"),
            "name it in a rule, make it inherit a role that is used, or remove it"));
      }
    }
  }

  private static void limits(YamlDocument document, JsonNode root, List<Rule> rules,
      Map<String, Set<String>> inherits, Collection<String> listedTools, List<Finding> findings) {
    JsonNode limits = root == null ? null : root.get("limits");
    if (limits == null || !limits.isArray()) {
      return;
    }
    for (int i = 0; i < limits.size(); i++) {
      JsonNode limit = limits.get(i);
      String pointer = "/limits/" + i;
      String subject = "limit '" + limit.path("id").asString("") + "'";
      emptyLists(document, pointer, subject, limit, findings);
      List<String> tools = names(limit.get("tools"));
      if (tools.isEmpty()) {
        continue;
      }
      boolean allowed = false;
      for (Rule rule : rules) {
        if (rule.effect().equals("deny") || !"tools".equals(rule.target())) {
          continue;
        }
        for (String glob : names(rule.match().get("tools"))) {
          if (tools.stream().anyMatch(t -> coversGlob(t, glob, true) || coversGlob(glob, t, true))) {
            allowed = true;
          }
        }
      }
      boolean unknown = rules.stream().anyMatch(rule -> !rule.effect().equals("deny")
          && "tools".equals(rule.target())
          && names(rule.match().get("tools")).stream().anyMatch(PolicyLint::wildOrUnknown));
      if (!allowed && !unknown) {
        findings.add(finding(document, Severity.WARNING, pointer, subject,
            "never applies: no allow or confirm rule admits the tools it limits ("
                + String.join(", ", tools) + "), and refused calls take no tokens",
            "check its tools against the rules'"));
      }
      if (listedTools != null) {
        globsMatchingNothing(document, pointer + "/tools", subject, limit.get("tools"), listedTools, findings);
      }
    }
  }

  /** A glob whose overlap with a limit's globs the simple cases above cannot decide. */
  private static boolean wildOrUnknown(String glob) {
    int star = glob.indexOf('*');
    return (star >= 0 && star < glob.length() - 2) || glob.indexOf('?') >= 0;
  }

  private static List<String> names(JsonNode node) {
    List<String> names = new ArrayList<>();
    if (node == null) {
      return names;
    }
    if (node.isString()) {
      names.add(node.stringValue());
    } else if (node.isArray()) {
      node.forEach(n -> names.add(n.asString("")));
    } else if (node.isObject()) {
      node.propertyNames().forEach(names::add);
    }
    return names;
  }

  private static Finding finding(YamlDocument document, Severity severity, String pointer, String subject,
      String message, String suggestion) {
    return new Finding(severity, document.source(), document.location(pointer).line(), subject, message,
        suggestion);
  }
}
