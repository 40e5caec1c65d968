package dev.sentinel.core.policy;

import dev.sentinel.api.Effect;
import java.util.Objects;

/**
 * How one rule fared against a request, as part of an {@link Explanation}.
 *
 * @param ruleId the rule's id
 * @param effect what the rule does when it matches
 * @param matched whether it matched
 * @param why for a match, what held ({@code tool 'db__query' matches 'db__*'; /sql satisfies
 *     regex '...'}); otherwise the first constraint that failed ({@code role developer not held
 *     by bob})
 */
public record RuleTrace(String ruleId, Effect effect, boolean matched, String why) {

  /** Validates. */
  public RuleTrace {
    Objects.requireNonNull(ruleId, "ruleId");
    Objects.requireNonNull(effect, "effect");
    Objects.requireNonNull(why, "why");
  }

  /** One line: {@code [match] deny no-destructive-sql: why}. */
  public String render() {
    return (matched ? "[match] " : "[ -   ] ")
        + effect.name().toLowerCase(java.util.Locale.ROOT) + " " + ruleId + ": " + why;
  }
}
