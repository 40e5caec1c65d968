package dev.sentinel.core.policy;

import dev.sentinel.api.Effect;
import java.util.Locale;

/**
 * A rule's condition in a {@link ConditionLanguage} ({@code when_cel: "..."}), compiled at load.
 * Undecided fails closed like a type mismatch of a {@link Condition}: a match for a deny or
 * confirm rule, no match for an allow rule. An expression that throws is undecided. Immutable
 * and thread-safe.
 */
final class ExpressionCondition {
  private final String key;
  private final String text;
  private final ConditionLanguage.Expression expression;
  private final Effect effect;

  ExpressionCondition(
      String key, String text, ConditionLanguage.Expression expression, Effect effect) {
    this.key = key;
    this.text = text;
    this.expression = expression;
    this.effect = effect;
  }

  /** Whether the condition holds, undecided resolved to fail closed. */
  boolean test(ConditionInput input) {
    ConditionLanguage.Result result = evaluate(input);
    return result.decided() ? result.value() : effect != Effect.ALLOW;
  }

  /** {@code when_cel args.amount > 1000 is true}, or why it is undecided and what that counts as. */
  Condition.Explained explain(ConditionInput input) {
    ConditionLanguage.Result result = evaluate(input);
    StringBuilder out = new StringBuilder(key).append(' ').append(brief());
    boolean holds;
    if (result.decided()) {
      holds = result.value();
      out.append(" is ").append(holds);
    } else {
      holds = effect != Effect.ALLOW;
      out.append(" is undecided (").append(result.reason()).append("), counts as ")
          .append(holds ? "a match" : "no match").append(" for this ")
          .append(effect.name().toLowerCase(Locale.ROOT)).append(" rule");
    }
    return new Condition.Explained(holds, out.toString());
  }

  private ConditionLanguage.Result evaluate(ConditionInput input) {
    try {
      ConditionLanguage.Result result = expression.evaluate(input);
      return result != null ? result
          : ConditionLanguage.Result.undecided("the " + key + " expression gave no result");
    } catch (RuntimeException | StackOverflowError e) {
      // A decider fails closed; the exception's text may quote the arguments, so it stays out.
      return ConditionLanguage.Result.undecided("the " + key + " expression failed ("
          + e.getClass().getSimpleName() + ")");
    }
  }

  /** The expression on one line, shortened to 100 characters. */
  private String brief() {
    String line = text.strip().replaceAll("\\s+", " ");
    return line.length() <= 100 ? line : line.substring(0, 97) + "...";
  }

  @Override
  public String toString() {
    return key + " " + brief();
  }
}
