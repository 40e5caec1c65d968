package dev.sentinel.core.policy;

import dev.sentinel.api.Effect;
import dev.sentinel.core.policy.Operator.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;

/**
 * One argument condition of a rule's {@code when}: a JSON Pointer into the arguments (whose
 * segments may be the wildcard {@code *}) and the operators that must all hold for the value, or
 * values, found there. Immutable and thread-safe.
 *
 * <p>Conditions are typed and fail closed. Each operator accepts certain JSON types (numeric
 * operators only finite JSON numbers, text operators only strings); a value of another type is a
 * <em>type mismatch</em>, and a regex that exhausts its budget, or a wildcard that meets more
 * than {@link #MAX_VALUES} values, is <em>undecided</em>. Both are unknown, combined with
 * three-valued logic (a definite failure of one operator outweighs an unknown of another), and an
 * unknown condition counts as a match in a deny or confirm rule and as no match in an allow rule.
 * {@code on_type_mismatch: match | no_match} on the condition decides type mismatches instead,
 * value by value; it does not change undecided results.
 */
final class Condition {
  /** The operator names a policy may use, in the order messages list them. */
  static final List<String> OPERATORS =
      List.of("equals", "in", "glob", "regex", "prefix", "gt", "gte", "lt", "lte", "exists",
          "maxLength", "count");
  /** The keys beside operators that qualify a condition. */
  static final List<String> OPTIONS = List.of("wildcard", "on_type_mismatch");
  /** The most values a wildcard condition visits; past it the condition is undecided. */
  static final int MAX_VALUES = 10_000;

  /** How the values a wildcard reaches combine. */
  enum Quantifier {
    /** Some value satisfies the operators (the default in deny and confirm rules). */
    ANY,
    /** Every value does, and there is at least one (the default in allow rules). */
    ALL,
    /** The number of values that do lies within bounds. */
    COUNT
  }

  private final String pointerText;
  /** The pointer split at its wildcard segments: the pointers before, between and after them. */
  private final JsonPointer[] parts;
  private final Operator[] operators;
  private final Effect effect;
  private final Quantifier quantifier;
  private final long countMin;
  private final long countMax;
  /** {@code on_type_mismatch}: {@code null} when the rule's effect decides. */
  private final @Nullable Boolean onMismatch;

  /**
   * A condition.
   *
   * @param pointerText the pointer as written; a segment that is exactly {@code *} is a wildcard
   * @param operators the operators, all of which must hold
   * @param effect the effect of the rule, which decides what unknown outcomes count as
   * @param quantifier how wildcard values combine, or {@code null} for the effect's default
   * @param countMin for {@link Quantifier#COUNT}, the least number of values that may hold
   * @param countMax for {@link Quantifier#COUNT}, the most
   * @param onMismatch what a type mismatch counts as, or {@code null} for the effect's default
   */
  Condition(String pointerText, List<Operator> operators, Effect effect,
      @Nullable Quantifier quantifier, long countMin, long countMax, @Nullable Boolean onMismatch) {
    this.pointerText = pointerText;
    this.parts = split(pointerText);
    this.operators = operators.toArray(new Operator[0]);
    this.effect = effect;
    this.quantifier = quantifier != null ? quantifier
        : effect == Effect.ALLOW ? Quantifier.ALL : Quantifier.ANY;
    this.countMin = countMin;
    this.countMax = countMax;
    this.onMismatch = onMismatch;
  }

  /** The pointer as written. */
  String pointer() {
    return pointerText;
  }

  /** The operators, all of which must hold. */
  List<Operator> operators() {
    return List.of(operators);
  }

  /** Whether a pointer has a segment that is exactly {@code *}. */
  static boolean hasWildcard(String pointerText) {
    return pointerText.equals("/*") || pointerText.startsWith("/*/")
        || pointerText.contains("/*/") || pointerText.endsWith("/*");
  }

