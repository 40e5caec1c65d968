package dev.sentinel.core.policy;

import dev.sentinel.api.Decision;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Why a policy decided as it did: the decision (the same {@link PolicyEngine#decide} gives) and
 * a trace of every rule in file order.
 *
 * @param decision the decision
 * @param rules one trace per rule, in file order
 */
public record Explanation(Decision decision, List<RuleTrace> rules) {

  /** Validates and copies. */
  public Explanation {
    Objects.requireNonNull(decision, "decision");
    rules = List.copyOf(rules);
  }

  /** The traces of the rules that matched, in file order. */
  public List<RuleTrace> matched() {
    return rules.stream().filter(RuleTrace::matched).toList();
  }

  /**
   * Human-readable text: the decision on the first line, then one line per rule.
   *
   * <pre>
   * decision: DENY by no-destructive-sql (destructive SQL is not allowed)
   *   [match] deny no-destructive-sql: tool 'db__query' matches 'db__query'; ...
   *   [ -   ] allow readonly-tools: role readonly not held by bob (no roles)
   * </pre>
   */
  public String render() {
    StringBuilder out = new StringBuilder(summary(decision));
    for (RuleTrace trace : rules) {
      out.append("\n  ").append(trace.render());
    }
    return out.toString();
  }

  /** The first line of {@link #render()}. */
  public static String summary(Decision decision) {
    StringBuilder out = new StringBuilder("decision: ").append(decision.effect());
    if (!decision.rules().isEmpty()) {
      out.append(" by ").append(String.join(", ", decision.rules()));
    }
    out.append(" (").append(decision.reason()).append(')');
    for (String diagnostic : decision.diagnostics()) {
      out.append("\n  ! ").append(diagnostic);
    }
    return out.toString();
  }

  /** The effect in lower case with the deciding rules: {@code deny by a, b}. */
  public static String brief(Decision decision) {
    String effect = decision.effect().name().toLowerCase(Locale.ROOT);
    return decision.rules().isEmpty()
        ? effect + " (" + decision.reason() + ")"
        : effect + " by " + String.join(", ", decision.rules());
  }
}
