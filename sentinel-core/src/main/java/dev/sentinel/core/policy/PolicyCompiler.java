package dev.sentinel.core.policy;

import dev.sentinel.api.Effect;
import dev.sentinel.api.Rate;
import dev.sentinel.api.Request;
import dev.sentinel.core.config.ConfigReader;
import dev.sentinel.core.config.Suggestions;
import dev.sentinel.core.config.Units;
import dev.sentinel.core.config.YamlDocument;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.limit.LimitSync;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;

/**
 * Turns a policy's YAML tree into compiled rules, role closures and limits, checking every key
 * and value and collecting every problem with its location. Not thread-safe: one per load.
 */
final class PolicyCompiler {
  static final List<String> TOP_KEYS = List.of("roles", "rules", "limits", "break_glass");
  /** The keys of the {@code break_glass:} section. */
  static final List<String> BREAK_GLASS_KEYS =
      List.of("max_ttl", "totp_attempts", "totp_lockout", "rules", "description");
  /** The tag of calls made in a break-glass window; no rule may have it as its id. */
  static final String BREAK_GLASS_TAG = "break_glass";
  static final List<String> ROLE_KEYS = List.of("inherits", "description");
  static final List<String> RULE_KEYS = List.of("allow", "deny", "confirm", "id", "reason",
      "description", "by", "approvals", "wait", "expires");
  /** The keys only {@code confirm} rules take: how their calls are approved. */
  static final List<String> CONFIRM_KEYS = List.of("by", "approvals", "wait", "expires");
  static final List<String> EFFECT_KEYS = List.of("allow", "deny", "confirm");
  static final List<String> MATCH_KEYS =
      List.of("roles", "principals", "attributes", "methods", "backends", "tools", "prompts",
          "resources", "models", "paths", "when", "when_cel", "during");
  /**
   * The condition languages Sentinel's own modules provide, by key: where to find each, for the
   * error when a policy uses one that was not registered.
   */
  static final Map<String, String> KNOWN_LANGUAGES = Map.of("when_cel",
      "CEL (Common Expression Language) conditions are in the module sentinel-policy-cel "
          + "(dev.sentinel:sentinel-policy-cel): the sentinel command has it; when embedding, "
          + "add the module and load the policy with PolicyOptions.builder().language("
          + "CelConditionLanguage.create()).build()");
  static final List<String> WINDOW_KEYS = List.of("days", "hours", "zone");
  static final List<String> LIMIT_KEYS =
      List.of("id", "rate", "burst", "per", "tools", "backends", "principals", "roles", "methods",
          "cost", "sync", "description");
  static final List<String> PER_KEYS = List.of("principal", "tool", "backend", "role");
  static final List<String> DAYS = List.of("mon", "tue", "wed", "thu", "fri", "sat", "sun");
  private static final List<String> DAY_NAMES =
      List.of("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday");
  private static final Pattern HOURS =
      Pattern.compile("\\s*(\\d{1,2}):(\\d{2})\\s*-\\s*(\\d{1,2}):(\\d{2})\\s*");

  /** The result of a compilation. */
  record Compiled(List<Rule> rules, List<LimitRule> limits, Map<String, Set<String>> closures,
      Map<String, ConfirmSettings> confirmations, List<Rule> breakGlassRules,
      @Nullable BreakGlassSettings breakGlass) {}

  private final ConfigReader in;
  private final String base;
  private final PolicyOptions options;
  /** {@link #MATCH_KEYS} and the keys of the registered languages. */
  private final List<String> matchKeys;
  /** The confirm rules' approval settings, by rule id. */
  private final Map<String, ConfirmSettings> confirmations = new HashMap<>();
  private final Map<String, List<String>> inherits = new LinkedHashMap<>();
  private Map<String, Set<String>> closures = Map.of();

  private PolicyCompiler(YamlDocument document, String base, PolicyOptions options) {
    this.in = new ConfigReader(document);
    this.base = base;
    this.options = options;
    List<String> keys = new ArrayList<>(MATCH_KEYS);
    for (String key : options.keys()) {
      if (!keys.contains(key)) {
        keys.add(key);
      }
    }
    this.matchKeys = List.copyOf(keys);
  }

  /**
   * Compiles the policy mapping at {@code pointer} ({@code ""} for the whole document).
   *
   * @throws dev.sentinel.core.config.ConfigException listing every problem
   */
  static Compiled compile(YamlDocument document, String pointer, PolicyOptions options) {
    PolicyCompiler compiler = new PolicyCompiler(document, pointer, options);
    Compiled compiled = compiler.compile();
    compiler.in.throwIfErrors();
    return compiled;
  }

  private Compiled compile() {
    JsonNode root = in.node(base);
    if (root.isMissingNode() || root.isNull()) {
      return new Compiled(List.of(), List.of(), Map.of(), Map.of(), List.of(), null);
    }
    if (!in.checkKeys(base, null, TOP_KEYS)) {
      return new Compiled(List.of(), List.of(), Map.of(), Map.of(), List.of(), null);
    }
    roles();
    Map<String, String> ids = new HashMap<>();
    List<Rule> rules = rules(base + "/rules", ids);
    List<LimitRule> limits = limits();
    List<Rule> breakGlassRules = new ArrayList<>();
    BreakGlassSettings breakGlass = breakGlass(ids, breakGlassRules);
    return new Compiled(rules, limits, closures, Map.copyOf(confirmations), breakGlassRules,
        breakGlass);
  }

  // ---- roles -------------------------------------------------------------------------------

