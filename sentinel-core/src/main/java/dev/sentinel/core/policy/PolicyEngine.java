package dev.sentinel.core.policy;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Policy;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.YamlDocument;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.limit.LimitRule;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Sentinel's YAML policy, compiled: decides requests, filters lists, explains itself.
 *
 * <p>Semantics: deny by default; a matching {@code deny} rule overrides everything (the decision
 * lists every matching deny rule, and gives the reason of the first in file order); otherwise a
 * matching {@code confirm} rule asks for a human yes; otherwise a matching {@code allow} rule
 * allows. See the package documentation for the file format.
 *
 * <p>Rules are compiled into an index by target name, so the cost of a decision follows the
 * rules that concern the request's tool, prompt or resource, not the size of the policy.
 *
 * <p>Immutable and thread-safe. {@link #decide} never throws: an error while deciding yields
 * {@link Decision#failure} (fail closed).
 */
public final class PolicyEngine implements Policy {
  /**
   * The methods that list targets, and MCP 2026-07-28's {@code server/discover}, which shows the
   * capabilities of what a principal may use, and {@code subscriptions/listen}, which says when
   * those lists change; see {@link #decide}.
   */
  static final Set<String> LIST_METHODS = Set.of("tools/list", "prompts/list", "resources/list",
      "resources/templates/list", "server/discover", "subscriptions/listen");

  private static final Decision DISCOVERY = Decision.allow(
      List.of(), "listing is allowed; what it shows is filtered by the policy");

  private final String source;
  private final String revision;
  private final List<Rule> rules;
  private final List<LimitRule> limits;
  private final Map<String, Set<String>> roles;
  private final RuleIndex index;
  private final Map<String, ConfirmSettings> confirmations;
  private final List<Rule> breakGlassRules;
  private final RuleIndex breakGlassIndex;
  private final @Nullable BreakGlassSettings breakGlass; // null without a break_glass: section

  private PolicyEngine(String source, String text, PolicyCompiler.Compiled compiled) {
    this.source = source;
    this.revision = revisionOf(text);
    this.rules = List.copyOf(compiled.rules());
    this.limits = List.copyOf(compiled.limits());
    this.roles = compiled.closures();
    this.index = new RuleIndex(rules);
    this.confirmations = compiled.confirmations();
    this.breakGlassRules = List.copyOf(compiled.breakGlassRules());
    this.breakGlassIndex = new RuleIndex(breakGlassRules);
    this.breakGlass = compiled.breakGlass();
  }

  /**
   * Loads a policy file (UTF-8) with {@link PolicyOptions#defaults()} (no condition languages).
   * Problems are reported with the file's name as their source.
   *
   * @throws ConfigException if the file cannot be read or is not a valid policy
   */
  public static PolicyEngine load(Path file) {
    return load(file, PolicyOptions.defaults());
  }

  /**
   * Loads a policy file (UTF-8) whose rules may use the condition languages of {@code options}
   * (such as {@code when_cel}). Problems are reported with the file's name as their source.
   *
   * @throws ConfigException if the file cannot be read or is not a valid policy
   */
  public static PolicyEngine load(Path file, PolicyOptions options) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(options, "options");
    Path name = file.getFileName();
    String source = name == null ? file.toString() : name.toString();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (CharacterCodingException e) {
      throw new ConfigException(List.of(new ConfigException.Problem(source, 0, 0, "", null,
          "the file is not valid UTF-8; save it as UTF-8")), e);
    } catch (IOException e) {
      throw new ConfigException(List.of(new ConfigException.Problem(source, 0, 0, "", null,
          "cannot read the policy file " + file + ": " + e)), e);
    }
    return parse(text, source, options);
  }

  /**
   * Parses and compiles a policy from YAML text, with {@link PolicyOptions#defaults()}.
   *
   * @param yaml the policy
   * @param source a file name or label for messages, such as {@code policy.yaml}
   * @throws ConfigException listing every problem found, each with its line and column
   */
  public static PolicyEngine parse(String yaml, String source) {
    return parse(yaml, source, PolicyOptions.defaults());
  }

  /**
   * Parses and compiles a policy from YAML text whose rules may use the condition languages of
   * {@code options}.
   *
   * @param yaml the policy
   * @param source a file name or label for messages, such as {@code policy.yaml}
   * @param options the condition languages
   * @throws ConfigException listing every problem found, each with its line and column
   */
  public static PolicyEngine parse(String yaml, String source, PolicyOptions options) {
    Objects.requireNonNull(options, "options");
    return compile(YamlDocument.parse(yaml, source), "", options);
  }

  /**
   * Compiles the policy found at a pointer of a parsed document, for configuration files that
   * embed a policy (such as {@code /policy}); {@code ""} compiles the whole document. The revision
   * is that of the whole document's text.
   *
   * @throws ConfigException listing every problem found
   */
  public static PolicyEngine compile(YamlDocument document, String pointer) {
    return compile(document, pointer, PolicyOptions.defaults());
  }

  /**
   * As {@link #compile(YamlDocument, String)}, for a policy whose rules may use the condition
   * languages of {@code options}.
   *
   * @throws ConfigException listing every problem found
   */
  public static PolicyEngine compile(YamlDocument document, String pointer, PolicyOptions options) {
    Objects.requireNonNull(document, "document");
    Objects.requireNonNull(pointer, "pointer");
    Objects.requireNonNull(options, "options");
    PolicyCompiler.Compiled compiled = PolicyCompiler.compile(document, pointer, options);
    return new PolicyEngine(document.source(), document.text(), compiled);
  }

  /**
   * How the calls a {@code confirm} rule decides are approved: its {@code approvals}, {@code
   * wait} and {@code expires}, or the defaults for those it does not give; empty for an id that
   * is not a confirm rule of this policy.
   */
  public java.util.Optional<ConfirmSettings> confirmation(String ruleId) {
    return java.util.Optional.ofNullable(confirmations.get(ruleId));
  }

  /**
   * Whether any rule of this policy is a {@code confirm} rule: whether deciding a call may wait
   * for an operator's approval.
   */
  public boolean confirms() {
    return !confirmations.isEmpty();
  }

  /**
   * The policy's {@code break_glass:} section's bounds; empty without the section, in which case
   * no break-glass window may be opened.
   */
  public java.util.Optional<BreakGlassSettings> breakGlass() {
    return java.util.Optional.ofNullable(breakGlass);
  }

  /** The number of rules in the {@code break_glass:} section. */
  public int breakGlassRuleCount() {
    return breakGlassRules.size();
  }

  /**
   * Decides a request by the {@code break_glass:} rules alone, for a principal whose break-glass
   * window is open: the decision of the matching rules (deny over confirm over allow, as for the
   * other rules), or {@code null} when none matches, so that the policy's other rules decide.
   * Never throws: an error while deciding yields {@link Decision#failure} (fail closed).
   */
  public @Nullable Decision decideBreakGlass(RequestContext context) {
    if (breakGlassRules.isEmpty()) {
      return null;
    }
    try {
      Tally tally = new Tally(context, breakGlassIndex);
      breakGlassIndex.forEachCandidate(context.request(), tally);
      Decision decision = tally.decision();
      return decision == Decision.defaultDeny() ? null : decision;
    } catch (RuntimeException | StackOverflowError e) {
      return Decision.failure("policy", e);
    }
  }

  /**
   * Whether the {@code break_glass:} rules could let the principal use the context's target, as
   * {@link #visible} answers for the other rules; for listing inside an open window.
   */
  public boolean visibleBreakGlass(RequestContext context) {
    if (breakGlassRules.isEmpty()) {
      return false;
    }
    try {
      Visibility visibility = new Visibility(context);
      return breakGlassIndex.forEachCandidate(context.request(), visibility)
          && visibility.permitted;
    } catch (RuntimeException | StackOverflowError e) {
      return false;
    }
  }

  /**
   * Decides a request; never throws and never returns {@code null}. Deny by default, except that
   * a list method ({@code tools/list}, {@code prompts/list}, {@code resources/list}, {@code
   * resources/templates/list}) no rule decides is allowed: listing is discovery, and what a list
   * shows is filtered by {@link #visible}.
   */
  @Override
  public Decision decide(RequestContext context) {
    try {
      Tally tally = new Tally(context, index);
      index.forEachCandidate(context.request(), tally);
      return orDiscovery(tally.decision(), context);
    } catch (RuntimeException | StackOverflowError e) {
      return Decision.failure("policy", e);
    }
  }

  /**
   * Whether the principal could use the context's target with some arguments at some time, for
   * filtering {@code tools/list}, {@code prompts/list} and {@code resources/list}.
   *
   * <p>Pass the method that would <em>use</em> the target ({@code tools/call} with the tool's
   * name, {@code prompts/get}, {@code resources/read}), not the list method. True iff some allow
   * or confirm rule matches the principal, method, backend and name, ignoring {@code when},
   * {@code when_cel} and {@code during}, and no deny rule without them matches.
   * Arguments and time are ignored. Returns {@code false} on any error (fail closed).
   */
  @Override
  public boolean visible(RequestContext context) {
    try {
      Visibility visibility = new Visibility(context);
      return index.forEachCandidate(context.request(), visibility) && visibility.permitted;
    } catch (RuntimeException | StackOverflowError e) {
      return false;
    }
  }

  /**
   * Explains a decision: every rule in file order, whether it matched and why. The decision is
   * the one {@link #decide} gives. Slower than {@code decide} (it visits every rule); meant for
   * operators, tests and the CLI.
   */
  public Explanation explain(RequestContext context) {
    try {
      List<RuleTrace> traces = new ArrayList<>(rules.size());
      List<Rule> matched = new ArrayList<>();
      for (Rule rule : rules) {
        RuleTrace trace = rule.trace(context);
        traces.add(trace);
        if (trace.matched()) {
          matched.add(rule);
        }
      }
      return new Explanation(orDiscovery(aggregate(matched), context), traces);
    } catch (RuntimeException | StackOverflowError e) {
      return new Explanation(Decision.failure("policy", e), List.of());
    }
  }

  /**
   * Checks the rules that concern a tool against its input schema, as a backend listed it: a
   * condition whose operator cannot apply to the type the schema declares at its pointer (such as
   * {@code gt} on a property declared {@code type: string}, or {@code regex} on an integer) is
   * never decided by a value the backend accepts; nor is one at a pointer where the schema allows
   * no value ({@code additionalProperties: false} and no such property). Such a rule is almost
   * certainly a mistake: a deny that can only match through a type mismatch, an allow that never
   * allows. What the schema leaves open is not reported.
   *
   * @param backend the backend's name
   * @param tool the tool's name as clients see it (with its backend prefix), as rules name it
   * @param inputSchema the tool's {@code inputSchema}
   * @return one line per problem, naming the rule, the pointer, the operator and the declared
   *     type; empty when there are none
   */
  public List<String> schemaConflicts(String backend, String tool, tools.jackson.databind.JsonNode inputSchema) {
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(inputSchema, "inputSchema");
    dev.sentinel.api.Request request = dev.sentinel.api.Request.toolCall(backend, tool, null);
    List<String> out = new ArrayList<>();
    for (Rule rule : rules) {
      if (rule.when.length > 0 && rule.concerns(request)) {
        out.addAll(SchemaTypes.conflicts(rule, tool, inputSchema));
      }
    }
    return out;
  }

  /**
   * The rules' tool globs that match no tool the backends list: a typo in a tool name is the
   * commonest policy mistake, and a rule whose glob matches nothing never applies. A glob is
   * tried against the tools of the backends the rule names (all of them when it names none).
   *
   * @param tools each backend's tools, by backend name, as clients see them (with their prefix)
   * @return one line per such glob, naming the rule and the glob, with the nearest tool name
   *     when one is close; empty when every glob matches a tool
   */
  public List<String> unmatchedToolGlobs(Map<String, ? extends Collection<String>> tools) {
    Objects.requireNonNull(tools, "tools");
    List<String> out = new ArrayList<>();
    for (Rule rule : rules) {
      if (rule.tools == null) {
        continue;
      }
      List<String> candidates = new ArrayList<>();
      tools.forEach((backend, names) -> {
        if (rule.backends == null || Arrays.stream(rule.backends).anyMatch(g -> g.matches(backend))) {
          candidates.addAll(names);
        }
      });
      for (Glob glob : rule.tools) {
        if (candidates.stream().noneMatch(glob::matches)) {
          out.add("rule '" + rule.id + "': tools glob '" + glob + "' matches no tool the backends"
              + " list" + dev.sentinel.core.config.Suggestions.nearest(glob.toString(), candidates)
                  .map(near -> "; did you mean '" + near + "'?").orElse(""));
        }
      }
    }
    return out;
  }

  /** The decision by a linear scan over every rule, without the index; for tests. */
  Decision decideLinear(RequestContext context) {
    List<Rule> matched = new ArrayList<>();
    for (Rule rule : rules) {
      if (rule.matches(context)) {
        matched.add(rule);
      }
    }
    return orDiscovery(aggregate(matched), context);
  }

  /** The visibility by a linear scan over every rule, without the index; for tests. */
  boolean visibleLinear(RequestContext context) {
    boolean permitted = false;
    for (Rule rule : rules) {
      if (rule.matchesStatic(context)) {
        if (rule.effect == Effect.DENY) {
          if (!rule.conditional()) {
            return false;
          }
        } else {
          permitted = true;
        }
      }
    }
    return permitted;
  }

  /** The file's {@code limits:} section, in file order. */
  public List<LimitRule> limits() {
    return limits;
  }

  /**
   * Identifies the policy text: {@code sha256:} and the first 12 hex digits of the SHA-256 of
   * its UTF-8 bytes. Recorded in audit events.
   */
  public String revision() {
    return revision;
  }

  /** The number of rules. */
  public int ruleCount() {
    return rules.size();
  }

  /** The file name or label the policy was loaded from. */
  public String source() {
    return source;
  }

  /** The declared roles, each with its closure (itself and every role it inherits). */
  Map<String, Set<String>> roles() {
    return roles;
  }

  @Override
  public String toString() {
    return "PolicyEngine[" + source + ", " + rules.size() + " rules, " + limits.size()
        + " limits, " + revision + "]";
  }

  /** The decision for the matching rules, given in file order. */
  /**
   * Listing is discovery, not use: a list method that no rule decides is allowed, because what
   * the list shows is filtered by {@link #visible} (deny by default). An explicit deny rule on a
   * list method still refuses it.
   */
  private static Decision orDiscovery(Decision decision, RequestContext context) {
    return decision == Decision.defaultDeny() && LIST_METHODS.contains(context.request().method())
        ? DISCOVERY
        : decision;
  }

  private static Decision aggregate(List<Rule> matched) {
    for (Effect effect : new Effect[] {Effect.DENY, Effect.CONFIRM, Effect.ALLOW}) {
      List<Rule> winners = new ArrayList<>();
      for (Rule rule : matched) {
        if (rule.effect == effect) {
          winners.add(rule);
        }
      }
      if (!winners.isEmpty()) {
        return decisionOf(winners);
      }
    }
    return Decision.defaultDeny();
  }

  /** The decision of distinct rules of one effect, in file order. */
  private static Decision decisionOf(List<Rule> winners) {
    Rule first = winners.get(0);
    if (winners.size() == 1) {
      return first.decision;
    }
    List<String> ids = new ArrayList<>(winners.size());
    for (Rule rule : winners) {
      ids.add(rule.id);
    }
    return new Decision(first.effect, ids, first.reason, List.of());
  }

  private static String revisionOf(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(digest).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  /**
   * Accumulates candidates for one decision without allocating in the common case: per effect,
   * the first matching rule in file order and whether another distinct rule matched too.
   */
  private static final class Tally implements RuleIndex.Sink {
    private final RequestContext context;
    private final RuleIndex index;
    private @Nullable Rule deny;
    private @Nullable Rule confirm;
    private @Nullable Rule allow;
    private boolean manyDenies;
    private boolean manyConfirms;
    private boolean manyAllows;

    Tally(RequestContext context, RuleIndex index) {
      this.context = context;
      this.index = index;
    }

    @Override
    public boolean accept(Rule rule) {
      Effect effect = rule.effect;
      // Once a stronger effect matched, weaker rules cannot change the decision.
      if ((deny != null && effect != Effect.DENY)
          || (confirm != null && effect == Effect.ALLOW)
          || !rule.matches(context)) {
        return true;
      }
      switch (effect) {
        case DENY:
          if (deny != null && deny != rule) {
            manyDenies = true;
          }
          if (deny == null || rule.order < deny.order) {
            deny = rule;
          }
          break;
        case CONFIRM:
          if (confirm != null && confirm != rule) {
            manyConfirms = true;
          }
          if (confirm == null || rule.order < confirm.order) {
            confirm = rule;
          }
          break;
        default:
          if (allow != null && allow != rule) {
            manyAllows = true;
          }
          if (allow == null || rule.order < allow.order) {
            allow = rule;
          }
      }
      return true;
    }

    Decision decision() {
      if (deny != null) {
        return manyDenies ? collect(Effect.DENY) : deny.decision;
      }
      if (confirm != null) {
        return manyConfirms ? collect(Effect.CONFIRM) : confirm.decision;
      }
      if (allow != null) {
        return manyAllows ? collect(Effect.ALLOW) : allow.decision;
      }
      return Decision.defaultDeny();
    }

    /** The rare case of several rules deciding together: gather them in file order. */
    private Decision collect(Effect effect) {
      TreeMap<Integer, Rule> winners = new TreeMap<>();
      index.forEachCandidate(context.request(), rule -> {
        if (rule.effect == effect && !winners.containsKey(rule.order) && rule.matches(context)) {
          winners.put(rule.order, rule);
        }
        return true;
      });
      return decisionOf(new ArrayList<>(winners.values()));
    }
  }

  /** Accumulates candidates for {@link #visible}; stops at an unconditional deny. */
  private static final class Visibility implements RuleIndex.Sink {
    private final RequestContext context;
    private boolean permitted;

    Visibility(RequestContext context) {
      this.context = context;
    }

    @Override
    public boolean accept(Rule rule) {
      if (rule.effect == Effect.DENY) {
        return rule.conditional() || !rule.matchesStatic(context);
      }
      if (!permitted && rule.matchesStatic(context)) {
        permitted = true;
      }
      return true;
    }
  }
}
