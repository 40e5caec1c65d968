package dev.sentinel.policy.tools;

import dev.sentinel.api.Request;
import dev.sentinel.core.config.Suggestions;
import dev.sentinel.core.config.YamlDocument;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.llm.ModelAlias;
import dev.sentinel.core.llm.PassthroughPaths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Finds the mistakes a valid policy can still hold: rules that can never take effect, roles and
 * limits that apply to nothing, tool globs that match no tool a backend lists, and model and path
 * globs that match nothing the config's {@code llm:} section serves. Each finding names the file,
 * line and rule, says why, and suggests a fix.
 *
 * <p>Rules name their targets under {@code tools}, {@code prompts}, {@code resources}, {@code
 * models} (the LLM route's {@code llm/chat} and {@code llm/embeddings}) and {@code paths} (its
 * {@code llm/passthrough}); a rule naming several matches requests of each kind it names, and a
 * rule naming none matches every request.
 *
 * <p>The analysis is conservative: a rule is reported as shadowed only when an unconditional deny
 * rule (no {@code when}, {@code when_cel} or {@code during}) provably matches everything it
 * matches. Where a glob's coverage cannot be decided simply, nothing is reported. Overlaps of an
 * allow rule with a deny rule are notes, not warnings: a narrow deny inside a broad allow is the
 * usual way to write an exception.
 */
public final class PolicyLint {
  private static final List<String> EFFECTS = List.of("allow", "deny", "confirm");
  private static final List<String> TARGETS =
      List.of("tools", "prompts", "resources", "models", "paths");
  /** Target keys whose globs are path globs ({@code *} stays within a segment). */
  private static final Set<String> PATH_TARGETS = Set.of("resources", "paths");
  /** The methods a rule naming a target key matches when it names no {@code methods}. */
  private static final Map<String, List<String>> DERIVED_METHODS = Map.of(
      "tools", List.of(Request.TOOLS_CALL),
      "prompts", List.of(Request.PROMPTS_GET),
      "resources", List.of(Request.RESOURCES_READ, "resources/subscribe", "resources/unsubscribe"),
      "models", List.of(Request.LLM_CHAT, Request.LLM_EMBEDDINGS),
      "paths", List.of(Request.LLM_PASSTHROUGH));
  /** How many known names a finding lists at the most. */
  private static final int SHOWN_NAMES = 10;
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

    /** The target keys it names; none: it matches requests of every kind. */
    List<String> targets() {
      return TARGETS.stream().filter(match::has).toList();
    }

