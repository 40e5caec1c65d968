package dev.sentinel.core.policy;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.internal.Glob;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * One compiled rule. Every constraint that is set must hold (a constraint that is absent holds
 * for everything); within one constraint, any listed value may match. Immutable and thread-safe.
 */
final class Rule {
  final String id;
  /** Position in the file, 0-based; decides the order of ids in decisions. */
  final int order;
  final Effect effect;
  final String reason;
  /** The decision when this rule alone decides, built once. */
  final Decision decision;

  /** Roles as written, or {@code null}. */
  final @Nullable Set<String> roles;
  /** Every role that holds one of {@link #roles} through inheritance, or {@code null}. */
  final @Nullable Set<String> grantingRoles;
  /** Each declared role's closure: itself and every role it inherits, transitively. */
  private final Map<String, Set<String>> closures;
  final Glob @Nullable [] principals;
  final @Nullable Map<String, Set<String>> attributes;
  /** Methods, explicit or derived from the target keys; {@code null} for any method. */
  final Glob @Nullable [] methods;
  final Glob @Nullable [] backends;
  final Glob @Nullable [] tools;
  final Glob @Nullable [] prompts;
  final Glob @Nullable [] resources;
  /** Model globs of {@code llm/chat} and {@code llm/embeddings}, or {@code null}. */
  final Glob @Nullable [] models;
  /** The path globs of {@code llm/passthrough}, or {@code null}. */
  final Glob @Nullable [] paths;
  final Condition[] when;
  /** Conditions in a {@link ConditionLanguage}, such as {@code when_cel}. */
  final ExpressionCondition[] expressions;
  final @Nullable TimeWindow during;

  Rule(
      String id,
      int order,
      Effect effect,
      @Nullable String reason,
      @Nullable Set<String> roles,
      Map<String, Set<String>> closures,
      @Nullable List<Glob> principals,
      @Nullable Map<String, Set<String>> attributes,
      @Nullable List<Glob> methods,
      @Nullable List<Glob> backends,
      @Nullable List<Glob> tools,
      @Nullable List<Glob> prompts,
      @Nullable List<Glob> resources,
      List<Condition> when,
      List<ExpressionCondition> expressions,
      @Nullable TimeWindow during) {
    this(id, order, effect, reason, roles, closures, principals, attributes, methods, backends,
        tools, prompts, resources, null, null, when, expressions, during);
  }

  Rule(
      String id,
      int order,
      Effect effect,
      @Nullable String reason,
      @Nullable Set<String> roles,
      Map<String, Set<String>> closures,
      @Nullable List<Glob> principals,
      @Nullable Map<String, Set<String>> attributes,
      @Nullable List<Glob> methods,
      @Nullable List<Glob> backends,
      @Nullable List<Glob> tools,
      @Nullable List<Glob> prompts,
      @Nullable List<Glob> resources,
      @Nullable List<Glob> models,
      @Nullable List<Glob> paths,
      List<Condition> when,
      List<ExpressionCondition> expressions,
      @Nullable TimeWindow during) {
    this.id = id;
    this.order = order;
    this.effect = effect;
    this.reason = reason != null ? reason : defaultReason(effect, id);
    this.decision = new Decision(effect, List.of(id), this.reason, List.of());
    this.roles = roles == null ? null : Set.copyOf(roles);
    this.closures = closures;
    this.grantingRoles = roles == null ? null : granting(roles, closures);
    this.principals = array(principals);
    this.attributes = attributes == null ? null : Map.copyOf(attributes);
    this.methods = array(methods);
    this.backends = array(backends);
    this.tools = array(tools);
    this.prompts = array(prompts);
    this.resources = array(resources);
    this.models = array(models);
    this.paths = array(paths);
    this.when = when.toArray(new Condition[0]);
    this.expressions = expressions.toArray(new ExpressionCondition[0]);
    this.during = during;
  }

  static String defaultReason(Effect effect, String id) {
    switch (effect) {
      case DENY:
        return "denied by rule " + id;
      case CONFIRM:
        return "rule " + id + " requires confirmation";
      default:
        return "allowed by rule " + id;
    }
  }

  private static Set<String> granting(Set<String> roles, Map<String, Set<String>> closures) {
    Set<String> out = new java.util.HashSet<>(roles);
    closures.forEach((role, closure) -> {
      for (String r : roles) {
        if (closure.contains(r)) {
          out.add(role);
        }
      }
    });
    return Set.copyOf(out);
  }