  private static JsonPointer[] split(String text) {
    List<JsonPointer> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i < text.length()) {
      int next = text.indexOf('/', i + 1);
      int end = next < 0 ? text.length() : next;
      if (end - i == 2 && text.charAt(i + 1) == '*') {
        out.add(JsonPointer.compile(text.substring(start, i)));
        start = end;
      }
      i = end;
    }
    out.add(JsonPointer.compile(text.substring(start)));
    return out.toArray(new JsonPointer[0]);
  }

  /** Whether the condition holds for the arguments, unknowns resolved to fail closed. */
  boolean test(JsonNode arguments) {
    return resolve(evaluate(arguments, null));
  }

  /** The outcome before unknowns are resolved; {@code trace} collects text when not null. */
  private Outcome evaluate(JsonNode arguments, @Nullable Trace trace) {
    if (parts.length == 1) {
      JsonNode value = arguments.at(parts[0]);
      Outcome outcome = element(value);
      if (trace != null) {
        trace.leaf(pointerText, value, outcome, Shape.VALUE);
      }
      return outcome;
    }
    Walk walk = new Walk(trace);
    walk(arguments, 0, walk, trace == null ? null : "");
    if (trace != null) {
      trace.capped = walk.capped;
    }
    return walk.outcome();
  }

  private boolean resolve(Outcome outcome) {
    switch (outcome) {
      case HOLDS:
        return true;
      case FAILS:
        return false;
      default:
        return effect != Effect.ALLOW;
    }
  }

  /** All operators on one value, with Kleene's AND: a failure outweighs an unknown. */
  private Outcome element(JsonNode value) {
    if (operators.length == 0) {
      return value.isMissingNode() ? Outcome.FAILS : Outcome.HOLDS;
    }
    Outcome result = Outcome.HOLDS;
    for (Operator operator : operators) {
      Outcome o = operator.test(value);
      if (o == Outcome.FAILS) {
        return Outcome.FAILS;
      }
      if (o == Outcome.UNDECIDED || (o == Outcome.MISMATCH && result == Outcome.HOLDS)) {
        result = o;
      }
    }
    return result == Outcome.MISMATCH ? mismatch() : result;
  }

  /** A type mismatch, as {@code on_type_mismatch} says, or left unknown for the rule. */
  private Outcome mismatch() {
    return onMismatch == null ? Outcome.MISMATCH
        : onMismatch ? Outcome.HOLDS : Outcome.FAILS;
  }

  /** Visits the values under {@code node} for parts from {@code part} on; false to stop. */
  private boolean walk(JsonNode node, int part, Walk walk, @Nullable String path) {
    JsonNode at = node.at(parts[part]);
    String here = path == null ? null : path + parts[part];
    if (part == parts.length - 1) {
      return walk.value(here, at, element(at), Shape.VALUE);
    }
    if (at.isMissingNode()) {
      return walk.value(here, at, element(at), Shape.NO_CONTAINER);
    }
    if (!at.isContainer()) {
      return walk.value(here, at, mismatch(), Shape.NOT_A_CONTAINER);
    }
    if (at.isArray()) {
      for (int i = 0; i < at.size(); i++) {
        if (++walk.visited > MAX_VALUES) {
          walk.capped = true;
          return false;
        }
        if (!walk(at.get(i), part + 1, walk, here == null ? null : here + "/" + i)) {
          return false;
        }
      }
      return true;
    }
    for (Map.Entry<String, JsonNode> child : at.properties()) {
      if (++walk.visited > MAX_VALUES) {
        walk.capped = true;
        return false;
      }
      String childPath = here == null ? null : here + "/" + escape(child.getKey());
      if (!walk(child.getValue(), part + 1, walk, childPath)) {
        return false;
      }
    }
    return true;
  }

  /** Where a wildcard walk ended: at a value, or short of one. */
  private enum Shape {
    /** A value at the end of the pointer (possibly missing). */
    VALUE,
    /** The array or object a wildcard should iterate is missing. */
    NO_CONTAINER,
    /** A wildcard met a string, number, boolean or null: a type mismatch. */
    NOT_A_CONTAINER
  }

  private static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }

  /** How many values had each outcome. */
  private static class Tally {
    int values;
    int holds;
    int fails;
    int mismatches;
    int undecided;

    void add(Outcome outcome) {
      values++;
      switch (outcome) {
        case HOLDS:
          holds++;
          break;
        case FAILS:
          fails++;
          break;
        case MISMATCH:
          mismatches++;
          break;
        default:
          undecided++;
      }
    }
  }

  /** Tallies the values of one wildcard evaluation. */
  private final class Walk extends Tally {
    final @Nullable Trace trace;
    int visited;
    boolean capped;

    Walk(@Nullable Trace trace) {
      this.trace = trace;
    }

    /** Records one value's outcome; false when the outcome is already known. */
    boolean value(@Nullable String path, JsonNode value, Outcome outcome, Shape shape) {
      add(outcome);
      if (trace != null) {
        trace.leaf(Objects.requireNonNull(path, "a traced walk has paths"), value, outcome, shape);
      }
      // Explaining stops where deciding does, so that it describes the same work.
      return quantifier == Quantifier.ANY ? outcome != Outcome.HOLDS
          : quantifier == Quantifier.ALL ? outcome != Outcome.FAILS
          : true;
    }

    Outcome outcome() {
      int unknown = mismatches + undecided;
      Outcome unknownKind = undecided > 0 ? Outcome.UNDECIDED : Outcome.MISMATCH;
      switch (quantifier) {
        case ANY:
          return holds > 0 ? Outcome.HOLDS
              : capped ? Outcome.UNDECIDED
              : unknown > 0 ? unknownKind : Outcome.FAILS;
        case ALL:
          // No values at all is not "all hold": undecided, which fails closed either way.
          return fails > 0 ? Outcome.FAILS
              : capped || values == 0 ? Outcome.UNDECIDED
              : unknown > 0 ? unknownKind : Outcome.HOLDS;
        default:
          if (capped) {
            return Outcome.UNDECIDED;
          }
          // The unknown values may or may not hold: decided only if every possible count agrees.
          long least = holds;
          long most = (long) holds + unknown;
          if (least >= countMin && most <= countMax) {
            return Outcome.HOLDS;
          }
          if (most < countMin || least > countMax) {
            return Outcome.FAILS;
          }
          return unknownKind;
      }
    }
  }

  /**
   * Explains the outcome for these arguments, such as {@code /sql satisfies regex '...'} or
   * {@code /amount "0x1388" is a string, gt 1000 needs a number: type mismatch, counts as a match
   * for this deny rule}.
   */
  Explained explain(JsonNode arguments) {
    Trace trace = new Trace();
    Outcome outcome = evaluate(arguments, trace);
    boolean holds = resolve(outcome);
    StringBuilder out = new StringBuilder();
    if (parts.length == 1) {
      out.append(trace.texts.get(0));
    } else {
      out.append(pointerText).append(" (").append(quantifierText()).append("; ")
          .append(trace.values == 0 ? "no values to check"
              : trace.values == 1 ? "1 value checked" : trace.values + " values checked");
      if (trace.capped) {
        out.append(", stopped at the limit of ").append(MAX_VALUES).append(" values");
      }
      out.append("): ").append(quantifierSummary(trace));
      List<String> shown = trace.relevant(outcome, quantifier);
      for (int i = 0; i < shown.size() && i < 3; i++) {
        out.append(i == 0 ? "; " : ", ").append(shown.get(i));
      }
      if (shown.size() > 3) {
        out.append(", and ").append(shown.size() - 3).append(" more");
      }
    }
    if (outcome.unknown()) {
      out.append(": ").append(outcome == Outcome.MISMATCH ? "type mismatch" : "undecided")
          .append(", counts as ").append(holds ? "a match" : "no match").append(" for this ")
          .append(effect.name().toLowerCase(Locale.ROOT)).append(" rule");
    } else if (onMismatch != null && trace.typeMismatches > 0) {
      out.append(" (on_type_mismatch: ").append(onMismatch ? "match" : "no_match").append(')');
    }
    return new Explained(holds, out.toString());
  }

  private String quantifierText() {
    switch (quantifier) {
      case ANY:
        return "any";
      case ALL:
        return "all";
      default:
        return "count " + countText();
    }
  }

  private static String quantifierSummary(Trace trace) {
    StringBuilder out = new StringBuilder();
    out.append(trace.holds).append(" hold");
    if (trace.fails > 0) {
      out.append(", ").append(trace.fails).append(" fail");
    }
    if (trace.mismatches > 0) {
      out.append(", ").append(trace.mismatches)
          .append(trace.mismatches == 1 ? " type mismatch" : " type mismatches");
    }
    if (trace.undecided > 0) {
      out.append(", ").append(trace.undecided).append(" undecided");
    }
    return out.toString();
  }

  private String countText() {
    if (countMin == countMax) {
      return "= " + countMin;
    }
    if (countMax == Long.MAX_VALUE) {
      return ">= " + countMin;
    }
    return countMin == 0 ? "<= " + countMax : "in " + countMin + ".." + countMax;
  }

  /** Whether a condition held, once resolved, and why. */
  record Explained(boolean holds, String text) {}

  /** Collects per-value text while explaining. */
  private final class Trace extends Tally {
    final List<String> texts = new ArrayList<>();
    final List<Outcome> outcomes = new ArrayList<>();
    /** Values of the wrong type, including those {@code on_type_mismatch} decided. */
    int typeMismatches;
    boolean capped;

    void leaf(String path, JsonNode value, Outcome outcome, Shape shape) {
      add(outcome);
      outcomes.add(outcome);
      texts.add(describe(path, value, shape));
    }

    /** One value against every operator: {@code /n 50 does not satisfy lt 10}. */
    private String describe(String path, JsonNode value, Shape shape) {
      if (shape == Shape.NOT_A_CONTAINER) {
        typeMismatches++;
        return path + " " + render(value) + " is " + typeName(value)
            + ", * needs an array or object";
      }
      if (shape == Shape.NO_CONTAINER) {
        return path + " (missing)";
      }
      if (operators.length == 0) {
        return path + (value.isMissingNode() ? " (missing)" : " is present");
      }
      StringBuilder out = new StringBuilder();
      boolean mismatched = false;
      for (Operator operator : operators) {
        Outcome o = operator.test(value);
        if (out.length() > 0) {
          out.append(", ");
        }
        out.append(path);
        if (value.isMissingNode()) {
          out.append(" (missing)");
        } else if (o != Outcome.HOLDS) {
          out.append(' ').append(render(value));
        }
        switch (o) {
          case HOLDS:
            out.append(" satisfies ").append(operator);
            break;
          case FAILS:
            out.append(" does not satisfy ").append(operator);
            break;
          case MISMATCH:
            mismatched = true;
            out.append(" is ").append(typeName(value)).append(", ").append(operator)
                .append(" needs ").append(operator.accepts());
            break;
          default:
            out.append(": ").append(operator.undecided(value));
        }
      }
      if (mismatched) {
        typeMismatches++;
      }
      return out.toString();
    }

    /** The texts that show why the quantifier came out as it did. */
    List<String> relevant(Outcome outcome, Quantifier q) {
      List<String> out = new ArrayList<>();
      for (int i = 0; i < texts.size(); i++) {
        Outcome o = outcomes.get(i);
        boolean show;
        if (q == Quantifier.ANY) {
          show = outcome == Outcome.HOLDS ? o == Outcome.HOLDS : o != Outcome.HOLDS;
        } else if (q == Quantifier.ALL) {
          show = outcome == Outcome.HOLDS ? false : o != Outcome.HOLDS;
        } else {
          show = o != Outcome.FAILS;
        }
        if (show) {
          out.add(texts.get(i));
        }
      }
      return out;
    }
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder(pointerText).append(' ');
    for (int i = 0; i < operators.length; i++) {
      out.append(i == 0 ? "" : ", ").append(operators[i]);
    }
    if (parts.length > 1) {
      out.append(operators.length == 0 ? "" : ", ").append(quantifierText());
    }
    return out.toString();
  }

  /** A value as messages show it, shortened; a double that overflowed shows as Infinity. */
  static String render(JsonNode value) {
    if (value.isNumber() && !Operator.finite(value)) {
      return Double.toString(value.doubleValue());
    }
    return shorten(value.toString());
  }

  static String shorten(String text) {
    return text.length() <= 60 ? text : text.substring(0, 57) + "...";
  }

  /** The JSON type of a value as messages name it: {@code a string}, {@code a number}. */
  static String typeName(JsonNode value) {
    if (value.isString()) {
      return "a string";
    }
    if (value.isNumber()) {
      return Operator.finite(value) ? "a number" : "a number too large to compare (not finite)";
    }
    if (value.isBoolean()) {
      return "a boolean";
    }
    if (value.isNull()) {
      return "null";
    }
    if (value.isArray()) {
      return "an array";
    }
    if (value.isObject()) {
      return "an object";
    }
    return value.isMissingNode() ? "missing" : "an unsupported value";
  }
}