  private void roles() {
    String pointer = base + "/roles";
    JsonNode node = in.node(pointer);
    if (node.isMissingNode() || node.isNull()) {
      return;
    }
    if (!node.isObject()) {
      in.error(pointer, null, "expected a mapping of role names to { inherits: [...] }, got "
          + ConfigReader.describe(node));
      return;
    }
    for (String role : node.propertyNames()) {
      inherits.put(role, new ArrayList<>());
    }
    for (String role : node.propertyNames()) {
      String rolePointer = YamlDocument.child(pointer, role);
      String subject = "role '" + role + "'";
      JsonNode body = in.node(rolePointer);
      if (body.isNull()) {
        continue;
      }
      if (!in.checkKeys(rolePointer, subject, ROLE_KEYS)) {
        continue;
      }
      description(rolePointer, subject);
      String inheritsPointer = rolePointer + "/inherits";
      if (!in.present(inheritsPointer, subject, false)) {
        continue;
      }
      List<String> parents = in.names(inheritsPointer, subject, "role names");
      for (int i = 0; i < parents.size(); i++) {
        String parent = parents.get(i);
        String at = in.node(inheritsPointer).isArray()
            ? YamlDocument.child(inheritsPointer, i) : inheritsPointer;
        if (checkRole(at, subject, parent)) {
          Objects.requireNonNull(inherits.get(role), "every declared role is in inherits")
              .add(parent);
        }
      }
    }
    reportCycles(pointer);
    Map<String, Set<String>> out = new HashMap<>();
    for (String role : inherits.keySet()) {
      Set<String> closure = new LinkedHashSet<>();
      List<String> todo = new ArrayList<>(List.of(role));
      while (!todo.isEmpty()) {
        String next = todo.remove(todo.size() - 1);
        if (closure.add(next)) {
          todo.addAll(inherits.getOrDefault(next, List.of()));
        }
      }
      out.put(role, Set.copyOf(closure));
    }
    closures = Map.copyOf(out);
  }

  private void reportCycles(String pointer) {
    Map<String, Integer> state = new HashMap<>();
    Set<String> reported = new HashSet<>();
    for (String role : inherits.keySet()) {
      findCycle(role, new ArrayList<>(), state, reported, pointer);
    }
  }

  private void findCycle(
      String role, List<String> path, Map<String, Integer> state, Set<String> reported,
      String pointer) {
    Integer s = state.get(role);
    if (s != null && s == 2) {
      return;
    }
    if (s != null && s == 1) {
      List<String> cycle = new ArrayList<>(path.subList(path.indexOf(role), path.size()));
      cycle.add(role);
      if (reported.add(new java.util.TreeSet<>(cycle).toString())) {
        in.error(YamlDocument.child(pointer, cycle.get(0)) + "/inherits",
            "role '" + cycle.get(0) + "'",
            "cyclic role inheritance: " + String.join(" -> ", cycle)
                + "; remove one of these inherits");
      }
      return;
    }
    state.put(role, 1);
    path.add(role);
    for (String parent : inherits.getOrDefault(role, List.of())) {
      findCycle(parent, path, state, reported, pointer);
    }
    path.remove(path.size() - 1);
    state.put(role, 2);
  }

  /** Records an error and returns false unless the role is declared. */
  private boolean checkRole(String pointer, String subject, String role) {
    if (inherits.containsKey(role)) {
      return true;
    }
    StringBuilder message = new StringBuilder("unknown role '").append(role).append("'");
    Suggestions.nearest(role, inherits.keySet())
        .ifPresent(s -> message.append("; did you mean '").append(s).append("'?"));
    message.append(inherits.isEmpty()
        ? " (no roles are declared: declare it under 'roles:')"
        : " (declared: " + String.join(", ", inherits.keySet())
            + "; declare it under 'roles:')");
    in.error(pointer, subject, message.toString());
    return false;
  }

  // ---- rules -------------------------------------------------------------------------------

  private List<Rule> rules(String pointer, Map<String, String> ids) {
    JsonNode node = in.node(pointer);
    List<Rule> rules = new ArrayList<>();
    if (node.isMissingNode() || node.isNull()) {
      return rules;
    }
    if (!node.isArray()) {
      in.error(pointer, null, "expected a list of rules (each '- id: ...'), got "
          + ConfigReader.describe(node));
      return rules;
    }
    for (int i = 0; i < node.size(); i++) {
      Rule rule = rule(YamlDocument.child(pointer, i), rules.size(), ids);
      if (rule != null) {
        rules.add(rule);
      }
    }
    return rules;
  }

  private @Nullable Rule rule(String pointer, int order, Map<String, String> ids) {
    JsonNode node = in.node(pointer);
    if (!node.isObject()) {
      in.error(pointer, "rule at " + pointer, "expected a rule (a mapping with id and one of "
          + "allow, deny, confirm), got " + ConfigReader.describe(node));
      return null;
    }
    String id = null;
    if (in.present(pointer + "/id", "rule at " + pointer, true)) {
      id = in.string(pointer + "/id", "rule at " + pointer, "a rule id");
      if (id != null && id.isBlank()) {
        in.error(pointer + "/id", "rule at " + pointer, "rule id must not be blank");
        id = null;
      }
    }
    String subject = id == null ? "rule at " + pointer : "rule '" + id + "'";
    in.checkKeys(pointer, subject, RULE_KEYS);
    if (BREAK_GLASS_TAG.equals(id)) {
      in.error(pointer + "/id", subject, "the rule id '" + BREAK_GLASS_TAG + "' is reserved: it"
          + " tags the calls made in a break-glass window; choose another");
      id = null;
    }
    if (id != null) {
      String first = ids.putIfAbsent(id, pointer);
      if (first != null) {
        in.error(pointer + "/id", subject, "duplicate rule id '" + id + "' (first at line "
            + in.document().location(first).line() + "); give each rule a unique id");
      }
    }
    description(pointer, subject);
    String reason = null;
    if (in.present(pointer + "/reason", subject, false)) {
      reason = in.string(pointer + "/reason", subject, "a reason (text)");
    }
    List<String> effects = new ArrayList<>();
    for (String key : EFFECT_KEYS) {
      if (node.has(key)) {
        effects.add(key);
      }
    }
    if (effects.isEmpty()) {
      in.error(pointer, subject, "rule has none of allow, deny, confirm; add exactly one, "
          + "such as 'allow: { roles: [...], tools: [...] }'");
      return null;
    }
    if (effects.size() > 1) {
      in.error(pointer + "/" + effects.get(1), subject, "rule has both " + effects.get(0)
          + " and " + effects.get(1) + "; a rule has exactly one of allow, deny, confirm "
          + "(split it into separate rules)");
      return null;
    }
    Effect effect = Effect.valueOf(effects.get(0).toUpperCase(Locale.ROOT));
    ConfirmSettings confirm = confirmSettings(pointer, subject, effect);
    if (id != null && confirm != null) {
      confirmations.put(id, confirm);
    }
    Rule rule = match(pointer + "/" + effects.get(0), subject, id, order, effect, reason);
    return id == null ? null : rule;
  }