  private static Glob @Nullable [] array(@Nullable List<Glob> globs) {
    return globs == null ? null : globs.toArray(new Glob[0]);
  }

  /**
   * Whether the rule names tools, prompts, resources, models or paths (and so is indexed by
   * name).
   */
  boolean targeted() {
    return tools != null || prompts != null || resources != null || models != null
        || paths != null;
  }

  /** Whether the rule has argument conditions, expressions or a time window. */
  boolean conditional() {
    return when.length > 0 || expressions.length > 0 || during != null;
  }

  /** The name globs for a kind of target, or {@code null} when the rule names none. */
  Glob @Nullable [] targets(Request.Kind kind) {
    switch (kind) {
      case TOOL:
        return tools;
      case PROMPT:
        return prompts;
      case RESOURCE:
        return resources;
      case MODEL:
        return models;
      case PATH:
        return paths;
      default:
        return null;
    }
  }

  /** Whether every constraint holds. */
  boolean matches(RequestContext context) {
    return matchesStatic(context)
        && matchesArguments(context.request().arguments())
        && (during == null || during.contains(context.time()))
        && matchesExpressions(context);
  }

  /** Whether every expression holds; the costliest constraint, so checked last. */
  private boolean matchesExpressions(RequestContext context) {
    if (expressions.length == 0) {
      return true;
    }
    ConditionInput input = new ConditionInput(context, closures);
    for (ExpressionCondition expression : expressions) {
      if (!expression.test(input)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether every constraint except {@code when}, expressions such as {@code when_cel}, and
   * {@code during} holds.
   */
  boolean matchesStatic(RequestContext context) {
    Request request = context.request();
    return matchesTarget(request)
        && matchesAny(methods, request.method())
        && matchesAny(backends, request.backend())
        && matchesPrincipal(context.principal());
  }

  /** Whether the rule concerns the request's method, backend and target, whoever asks. */
  boolean concerns(Request request) {
    return matchesTarget(request) && matchesAny(methods, request.method())
        && matchesAny(backends, request.backend());
  }

  boolean matchesTarget(Request request) {
    if (!targeted()) {
      return true;
    }
    Glob @Nullable [] globs = targets(request.kind());
    return globs != null && matchesAny(globs, request.name());
  }

  boolean matchesArguments(JsonNode arguments) {
    for (Condition condition : when) {
      if (!condition.test(arguments)) {
        return false;
      }
    }
    return true;
  }

  boolean matchesPrincipal(Principal principal) {
    if (grantingRoles != null && heldRole(grantingRoles, principal) == null) {
      return false;
    }
    if (principals != null && !matchesAny(principals, principal.id())) {
      return false;
    }
    return attributes == null || missingAttribute(attributes, principal) == null;
  }

  /** A role the principal holds that grants one of the rule's roles, or {@code null}. */
  private static @Nullable String heldRole(Set<String> grantingRoles, Principal principal) {
    for (String role : principal.roles()) {
      if (grantingRoles.contains(role)) {
        return role;
      }
    }
    return null;
  }

  /** The first attribute the principal lacks a listed value of, or {@code null}. */
  private static @Nullable String missingAttribute(
      Map<String, Set<String>> attributes, Principal principal) {
    for (Map.Entry<String, Set<String>> entry : attributes.entrySet()) {
      List<String> values = principal.attributes().get(entry.getKey());
      boolean found = false;
      if (values != null) {
        for (String value : values) {
          if (entry.getValue().contains(value)) {
            found = true;
            break;
          }
        }
      }
      if (!found) {
        return entry.getKey();
      }
    }
    return null;
  }

  /** Whether a constraint holds: absent ({@code null}) holds; otherwise any glob must match. */
  private static boolean matchesAny(Glob @Nullable [] globs, @Nullable String value) {
    if (globs == null) {
      return true;
    }
    for (Glob glob : globs) {
      if (glob.matches(value)) {
        return true;
      }
    }
    return false;
  }

  private static @Nullable Glob firstMatch(Glob[] globs, @Nullable String value) {
    for (Glob glob : globs) {
      if (glob.matches(value)) {
        return glob;
      }
    }
    return null;
  }

  /**
   * Traces this rule against a request: whether it matches and why. Stops at the first failing
   * constraint, which is what the text names; a match lists what held.
   */
  RuleTrace trace(RequestContext context) {
    Request request = context.request();
    List<String> held = new ArrayList<>();
    if (targeted()) {
      Glob @Nullable [] globs = targets(request.kind());
      String kind = kindName(request.kind());
      if (globs == null) {
        return miss("names no " + kind + "s, and the request is " + request.method()
            + (request.name() == null ? "" : " of '" + request.name() + "'"));
      }
      Glob glob = firstMatch(globs, request.name());
      if (glob == null) {
        return miss(kind + " " + quote(request.name()) + " matches none of " + list(globs));
      }
      held.add(kind + " '" + request.name() + "' matches '" + glob + "'");
    }
    if (methods != null) {
      Glob glob = firstMatch(methods, request.method());
      if (glob == null) {
        return miss("method " + request.method() + " is not one of " + list(methods));
      }
      if (!targeted()) {
        held.add("method " + request.method() + " matches '" + glob + "'");
      }
    }
    if (backends != null) {
      Glob glob = firstMatch(backends, request.backend());
      if (glob == null) {
        return miss("backend " + quote(request.backend()) + " matches none of " + list(backends));
      }
      held.add("backend '" + request.backend() + "' matches '" + glob + "'");
    }
    Principal principal = context.principal();
    if (grantingRoles != null) {
      String role = heldRole(grantingRoles, principal);
      Set<String> roles = Objects.requireNonNull(this.roles, "roles are set with grantingRoles");
      if (role == null) {
        return miss((roles.size() == 1 ? "role " + roles.iterator().next() + " not held"
            : "none of roles " + new TreeSet<>(roles) + " held") + " by " + principal.id()
            + (principal.roles().isEmpty() ? " (no roles)"
                : " (holds " + String.join(", ", new TreeSet<>(principal.roles())) + ")"));
      }
      held.add(roles.contains(role) ? "role " + role + " held"
          : "role " + grantedBy(roles, role) + " held via " + role);
    }
    if (principals != null) {
      Glob glob = firstMatch(principals, principal.id());
      if (glob == null) {
        return miss("principal '" + principal.id() + "' matches none of " + list(principals));
      }
      held.add("principal '" + principal.id() + "' matches '" + glob + "'");
    }
    if (attributes != null) {
      String missing = missingAttribute(attributes, principal);
      if (missing != null) {
        return miss("attribute " + missing + " of " + principal.id() + " is "
            + principal.attributes().getOrDefault(missing, List.of()) + ", not any of "
            + new TreeSet<>(attributes.get(missing)));
      }
      held.add("attributes " + new TreeSet<>(attributes.keySet()) + " match");
    }
    JsonNode arguments = request.arguments();
    for (Condition condition : when) {
      Condition.Explained explained = condition.explain(arguments);
      if (!explained.holds()) {
        return miss(explained.text());
      }
      held.add(explained.text());
    }
    if (during != null) {
      String local = during.describe(context.time());
      if (!during.contains(context.time())) {
        return miss("time " + local + " is outside " + during);
      }
      held.add("time " + local + " is within " + during);
    }
    if (expressions.length > 0) {
      ConditionInput input = new ConditionInput(context, closures);
      for (ExpressionCondition expression : expressions) {
        Condition.Explained explained = expression.explain(input);
        if (!explained.holds()) {
          return miss(explained.text());
        }
        held.add(explained.text());
      }
    }
    return new RuleTrace(id, effect, true,
        held.isEmpty() ? "matches every request" : String.join("; ", held));
  }

  private String grantedBy(Set<String> roles, String held) {
    Set<String> closure = closures.getOrDefault(held, Set.of(held));
    for (String role : new TreeSet<>(roles)) {
      if (closure.contains(role)) {
        return role;
      }
    }
    return held;
  }

  private RuleTrace miss(String why) {
    return new RuleTrace(id, effect, false, why);
  }

  private static String kindName(Request.Kind kind) {
    switch (kind) {
      case TOOL:
        return "tool";
      case PROMPT:
        return "prompt";
      case RESOURCE:
        return "resource";
      case MODEL:
        return "model";
      case PATH:
        return "path";
      default:
        return "target";
    }
  }

  private static String quote(@Nullable String value) {
    return value == null ? "(none)" : "'" + value + "'";
  }

  private static String list(Glob[] globs) {
    return Arrays.toString(globs);
  }

  @Override
  public String toString() {
    return effect.name().toLowerCase(java.util.Locale.ROOT) + " " + id;
  }
}
