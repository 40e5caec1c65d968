package dev.sentinel.core.policy;

import dev.sentinel.core.internal.Glob;
import java.math.BigDecimal;
import java.util.List;
import java.util.regex.Pattern;
import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;

/**
 * One argument condition of a rule's {@code when}: a JSON Pointer into the arguments and the
 * operators that must all hold for the value found there. Immutable and thread-safe.
 */
final class Condition {
  /** The operator names a policy may use, in the order messages list them. */
  static final List<String> OPERATORS =
      List.of("equals", "in", "glob", "regex", "prefix", "gt", "gte", "lt", "lte", "exists",
          "maxLength");

  private final String pointerText;
  private final JsonPointer pointer;
  private final Operator[] operators;

  Condition(String pointerText, List<Operator> operators) {
    this.pointerText = pointerText;
    this.pointer = JsonPointer.compile(pointerText);
    this.operators = operators.toArray(new Operator[0]);
  }

  /** Whether every operator holds for the value at the pointer. */
  boolean test(JsonNode arguments) {
    JsonNode value = arguments.at(pointer);
    for (Operator operator : operators) {
      if (!operator.test(value)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Explains the outcome: {@code /sql matches regex '...'} or {@code /path '/etc' does not match
   * glob '/workspace/**'}.
   */
  String explain(JsonNode arguments) {
    JsonNode value = arguments.at(pointer);
    StringBuilder out = new StringBuilder();
    for (Operator operator : operators) {
      boolean holds = operator.test(value);
      if (out.length() > 0) {
        out.append(", ");
      }
      out.append(pointerText);
      if (value.isMissingNode()) {
        out.append(" (missing)");
      } else if (!holds) {
        out.append(' ').append(shorten(value.toString()));
      }
      out.append(holds ? " satisfies " : " does not satisfy ").append(operator);
    }
    return out.toString();
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder(pointerText).append(' ');
    for (int i = 0; i < operators.length; i++) {
      out.append(i == 0 ? "" : ", ").append(operators[i]);
    }
    return out.toString();
  }

  private static String shorten(String text) {
    return text.length() <= 60 ? text : text.substring(0, 57) + "...";
  }

  /** The text of a scalar (string, number or boolean), or {@code null} for anything else. */
  static String text(JsonNode value) {
    if (value.isString()) {
      return value.stringValue();
    }
    if (value.isNumber() || value.isBoolean()) {
      return value.asString();
    }
    return null;
  }

  /** A number, or a string holding one; {@code null} for anything else. */
  static BigDecimal number(JsonNode value) {
    try {
      if (value.isNumber()) {
        if (value.isFloatingPointNumber()) {
          double d = value.doubleValue();
          if (Double.isNaN(d) || Double.isInfinite(d)) {
            return null;
          }
        }
        return value.decimalValue();
      }
      if (value.isString()) {
        String text = value.stringValue().strip();
        if (text.isEmpty() || text.length() > 64) {
          return null;
        }
        return new BigDecimal(text);
      }
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
    return null;
  }

  /**
   * JSON equality as policies mean it: a string equals any scalar with that text, a number
   * equals any number or numeric string of the same value, anything else must be equal JSON.
   */
  static boolean valueEquals(JsonNode expected, JsonNode actual) {
    if (actual.isMissingNode()) {
      return false;
    }
    if (expected.isString()) {
      return expected.stringValue().equals(text(actual));
    }
    if (expected.isNumber()) {
      BigDecimal a = number(actual);
      return a != null && a.compareTo(expected.decimalValue()) == 0;
    }
    if (expected.isBoolean()) {
      return actual.isBoolean()
          ? actual.booleanValue() == expected.booleanValue()
          : actual.isString() && actual.stringValue().equals(expected.asString());
    }
    return expected.equals(actual);
  }

  /** One operator of a condition. */
  abstract static class Operator {
    /** Whether the operator holds for the value (a missing node when the pointer found none). */
    abstract boolean test(JsonNode value);
  }

  /** {@code glob}: the scalar's text matches a glob; paths are normalized first. */
  static final class GlobOperator extends Operator {
    private final Glob glob;
    private final boolean path;

    GlobOperator(String glob) {
      this.glob = Glob.compile(glob);
      this.path = glob.startsWith("/");
    }

    @Override
    boolean test(JsonNode value) {
      String text = text(value);
      if (text == null) {
        return false;
      }
      return glob.matches(path ? PosixPath.normalize(text) : text);
    }

    @Override
    public String toString() {
      return "glob '" + glob + "'" + (path ? " (as a normalized path)" : "");
    }
  }

  /** {@code prefix}: the scalar's text starts with a prefix; paths are normalized first. */
  static final class PrefixOperator extends Operator {
    private final String prefix;
    private final boolean path;

    PrefixOperator(String prefix) {
      this.prefix = prefix;
      this.path = prefix.startsWith("/");
    }

    @Override
    boolean test(JsonNode value) {
      String text = text(value);
      if (text != null && path) {
        text = PosixPath.normalize(text);
      }
      return text != null && text.startsWith(prefix);
    }

    @Override
    public String toString() {
      return "prefix '" + prefix + "'" + (path ? " (as a normalized path)" : "");
    }
  }

  /** {@code regex}: the pattern is found anywhere in the scalar's text. */
  static final class RegexOperator extends Operator {
    private final Pattern pattern;

    RegexOperator(Pattern pattern) {
      this.pattern = pattern;
    }

    @Override
    boolean test(JsonNode value) {
      String text = text(value);
      return text != null && pattern.matcher(text).find();
    }

    @Override
    public String toString() {
      return "regex '" + pattern.pattern() + "'";
    }
  }

  /** {@code equals} and {@code in}: equal to any of the listed JSON values. */
  static final class InOperator extends Operator {
    private final JsonNode[] values;
    private final boolean single;

    InOperator(List<JsonNode> values, boolean single) {
      this.values = values.toArray(new JsonNode[0]);
      this.single = single;
    }

    @Override
    boolean test(JsonNode value) {
      for (JsonNode expected : values) {
        if (valueEquals(expected, value)) {
          return true;
        }
      }
      return false;
    }

    @Override
    public String toString() {
      if (single) {
        return "equals " + values[0];
      }
      StringBuilder out = new StringBuilder("in [");
      for (int i = 0; i < values.length; i++) {
        out.append(i == 0 ? "" : ", ").append(values[i]);
      }
      return out.append(']').toString();
    }
  }

  /** {@code gt}, {@code gte}, {@code lt}, {@code lte}: numbers and numeric strings only. */
  static final class CompareOperator extends Operator {
    private final String name;
    private final BigDecimal bound;

    CompareOperator(String name, BigDecimal bound) {
      this.name = name;
      this.bound = bound;
    }

    @Override
    boolean test(JsonNode value) {
      BigDecimal actual = number(value);
      if (actual == null) {
        return false;
      }
      int c = actual.compareTo(bound);
      switch (name) {
        case "gt":
          return c > 0;
        case "gte":
          return c >= 0;
        case "lt":
          return c < 0;
        default:
          return c <= 0;
      }
    }

    @Override
    public String toString() {
      return name + " " + bound.toPlainString();
    }
  }

  /** {@code exists}: whether the pointer finds a value (JSON {@code null} counts as a value). */
  static final class ExistsOperator extends Operator {
    private final boolean exists;

    ExistsOperator(boolean exists) {
      this.exists = exists;
    }

    @Override
    boolean test(JsonNode value) {
      return value.isMissingNode() != exists;
    }

    @Override
    public String toString() {
      return "exists " + exists;
    }
  }

  /** {@code maxLength}: the text has at most N characters, or the array at most N elements. */
  static final class MaxLengthOperator extends Operator {
    private final long max;

    MaxLengthOperator(long max) {
      this.max = max;
    }

    @Override
    boolean test(JsonNode value) {
      if (value.isArray()) {
        return value.size() <= max;
      }
      String text = text(value);
      return text != null && text.codePointCount(0, text.length()) <= max;
    }

    @Override
    public String toString() {
      return "maxLength " + max;
    }
  }
}