  // ---- break_glass -------------------------------------------------------------------------

  /**
   * The {@code break_glass:} section: its settings, and its rules into {@code out} (ids unique
   * across the whole policy); {@code null} without the section.
   */
  private @Nullable BreakGlassSettings breakGlass(Map<String, String> ids, List<Rule> out) {
    String pointer = base + "/break_glass";
    JsonNode node = in.node(pointer);
    if (node.isMissingNode()) {
      return null;
    }
    String subject = "break_glass";
    if (!node.isObject()) {
      in.error(pointer, subject, "expected a mapping (max_ttl, totp_attempts, totp_lockout,"
          + " rules), got " + ConfigReader.describe(node) + "; use {} for the defaults");
      return null;
    }
    in.checkKeys(pointer, subject, BREAK_GLASS_KEYS);
    description(pointer, subject);
    BreakGlassSettings d = BreakGlassSettings.DEFAULTS;
    Duration maxTtl = confirmDuration(pointer + "/max_ttl", subject, d.maxTtl(),
        BreakGlassSettings.MIN_TTL, BreakGlassSettings.MAX_TTL, "1m to 24h");
    Duration lockout = confirmDuration(pointer + "/totp_lockout", subject, d.totpLockout(),
        BreakGlassSettings.MIN_TTL, BreakGlassSettings.MAX_TTL, "1m to 24h");
    int attempts = d.totpAttempts();
    if (in.present(pointer + "/totp_attempts", subject, false)) {
      OptionalLong n = in.positiveLong(pointer + "/totp_attempts", subject,
          "a number of wrong codes");
      if (n.isPresent()) {
        if (n.getAsLong() > BreakGlassSettings.MAX_ATTEMPTS) {
          in.error(pointer + "/totp_attempts", subject, "at most "
              + BreakGlassSettings.MAX_ATTEMPTS + " attempts, got " + n.getAsLong());
        } else {
          attempts = (int) n.getAsLong();
        }
      }
    }
    out.addAll(rules(pointer + "/rules", ids));
    return new BreakGlassSettings(maxTtl, attempts, lockout);
  }

  /**
   * A confirm rule's approval settings (the defaults for keys not given); {@code null} for other
   * rules, which may not give them.
   */
  private @Nullable ConfirmSettings confirmSettings(String pointer, String subject, Effect effect) {
    if (effect != Effect.CONFIRM) {
      for (String key : CONFIRM_KEYS) {
        if (in.node(pointer).has(key)) {
          in.error(pointer + "/" + key, subject, "'" + key + "' is for confirm rules only: it"
              + " says how their calls are approved");
        }
      }
      return null;
    }
    ConfirmSettings d = ConfirmSettings.DEFAULTS;
    ConfirmSettings.By by = null;
    if (in.present(pointer + "/by", subject, false)) {
      String text = in.string(pointer + "/by", subject, "one of caller, operator, either");
      if (text != null) {
        try {
          by = ConfirmSettings.By.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          in.error(pointer + "/by", subject, "expected one of caller, operator, either, got '"
              + text + "'");
        }
      }
    }
    int approvals = d.approvals();
    if (in.present(pointer + "/approvals", subject, false)) {
      OptionalLong n = in.positiveLong(pointer + "/approvals", subject, "a number of approvals");
      if (n.isPresent()) {
        if (n.getAsLong() > ConfirmSettings.MAX_APPROVALS) {
          in.error(pointer + "/approvals", subject, "at most " + ConfirmSettings.MAX_APPROVALS
              + " approvals, got " + n.getAsLong());
        } else {
          approvals = (int) n.getAsLong();
        }
      }
    }
    Duration wait = confirmDuration(pointer + "/wait", subject, d.waitFor(), Duration.ZERO,
        ConfirmSettings.MAX_WAIT, "0s to 15m");
    Duration expires = confirmDuration(pointer + "/expires", subject, d.expires(),
        ConfirmSettings.MIN_EXPIRES, ConfirmSettings.MAX_EXPIRES, "1m to 7d");
    return new ConfirmSettings(approvals, wait, expires, by);
  }

  private Duration confirmDuration(String pointer, String subject, Duration fallback,
      Duration min, Duration max, String range) {
    if (!in.present(pointer, subject, false)) {
      return fallback;
    }
    String text = in.string(pointer, subject, "a duration such as 2m or 1h");
    if (text == null) {
      return fallback;
    }
    Duration d;
    try {
      d = Units.parseDuration(text);
    } catch (IllegalArgumentException e) {
      in.error(pointer, subject, e.getMessage() + ", got '" + text + "'");
      return fallback;
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      in.error(pointer, subject, "expected " + range + ", got " + text);
      return fallback;
    }
    return d;
  }