    /** The methods it matches: its own, else those its targets imply; {@code null} for any. */
    @Nullable List<String> methods() {
      if (match.has("methods")) {
        return names(match.get("methods"));
      }
      List<String> targets = targets();
      if (targets.isEmpty()) {
        return null;
      }
      List<String> methods = new ArrayList<>();
      targets.forEach(target -> methods.addAll(DERIVED_METHODS.get(target)));
      return methods;
    }
  }

  /**
   * Lints a policy file's text. The policy must be valid: compile it first to report its errors.
   *
   * @param listedTools the tool names the backends list (as the gateway names them, {@code
   *     backend__tool}), or {@code null} when the backends were not asked: then globs are not
   *     checked against them
   */
  public static List<Finding> lint(
      String yaml, String source, @Nullable Collection<String> listedTools) {
    return lint(yaml, source, listedTools, null);
  }

  /**
   * Lints a policy file's text, also checking model and path globs against what a config's
   * {@code llm:} section serves. The policy must be valid: compile it first to report its errors.
   *
   * @param listedTools the tool names the backends list (as the gateway names them, {@code
   *     backend__tool}), or {@code null} when the backends were not asked: then globs are not
   *     checked against them
   * @param llm the config's {@code llm:} section, or {@code null} when there is no config; when
   *     it has no upstreams (the route is not served), model and path globs are not checked
   */
  public static List<Finding> lint(String yaml, String source,
      @Nullable Collection<String> listedTools, @Nullable LlmSettings llm) {
    LlmSettings served = llm != null && llm.enabled() ? llm : null;
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
      String subject = "rule '" + rule.id() + "'";
      String at = rule.pointer() + "/" + rule.effect();
      if (listedTools != null && rule.match().has("tools")) {
        globsMatchingNothing(document, at + "/tools", subject, rule.match().get("tools"),
            listedTools, findings);
      }
      if (served != null && rule.match().has("models")) {
        modelsMatchingNothing(document, at + "/models", subject, rule.match().get("models"), served,
            findings);
      }
      if (served != null && rule.match().has("paths")) {
        pathsMatchingNothing(document, at + "/paths", subject, rule.match().get("paths"), served,
            findings);
      }
    }
    unusedRoles(document, root, rules, inherits, findings);
    limits(document, root, rules, listedTools, served, findings);
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
    if (!deny.targets().isEmpty()) {
      if (rule.targets().isEmpty()) {
        return false; // the rule matches requests of every kind, the deny only some
      }
      for (String key : rule.targets()) {
        if (!deny.match().has(key)) {
          return false; // the rule matches requests of a kind the deny does not name
        }
        boolean names = !PATH_TARGETS.contains(key);
        for (String glob : names(rule.match().get(key))) {
          if (names(deny.match().get(key)).stream().noneMatch(g -> coversGlob(g, glob, names))) {
            return false;
          }
        }
      }
    }
    List<String> denyMethods = deny.methods();
    if (denyMethods != null) {
      List<String> ruleMethods = rule.methods();
      if (ruleMethods == null) {
        return false;
      }
      for (String method : ruleMethods) {
        if (denyMethods.stream().noneMatch(g -> coversGlob(g, method, true))) {
          return false;
        }
      }
    }
    for (String key : names(deny.match())) {
      if (TARGETS.contains(key) || key.equals("methods")) {
        continue; // decided above
      }
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
        case "principals": case "backends":
          for (String glob : names(specific)) {
            if (names(general).stream().noneMatch(g -> coversGlob(g, glob, true))) {
              return false;
            }
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
    for (String target : rule.targets()) {
      if (!deny.match().has(target)) {
        continue;
      }
      boolean names = !PATH_TARGETS.contains(target);
      for (String a : names(deny.match().get(target))) {
        for (String b : names(rule.match().get(target))) {
          if (coversGlob(a, b, names) || coversGlob(b, a, names)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /**
   * Whether every name the specific glob matches is matched by the general one, decided for the
   * shapes policies use: equal globs, {@code *} and {@code **}, and a literal prefix followed by
   * one of them. Anything else: not known to cover. In name globs (tools, prompts, models,
   * principals, backends) every wildcard crosses {@code /}; in path globs (resources, paths)
   * {@code *} does not.
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

  /**
   * Model globs against the models the upstreams serve. The policy decides on the model an alias
   * maps to, never on the alias, so a glob that matches only aliases matches no request either.
   */
  private static void modelsMatchingNothing(YamlDocument document, String pointer, String subject,
      JsonNode globs, LlmSettings llm, List<Finding> findings) {
    Set<String> served = new LinkedHashSet<>();
    llm.upstreams().forEach(upstream -> served.addAll(upstream.models()));
    for (String glob : names(globs)) {
      Glob compiled = Glob.name(glob);
      if (served.stream().anyMatch(compiled::matches)) {
        continue;
      }
      List<ModelAlias> aliases = llm.aliases().values().stream()
          .filter(alias -> compiled.matches(alias.name()))
          .sorted((a, b) -> a.name().compareTo(b.name())).toList();
      if (!aliases.isEmpty()) {
        Set<String> models = new LinkedHashSet<>();
        aliases.forEach(alias -> {
          models.addAll(alias.byRole().values());
          if (alias.fallback() != null) {
            models.add(alias.fallback());
          }
        });
        findings.add(finding(document, Severity.WARNING, pointer, subject, "the glob '" + glob
                + "' matches the alias " + quoted(aliases.stream().map(ModelAlias::name).toList())
                + " but no model the upstreams serve, and the policy decides on the model an alias"
                + " maps to, so it matches no request",
            "name the model it maps to: " + shown(models)));
        continue;
      }
      Set<String> known = new LinkedHashSet<>(served);
      known.addAll(new TreeSet<>(llm.aliases().keySet()));
      String nearest = Suggestions.nearest(glob, known).map(n -> "did you mean '" + n + "'? ")
          .orElse("");
      findings.add(finding(document, Severity.WARNING, pointer, subject, "the glob '" + glob
              + "' matches no model the config's llm: upstreams serve, nor an alias ("
              + served.size() + " models, " + llm.aliases().size() + " aliases)",
          nearest + "known: " + shown(known)));
    }
  }

  /** Path globs against the paths the upstreams pass through. */
  private static void pathsMatchingNothing(YamlDocument document, String pointer, String subject,
      JsonNode globs, LlmSettings llm, List<Finding> findings) {
    List<String> patterns = new ArrayList<>();
    llm.upstreams().forEach(upstream -> patterns.addAll(upstream.passthrough()));
    for (String glob : names(globs)) {
      if (patterns.stream().noneMatch(pattern -> mayMatch(glob, pattern))) {
        findings.add(finding(document, Severity.WARNING, pointer, subject, "the glob '" + glob
                + "' matches no path the config's llm: upstreams pass through"
                + (patterns.isEmpty() ? " (they pass none)" : " (" + String.join(", ", patterns)
                    + ")"),
            "add it to an upstream's passthrough, or fix the glob; other paths are refused"
                + " before the policy is asked"));
      }
    }
  }

  /**
   * Whether a path glob may match a path a passthrough pattern passes: exactly decided for a
   * pattern naming one path; for a pattern {@code /a/*}, unless the glob's literal prefix and the
   * pattern's part before {@code *} differ before either ends, it may.
   */
  static boolean mayMatch(String glob, String pattern) {
    Glob compiled = Glob.compile(glob);
    if (!pattern.endsWith("/*")) {
      return compiled.matches(pattern);
    }
    if (compiled.isLiteral()) {
      return PassthroughPaths.matches(pattern, compiled.literalPrefix());
    }
    String under = pattern.substring(0, pattern.length() - 1);
    String prefix = compiled.literalPrefix();
    return prefix.startsWith(under) || under.startsWith(prefix);
  }

  private static String quoted(List<String> names) {
    return "'" + String.join("', '", names) + "'";
  }

  private static String shown(Collection<String> names) {
    if (names.isEmpty()) {
      return "none";
    }
    List<String> first = names.stream().limit(SHOWN_NAMES).toList();
    return String.join(", ", first)
        + (names.size() > first.size() ? " and " + (names.size() - first.size()) + " more" : "");
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
      @Nullable Collection<String> listedTools, @Nullable LlmSettings llm,
      List<Finding> findings) {
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
      // A limit's 'tools' are globs on the target name of the requests its methods name
      // (tools/call when it names none): model names for llm/chat, paths for llm/passthrough.
      Set<String> keys = new HashSet<>();
      for (String method : limit.has("methods") ? names(limit.get("methods"))
          : List.of(Request.TOOLS_CALL)) {
        keys.add(targetKey(Request.Kind.of(method)));
      }
      boolean decidable = !keys.contains(null)
          && tools.stream().noneMatch(PolicyLint::wildOrUnknown);
      boolean allowed = false;
      for (Rule rule : rules) {
        if (rule.effect().equals("deny")) {
          continue;
        }
        if (rule.targets().isEmpty()) {
          allowed = true; // a rule naming no target admits requests of every kind
        }
        for (String key : rule.targets()) {
          if (!keys.contains(key)) {
            continue;
          }
          for (String glob : names(rule.match().get(key))) {
            // Name-glob coverage over-approximates path-glob overlap: it never hides one.
            if (wildOrUnknown(glob)
                || tools.stream().anyMatch(t -> coversGlob(t, glob, true)
                    || coversGlob(glob, t, true))) {
              allowed = true;
            }
          }
        }
      }
      if (decidable && !allowed) {
        findings.add(finding(document, Severity.WARNING, pointer, subject,
            "never applies: no allow or confirm rule admits the " + String.join(" or ",
                new TreeSet<>(keys)) + " it limits ("
                + String.join(", ", tools) + "), and refused calls take no tokens",
            "check its tools against the rules'"));
      }
      if (listedTools != null && keys.equals(Set.of("tools"))) {
        globsMatchingNothing(document, pointer + "/tools", subject, limit.get("tools"), listedTools, findings);
      }
      if (llm != null && keys.equals(Set.of("models"))) {
        modelsMatchingNothing(document, pointer + "/tools", subject, limit.get("tools"), llm,
            findings);
      }
    }
  }

  /** The rule key naming a kind of target, or {@code null} for a kind no rule key names. */
  private static @Nullable String targetKey(Request.Kind kind) {
    switch (kind) {
      case TOOL:
        return "tools";
      case PROMPT:
        return "prompts";
      case RESOURCE:
        return "resources";
      case MODEL:
        return "models";
      case PATH:
        return "paths";
      default:
        return null;
    }
  }

  /**
   * A glob whose overlap with another {@link #coversGlob} cannot decide: anything but a literal,
   * or a literal followed by one {@code *} or {@code **}.
   */
  private static boolean wildOrUnknown(String glob) {
    String head = glob.endsWith("**") ? glob.substring(0, glob.length() - 2)
        : glob.endsWith("*") ? glob.substring(0, glob.length() - 1) : glob;
    return wild(head);
  }

  private static List<String> names(@Nullable JsonNode node) {
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