  private void description(String pointer, String subject) {
    if (in.present(pointer + "/description", subject, false)) {
      in.string(pointer + "/description", subject, "a description (text)");
    }
  }

  private @Nullable Rule match(String pointer, String subject, @Nullable String id, int order,
      Effect effect, @Nullable String reason) {
    JsonNode node = in.node(pointer);
    if (!node.isObject()) {
      in.error(pointer, subject, "expected a mapping of conditions (" + String.join(", ", matchKeys)
          + "), got " + ConfigReader.describe(node) + "; use {} to match every request");
      return null;
    }
    int before = in.problems().size();
    in.checkKeys(pointer, subject, matchKeys);
    Set<String> roles = null;
    if (has(pointer + "/roles")) {
      roles = new LinkedHashSet<>();
      List<String> names = nonEmptyNames(pointer + "/roles", subject, "role names");
      for (int i = 0; i < names.size(); i++) {
        if (checkRole(elementPointer(pointer + "/roles", i), subject, names.get(i))) {
          roles.add(names.get(i));
        }
      }
    }
    List<Glob> principals = globs(pointer + "/principals", subject, "principal id globs");
    Map<String, Set<String>> attributes = attributes(pointer + "/attributes", subject);
    List<Glob> backends = globs(pointer + "/backends", subject, "backend globs");
    List<Glob> tools = globs(pointer + "/tools", subject, "tool name globs");
    List<Glob> prompts = globs(pointer + "/prompts", subject, "prompt name globs");
    List<Glob> resources = globs(pointer + "/resources", subject, "resource URI globs");
    List<Glob> models = globs(pointer + "/models", subject, "model name globs");
    List<Glob> paths = globs(pointer + "/paths", subject, "passed-through path globs");
    List<Glob> methods = globs(pointer + "/methods", subject, "MCP methods");
    if (methods != null) {
      checkMethods(pointer + "/methods", subject, methods, tools, prompts, resources, models,
          paths);
    } else {
      methods = derivedMethods(tools, prompts, resources, models, paths);
    }
    List<Condition> when = when(pointer + "/when", subject, effect);
    List<ExpressionCondition> expressions = new ArrayList<>();
    for (String key : matchKeys) {
      if (key.startsWith("when_") && has(pointer + "/" + key)) {
        ExpressionCondition expression = expression(pointer + "/" + key, subject, key, effect);
        if (expression != null) {
          expressions.add(expression);
        }
      }
    }
    TimeWindow during = has(pointer + "/during") ? during(pointer + "/during", subject) : null;
    if (in.problems().size() > before || id == null) {
      return null;
    }
    return new Rule(id, order, effect, reason, roles, closures, principals, attributes, methods,
        backends, tools, prompts, resources, models, paths, when, expressions, during);
  }

  private void checkMethods(String pointer, String subject, List<Glob> methods,
      @Nullable List<Glob> tools, @Nullable List<Glob> prompts, @Nullable List<Glob> resources,
      @Nullable List<Glob> models, @Nullable List<Glob> paths) {
    if (tools == null && prompts == null && resources == null && models == null
        && paths == null) {
      return;
    }
    for (Glob method : methods) {
      if (!method.isLiteral()) {
        continue;
      }
      Request.Kind kind = Request.Kind.of(method.toString());
      boolean named = kind == Request.Kind.TOOL ? tools != null
          : kind == Request.Kind.PROMPT ? prompts != null
          : kind == Request.Kind.RESOURCE ? resources != null
          : kind == Request.Kind.MODEL ? models != null
          : kind == Request.Kind.PATH && paths != null;
      if (!named && kind == Request.Kind.PATH) {
        // The form before passed-through paths had their own key: say where the paths go now.
        in.error(pointer, subject, "method '" + method + "' can never match: its requests are "
            + "named by a path, which a rule names under 'paths:' (such as paths: "
            + "[/v1/responses, \"/v1/audio/*\"]), never under 'models:'");
      } else if (!named) {
        in.error(pointer, subject, "method '" + method + "' can never match: the rule names "
            + "tools, prompts, resources, models or paths, but none of the kind this method "
            + "addresses; add the matching target key or remove the method");
      }
    }
  }

  private static @Nullable List<Glob> derivedMethods(@Nullable List<Glob> tools,
      @Nullable List<Glob> prompts, @Nullable List<Glob> resources, @Nullable List<Glob> models,
      @Nullable List<Glob> paths) {
    if (tools == null && prompts == null && resources == null && models == null
        && paths == null) {
      return null;
    }
    List<Glob> out = new ArrayList<>();
    if (tools != null) {
      out.add(Glob.name(Request.TOOLS_CALL));
    }
    if (prompts != null) {
      out.add(Glob.name(Request.PROMPTS_GET));
    }
    if (resources != null) {
      out.add(Glob.name(Request.RESOURCES_READ));
      out.add(Glob.name("resources/subscribe"));
      out.add(Glob.name("resources/unsubscribe"));
    }
    if (models != null) {
      out.add(Glob.name(Request.LLM_CHAT));
      out.add(Glob.name(Request.LLM_EMBEDDINGS));
    }
    if (paths != null) {
      out.add(Glob.name(Request.LLM_PASSTHROUGH));
    }
    return out;
  }

  private boolean has(String pointer) {
    return !in.node(pointer).isMissingNode();
  }

  private String elementPointer(String pointer, int i) {
    return in.node(pointer).isArray() ? YamlDocument.child(pointer, i) : pointer;
  }

  private List<String> nonEmptyNames(String pointer, String subject, String what) {
    JsonNode node = in.node(pointer);
    if (node.isArray() && node.isEmpty()) {
      String key = pointer.substring(pointer.lastIndexOf('/') + 1);
      in.error(pointer, subject, "'" + key + "' must not be empty; list at least one, or remove "
          + "the key to match any");
    }
    return in.names(pointer, subject, what);
  }

  private @Nullable List<Glob> globs(String pointer, String subject, String what) {
    if (!has(pointer)) {
      return null;
    }
    // Resource URIs and passed-through paths are paths ('*' stays within a segment, '**'
    // crosses); every other name glob lets wildcards cross '/'.
    boolean passed = pointer.endsWith("/paths");
    boolean paths = passed || pointer.endsWith("/resources");
    List<String> names = nonEmptyNames(pointer, subject, what);
    List<Glob> out = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      if (passed && !name.startsWith("/")) {
        // A path is always absolute: "*" or "v1/*" would match no request, silently.
        in.error(elementPointer(pointer, i), subject, "'" + name + "' matches no path: a path "
            + "glob starts with '/', such as /v1/responses, \"/v1/audio/*\" (one segment) or "
            + "\"/v1/files/**\" (any depth)");
        continue;
      }
      out.add(paths ? Glob.compile(name) : Glob.name(name));
    }
    return out;
  }

  private @Nullable Map<String, Set<String>> attributes(String pointer, String subject) {
    JsonNode node = in.node(pointer);
    if (node.isMissingNode()) {
      return null;
    }
    if (!node.isObject() || node.isEmpty()) {
      in.error(pointer, subject, "expected a mapping of attribute names to values, such as "
          + "{ team: [payments, ops] }, got " + ConfigReader.describe(node));
      return null;
    }
    Map<String, Set<String>> out = new LinkedHashMap<>();
    for (String name : node.propertyNames()) {
      String at = YamlDocument.child(pointer, name);
      out.put(name, Set.copyOf(nonEmptyNames(at, subject, "attribute values")));
    }
    return out;
  }

  // ---- when --------------------------------------------------------------------------------

  private List<Condition> when(String pointer, String subject, Effect effect) {
    JsonNode node = in.node(pointer);
    List<Condition> out = new ArrayList<>();
    if (node.isMissingNode()) {
      return out;
    }
    if (!node.isObject()) {
      in.error(pointer, subject, "expected a mapping of JSON Pointers to operators, such as "
          + "{ \"/path\": { glob: \"/workspace/**\" } }, got " + ConfigReader.describe(node));
      return out;
    }
    for (String key : node.propertyNames()) {
      String at = YamlDocument.child(pointer, key);
      try {
        JsonPointer.compile(key);
        if (key.matches(".*~([^01].*|$)")) {
          throw new IllegalArgumentException("bad escape");
        }
      } catch (IllegalArgumentException e) {
        in.error(at, subject, "invalid JSON Pointer '" + key + "': a pointer is \"\" or starts "
            + "with '/', such as \"/path\" or \"/options/mode\" (escape '~' as ~0 and '/' as ~1)");
        continue;
      }
      if (key.equals("/**") || key.startsWith("/**/") || key.contains("/**/")
          || key.endsWith("/**")) {
        in.error(at, subject, "'**' in the pointer '" + key + "' is not supported: a segment "
            + "'*' matches every element of one array or object; write one '*' per level, "
            + "such as \"/items/*/tags/*\"");
        continue;
      }
      Condition condition = condition(at, subject, key, effect);
      if (condition != null) {
        out.add(condition);
      }
    }
    return out;
  }

  private @Nullable Condition condition(String at, String subject, String key, Effect effect) {
    JsonNode operators = in.node(at);
    if (!operators.isObject() || operators.isEmpty()) {
      in.error(at, subject, "expected a mapping of operators (" + String.join(", ",
          Condition.OPERATORS) + "), such as { equals: \"fast\" }, got "
          + ConfigReader.describe(operators));
      return null;
    }
    int before = in.problems().size();
    boolean wildcard = Condition.hasWildcard(key);
    List<Operator> compiled = new ArrayList<>();
    Condition.Quantifier quantifier = null;
    long countMin = 0;
    long countMax = Long.MAX_VALUE;
    Boolean onMismatch = null;
    for (Map.Entry<String, JsonNode> entry : operators.properties()) {
      String name = entry.getKey();
      String op = YamlDocument.child(at, name);
      JsonNode v = entry.getValue();
      switch (name) {
        case "wildcard":
          if (!v.isString() || !(v.stringValue().equals("any") || v.stringValue().equals("all"))) {
            in.error(op, subject, "'wildcard' expects any or all, got "
                + ConfigReader.describe(v));
          } else if (!wildcard) {
            in.error(op, subject, "'wildcard' needs a pointer with a '*' segment, such as "
                + "\"/items/*/id\"; '" + key + "' has none");
          } else if (quantifier == Condition.Quantifier.COUNT) {
            in.error(op, subject, "give either 'wildcard' or 'count', not both");
          } else {
            quantifier = v.stringValue().equals("any")
                ? Condition.Quantifier.ANY : Condition.Quantifier.ALL;
          }
          break;
        case "count": {
          long[] bounds = countBounds(op, subject, v);
          if (!wildcard) {
            in.error(op, subject, "'count' needs a pointer with a '*' segment, such as "
                + "\"/items/*\"; '" + key + "' has none");
          } else if (quantifier != null) {
            in.error(op, subject, "give either 'wildcard' or 'count', not both");
          } else if (bounds != null) {
            quantifier = Condition.Quantifier.COUNT;
            countMin = bounds[0];
            countMax = bounds[1];
          }
          break;
        }
        case "on_type_mismatch":
          if (!v.isString()
              || !(v.stringValue().equals("match") || v.stringValue().equals("no_match"))) {
            in.error(op, subject, "'on_type_mismatch' expects match or no_match, got "
                + ConfigReader.describe(v));
          } else {
            onMismatch = v.stringValue().equals("match");
          }
          break;
        default: {
          Operator compiledOp = operator(op, subject, name, v);
          if (compiledOp != null) {
            compiled.add(compiledOp);
          }
        }
      }
    }
    if (in.problems().size() > before) {
      return null;
    }
    if (compiled.isEmpty() && quantifier != Condition.Quantifier.COUNT) {
      in.error(at, subject, "the condition on '" + key + "' has no operator; add one of "
          + String.join(", ", Condition.OPERATORS));
      return null;
    }
    return new Condition(key, compiled, effect, quantifier, countMin, countMax, onMismatch);
  }

  /** {@code count: { gte: 1, lte: 10 }} as inclusive bounds, or {@code null} after an error. */
  private long @Nullable [] countBounds(String pointer, String subject, JsonNode v) {
    if (!v.isObject() || v.isEmpty()) {
      in.error(pointer, subject, "'count' expects bounds such as { gte: 1 } or "
          + "{ gte: 1, lte: 10 } (equals, gt, gte, lt, lte), got " + ConfigReader.describe(v));
      return null;
    }
    long min = 0;
    long max = Long.MAX_VALUE;
    for (Map.Entry<String, JsonNode> bound : v.properties()) {
      String at = YamlDocument.child(pointer, bound.getKey());
      JsonNode n = bound.getValue();
      if (!List.of("equals", "gt", "gte", "lt", "lte").contains(bound.getKey())) {
        in.error(at, subject, ConfigReader.unknown("count bound", bound.getKey(),
            List.of("equals", "gt", "gte", "lt", "lte")));
        return null;
      }
      if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0
          || n.longValue() > Integer.MAX_VALUE) {
        in.error(at, subject, "'" + bound.getKey() + "' in 'count' expects a whole number of "
            + "at least 0, got " + ConfigReader.describe(n));
        return null;
      }
      long x = n.longValue();
      switch (bound.getKey()) {
        case "equals":
          min = Math.max(min, x);
          max = Math.min(max, x);
          break;
        case "gt":
          min = Math.max(min, x + 1);
          break;
        case "gte":
          min = Math.max(min, x);
          break;
        case "lt":
          max = Math.min(max, x - 1);
          break;
        default:
          max = Math.min(max, x);
      }
    }
    if (min > max) {
      in.error(pointer, subject, "'count' bounds " + v + " admit no count; check gt/gte "
          + "against lt/lte");
      return null;
    }
    return new long[] {min, max};
  }

  private @Nullable Operator operator(String pointer, String subject, String name, JsonNode v) {
    switch (name) {
      case "glob":
        return text(pointer, subject, name, v) ? new Operator.GlobOperator(v.stringValue()) : null;
      case "prefix":
        return text(pointer, subject, name, v)
            ? new Operator.PrefixOperator(v.stringValue()) : null;
      case "regex":
        if (!text(pointer, subject, name, v)) {
          return null;
        }
        try {
          return new Operator.RegexOperator(Pattern.compile(v.stringValue()));
        } catch (PatternSyntaxException e) {
          in.error(pointer, subject, "invalid regex '" + v.stringValue() + "': "
              + e.getDescription() + (e.getIndex() >= 0 ? " near index " + e.getIndex() : "")
              + " (Java regex syntax; in YAML double quotes write \\\\ for a backslash)");
          return null;
        }
      case "equals":
        return finiteValues(pointer, subject, name, v)
            ? new Operator.InOperator(List.of(v), true) : null;
      case "in": {
        List<JsonNode> values = new ArrayList<>();
        if (v.isArray()) {
          v.forEach(values::add);
        } else if (v.isValueNode()) {
          values.add(v);
        } else {
          in.error(pointer, subject, "'in' expects a list of values, got "
              + ConfigReader.describe(v));
          return null;
        }
        if (values.isEmpty()) {
          in.error(pointer, subject, "'in' must list at least one value");
          return null;
        }
        if (!finiteValues(pointer, subject, name, v)) {
          return null;
        }
        return new Operator.InOperator(values, false);
      }
      case "gt":
      case "gte":
      case "lt":
      case "lte":
        if (!v.isNumber() || !Operator.finite(v)) {
          in.error(pointer, subject, "'" + name + "' expects a finite number, got "
              + ConfigReader.describe(v));
          return null;
        }
        return new Operator.CompareOperator(name, Operator.decimal(v));
      case "exists":
        if (!v.isBoolean()) {
          in.error(pointer, subject, "'exists' expects true or false, got "
              + ConfigReader.describe(v));
          return null;
        }
        return new Operator.ExistsOperator(v.booleanValue());
      case "maxLength":
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
          in.error(pointer, subject, "'maxLength' expects a whole number of at least 0, got "
              + ConfigReader.describe(v));
          return null;
        }
        return new Operator.MaxLengthOperator(v.longValue());
      default:
        List<String> known = new ArrayList<>(Condition.OPERATORS);
        known.addAll(Condition.OPTIONS);
        in.error(pointer, subject, ConfigReader.unknown("operator", name, known));
        return null;
    }
  }

  /** Records an error and returns false if a value holds an infinite or NaN number. */
  private boolean finiteValues(String pointer, String subject, String name, JsonNode v) {
    if (v.isNumber() && !Operator.finite(v)) {
      in.error(pointer, subject, "'" + name + "' cannot compare with " + v.asString()
          + "; give finite numbers");
      return false;
    }
    for (JsonNode child : v) {
      if (!finiteValues(pointer, subject, name, child)) {
        return false;
      }
    }
    return true;
  }

  private boolean text(String pointer, String subject, String name, JsonNode v) {
    if (v.isString()) {
      return true;
    }
    in.error(pointer, subject, "'" + name + "' expects text, got " + ConfigReader.describe(v));
    return false;
  }

  // ---- when_cel and other condition languages ----------------------------------------------

  private @Nullable ExpressionCondition expression(
      String pointer, String subject, String key, Effect effect) {
    ConditionLanguage language = options.language(key).orElse(null);
    if (language == null) {
      String where = KNOWN_LANGUAGES.get(key);
      in.error(pointer, subject, "'" + key + "' is not available here: "
          + (where != null ? where : "no condition language is registered for it"));
      return null;
    }
    JsonNode node = in.node(pointer);
    if (!node.isString() || node.stringValue().isBlank()) {
      in.error(pointer, subject, "'" + key + "' expects one expression (text), such as "
          + "\"args.amount > 1000\", got " + ConfigReader.describe(node)
          + "; combine conditions with && in one expression");
      return null;
    }
    String text = node.stringValue();
    ConditionLanguage.Expression compiled;
    try {
      compiled = language.compile(text);
    } catch (ConditionLanguage.InvalidExpressionException e) {
      for (ConditionLanguage.Issue issue : e.issues()) {
        YamlDocument document = in.document();
        YamlDocument.Location start = document.valueLocation(pointer);
        YamlDocument.Location at = ExpressionLocations.locate(document.text(), start, text,
            issue.line(), issue.column());
        String position = at != null || issue.line() == 0 ? ""
            : " (at line " + issue.line() + ", column " + issue.column() + " of the expression)";
        if (at == null && start.equals(YamlDocument.Location.UNKNOWN)) {
          start = document.location(pointer);
        }
        in.error(pointer, at != null ? at : start, subject,
            "'" + key + "': " + issue.message() + position);
      }
      return null;
    } catch (RuntimeException | StackOverflowError e) {
      in.error(pointer, subject, "'" + key + "' could not be compiled: " + e
          + " (a fault in the condition language " + language + ")");
      return null;
    }
    if (compiled == null) {
      in.error(pointer, subject, "'" + key + "' could not be compiled (the condition language "
          + language + " returned nothing)");
      return null;
    }
    return new ExpressionCondition(key, text, compiled, effect);
  }

  // ---- during ------------------------------------------------------------------------------

  private @Nullable TimeWindow during(String pointer, String subject) {
    int keyProblems = in.problems().size();
    if (!in.checkKeys(pointer, subject, WINDOW_KEYS) || in.problems().size() > keyProblems) {
      return null;
    }
    JsonNode node = in.node(pointer);
    if (!node.has("days") && !node.has("hours")) {
      in.error(pointer, subject, "a time window needs days, hours or both, such as "
          + "{ days: [mon-fri], hours: \"09:00-18:00\" }");
      return null;
    }
    int before = in.problems().size();
    int days = TimeWindow.ALL_DAYS;
    if (node.has("days")) {
      days = 0;
      List<String> names = nonEmptyNames(pointer + "/days", subject, "day names");
      for (int i = 0; i < names.size(); i++) {
        days |= days(elementPointer(pointer + "/days", i), subject, names.get(i));
      }
    }
    int start = 0;
    int end = 24 * 60;
    if (node.has("hours")) {
      String hours = in.string(pointer + "/hours", subject, "hours such as \"09:00-18:00\"");
      Matcher m = hours == null ? null : HOURS.matcher(hours);
      if (m != null && m.matches()) {
        start = Integer.parseInt(m.group(1)) * 60 + Integer.parseInt(m.group(2));
        end = Integer.parseInt(m.group(3)) * 60 + Integer.parseInt(m.group(4));
        boolean valid = Integer.parseInt(m.group(1)) < 24 && Integer.parseInt(m.group(2)) < 60
            && Integer.parseInt(m.group(4)) < 60 && end <= 24 * 60;
        if (!valid || start == end) {
          in.error(pointer + "/hours", subject, "invalid hours '" + hours + "': use HH:MM-HH:MM "
              + "with times from 00:00 to 24:00 and different start and end, such as "
              + "\"09:00-18:00\" (or \"22:00-06:00\" across midnight)");
        }
      } else if (hours != null) {
        in.error(pointer + "/hours", subject, "invalid hours '" + hours + "': use HH:MM-HH:MM, "
            + "such as \"09:00-18:00\"");
      }
    }
    ZoneId zone = ZoneId.of("UTC");
    if (node.has("zone")) {
      String name = in.string(pointer + "/zone", subject, "a time zone such as Europe/Berlin");
      if (name != null) {
        try {
          zone = ZoneId.of(name);
        } catch (DateTimeException e) {
          in.error(pointer + "/zone", subject, "unknown time zone '" + name + "'; use a region "
              + "such as Europe/Berlin or America/New_York, or UTC");
        }
      }
    }
    return in.problems().size() > before ? null : new TimeWindow(days, start, end, zone);
  }

  private int days(String pointer, String subject, String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    int dash = t.indexOf('-');
    if (dash > 0) {
      int from = day(pointer, subject, t.substring(0, dash).strip());
      int to = day(pointer, subject, t.substring(dash + 1).strip());
      if (from < 0 || to < 0) {
        return 0;
      }
      int mask = 0;
      for (int d = from; ; d = (d + 1) % 7) {
        mask |= 1 << d;
        if (d == to) {
          break;
        }
      }
      return mask;
    }
    int d = day(pointer, subject, t);
    return d < 0 ? 0 : 1 << d;
  }

  private int day(String pointer, String subject, String name) {
    int i = DAYS.indexOf(name);
    if (i < 0) {
      i = DAY_NAMES.indexOf(name);
    }
    if (i < 0) {
      in.error(pointer, subject, ConfigReader.unknown("day", name, DAYS)
          + "; ranges such as mon-fri are allowed");
    }
    return i;
  }

  // ---- limits ------------------------------------------------------------------------------

  private List<LimitRule> limits() {
    String pointer = base + "/limits";
    JsonNode node = in.node(pointer);
    List<LimitRule> limits = new ArrayList<>();
    if (node.isMissingNode() || node.isNull()) {
      return limits;
    }
    if (!node.isArray()) {
      in.error(pointer, null, "expected a list of limits (each '- id: ...'), got "
          + ConfigReader.describe(node));
      return limits;
    }
    Map<String, String> ids = new HashMap<>();
    for (int i = 0; i < node.size(); i++) {
      LimitRule limit = limit(YamlDocument.child(pointer, i), ids);
      if (limit != null) {
        limits.add(limit);
      }
    }
    return limits;
  }

  private @Nullable LimitRule limit(String pointer, Map<String, String> ids) {
    JsonNode node = in.node(pointer);
    if (!node.isObject()) {
      in.error(pointer, "limit at " + pointer, "expected a limit (a mapping with id and rate), "
          + "got " + ConfigReader.describe(node));
      return null;
    }
    int before = in.problems().size();
    String id = null;
    if (in.present(pointer + "/id", "limit at " + pointer, true)) {
      id = in.string(pointer + "/id", "limit at " + pointer, "a limit id");
    }
    String subject = id == null ? "limit at " + pointer : "limit '" + id + "'";
    in.checkKeys(pointer, subject, LIMIT_KEYS);
    if (id != null) {
      String first = ids.putIfAbsent(id, pointer);
      if (first != null) {
        in.error(pointer + "/id", subject, "duplicate limit id '" + id + "' (first at line "
            + in.document().location(first).line() + "); give each limit a unique id");
      }
    }
    description(pointer, subject);
    Rate rate = null;
    if (in.present(pointer + "/rate", subject, true)) {
      JsonNode r = in.node(pointer + "/rate");
      if (!r.isString()) {
        in.error(pointer + "/rate", subject, "expected a rate such as 60/min or 10/10s, got "
            + ConfigReader.describe(r));
      } else {
        try {
          rate = Rate.parse(r.stringValue());
        } catch (IllegalArgumentException e) {
          in.error(pointer + "/rate", subject, e.getMessage() + " (write it like 60/min or 10/10s)");
        }
      }
    }
    if (rate != null && has(pointer + "/burst")) {
      OptionalLong burst = in.positiveLong(pointer + "/burst", subject, "burst");
      if (burst.isPresent()) {
        rate = rate.withBurst(burst.getAsLong());
      }
    }
    long cost = 1;
    if (has(pointer + "/cost")) {
      cost = in.positiveLong(pointer + "/cost", subject, "cost").orElse(1);
    }
    LimitSync sync = null;
    if (has(pointer + "/sync")) {
      JsonNode mode = in.node(pointer + "/sync");
      try {
        if (!mode.isString()) {
          throw new IllegalArgumentException(LimitSync.EXPECTED);
        }
        sync = LimitSync.parse(mode.stringValue());
      } catch (IllegalArgumentException e) {
        in.error(pointer + "/sync", subject, "sync: " + e.getMessage() + ", got "
            + ConfigReader.describe(mode));
      }
    }
    EnumSet<LimitRule.Key> per = EnumSet.noneOf(LimitRule.Key.class);
    if (has(pointer + "/per")) {
      List<String> keys = in.names(pointer + "/per", subject, "bucket keys");
      for (int i = 0; i < keys.size(); i++) {
        String key = keys.get(i).strip().toLowerCase(Locale.ROOT);
        if (PER_KEYS.contains(key)) {
          per.add(LimitRule.Key.valueOf(key.toUpperCase(Locale.ROOT)));
        } else {
          in.error(elementPointer(pointer + "/per", i), subject,
              ConfigReader.unknown("bucket key", keys.get(i), PER_KEYS));
        }
      }
    }
    List<Glob> tools = globs(pointer + "/tools", subject, "tool name globs");
    Set<String> backends = exactNames(pointer + "/backends", subject, "backend names");
    Set<String> principals = exactNames(pointer + "/principals", subject, "principal ids");
    Set<String> methods = exactNames(pointer + "/methods", subject, "MCP methods");
    Set<String> roles = new HashSet<>();
    if (has(pointer + "/roles")) {
      List<String> names = nonEmptyNames(pointer + "/roles", subject, "role names");
      for (int i = 0; i < names.size(); i++) {
        String role = names.get(i);
        if (checkRole(elementPointer(pointer + "/roles", i), subject, role)) {
          // LimitRule checks directly granted roles, so grant it to every role inheriting it.
          closures.forEach((r, closure) -> {
            if (closure.contains(role)) {
              roles.add(r);
            }
          });
          roles.add(role);
        }
      }
    }
    if (in.problems().size() > before || id == null || rate == null) {
      return null;
    }
    return new LimitRule(id, rate, per, tools == null ? List.of() : tools, backends, principals,
        roles, methods, cost, sync);
  }

  private Set<String> exactNames(String pointer, String subject, String what) {
    if (!has(pointer)) {
      return Set.of();
    }
    List<String> names = nonEmptyNames(pointer, subject, what);
    for (int i = 0; i < names.size(); i++) {
      if (names.get(i).contains("*") || names.get(i).contains("?")) {
        in.error(elementPointer(pointer, i), subject, "limits match " + what + " exactly; "
            + "the wildcard in '" + names.get(i) + "' is not supported here (list the names)");
      }
    }
    return new LinkedHashSet<>(names);
  }
}
