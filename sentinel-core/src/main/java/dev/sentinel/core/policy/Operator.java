package dev.sentinel.core.policy;

import dev.sentinel.core.internal.BoundedText;
import dev.sentinel.core.internal.Glob;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.io.NumberOutput;
import tools.jackson.databind.JsonNode;

/**
 * One operator of a {@link Condition}, and the stock operators. Each accepts certain JSON types;
 * on a value of another type it answers {@link Outcome#MISMATCH}, and the condition decides what
 * that counts as. Immutable and thread-safe.
 */
abstract class Operator {
  /** What one operator, or a condition before it is resolved, says about a value. */
  enum Outcome {
    HOLDS, FAILS, MISMATCH, UNDECIDED;

    boolean unknown() {
      return this == MISMATCH || this == UNDECIDED;
    }
  }

  /**
   * What the operator says about a value (a missing node when the pointer found none): a
   * missing value fails every operator but {@code exists: false}; never {@code null}.
   */
  abstract Outcome test(JsonNode value);

  /** The JSON types the operator accepts, for messages: {@code a number}. */
  abstract String accepts();

  /**
   * The JSON Schema types ({@code string}, {@code number}, {@code integer}, {@code boolean},
   * {@code null}, {@code array}, {@code object}) whose values the operator can decide, for
   * checking a rule against a tool's input schema; {@code null} when it accepts every type (or
   * does not say).
   */
  java.util.@Nullable Set<String> schemaTypes() {
    return null;
  }

  /** Why the operator could not decide; only operators that can be undecided override it. */
  String undecided(JsonNode value) {
    return this + " could not decide";
  }

  /** Whether a number node holds a finite value (a double can overflow to infinity). */
  static boolean finite(JsonNode number) {
    if (number.isDouble() || number.isFloat()) {
      return Double.isFinite(number.doubleValue());
    }
    return number.isNumber();
  }

  /**
   * Compares a finite number node with a bound, exactly for every node kind: whole numbers that
   * fit a long as longs, the rest as {@link BigDecimal} (a double as its shortest decimal form).
   */
  static int compare(JsonNode number, BigDecimal bound, long longBound, boolean boundIsLong) {
    if (boundIsLong && number.isIntegralNumber() && number.canConvertToLong()) {
      return Long.compare(number.longValue(), longBound);
    }
    return decimal(number).compareTo(bound);
  }

  /**
   * A finite number node's value as a {@link BigDecimal}: a double (or float) as its shortest
   * decimal form, {@code 0.1} as 0.1 and {@code 2e23} as 2E+23. Not {@code decimalValue()}, which
   * goes through {@code Double.toString}: on Java 17 that is sometimes longer than needed
   * ({@code 2.0000000000000002E23}), a different number from the one written.
   */
  static BigDecimal decimal(JsonNode number) {
    if (number.isDouble()) {
      return new BigDecimal(NumberOutput.toString(number.doubleValue(), true));
    }
    if (number.isFloat()) {
      return new BigDecimal(NumberOutput.toString(number.floatValue(), true));
    }
    return number.decimalValue();
  }

  /**
   * JSON equality as policies mean it: the same JSON type, numbers by value ({@code 5} equals
   * {@code 5.0}), strings exactly, arrays and objects element by element.
   */
  static boolean jsonEquals(JsonNode expected, JsonNode actual) {
    if (expected.isNumber()) {
      return actual.isNumber() && finite(actual)
          && decimal(actual).compareTo(decimal(expected)) == 0;
    }
    if (expected.isString()) {
      return actual.isString() && expected.stringValue().equals(actual.stringValue());
    }
    if (expected.isBoolean()) {
      return actual.isBoolean() && expected.booleanValue() == actual.booleanValue();
    }
    if (expected.isNull()) {
      return actual.isNull();
    }
    if (expected.isArray()) {
      if (!actual.isArray() || actual.size() != expected.size()) {
        return false;
      }
      for (int i = 0; i < expected.size(); i++) {
        if (!jsonEquals(expected.get(i), actual.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (expected.isObject()) {
      if (!actual.isObject() || actual.size() != expected.size()) {
        return false;
      }
      for (Map.Entry<String, JsonNode> e : expected.properties()) {
        JsonNode other = actual.get(e.getKey());
        if (other == null || !jsonEquals(e.getValue(), other)) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  /** An operator on strings only. */
  abstract static class TextOperator extends Operator {
    @Override
    final Outcome test(JsonNode value) {
      if (value.isMissingNode()) {
        return Outcome.FAILS;
      }
      if (!value.isString()) {
        return Outcome.MISMATCH;
      }
      return testText(value.stringValue());
    }

    abstract Outcome testText(String text);

    @Override
    String accepts() {
      return "a string";
    }

    @Override
    java.util.Set<String> schemaTypes() {
      return java.util.Set.of("string");
    }
  }

  /** {@code glob}: the string matches a glob; paths are normalized first. */
  static final class GlobOperator extends TextOperator {
    private final Glob glob;
    private final boolean path;

    GlobOperator(String glob) {
      this.glob = Glob.compile(glob);
      this.path = glob.startsWith("/");
    }

    @Override
    Outcome testText(String text) {
      return glob.matches(path ? PosixPath.normalize(text) : text)
          ? Outcome.HOLDS : Outcome.FAILS;
    }

    @Override
    public String toString() {
      return "glob '" + glob + "'" + (path ? " (as a normalized path)" : "");
    }
  }

  /** {@code prefix}: the string starts with a prefix; paths are normalized first. */
  static final class PrefixOperator extends TextOperator {
    private final String prefix;
    private final boolean path;

    PrefixOperator(String prefix) {
      this.prefix = prefix;
      this.path = prefix.startsWith("/");
    }

    @Override
    Outcome testText(String text) {
      String t = path ? PosixPath.normalize(text) : text;
      return t != null && t.startsWith(prefix) ? Outcome.HOLDS : Outcome.FAILS;
    }

    @Override
    public String toString() {
      return "prefix '" + prefix + "'" + (path ? " (as a normalized path)" : "");
    }
  }

  /**
   * {@code regex}: the pattern is found anywhere in the string. Java's engine backtracks, so
   * each search may read the text at most {@link BoundedText#budget} characters' worth; past
   * that, or on a stack overflow, the operator is undecided (and the rule fails closed).
   */
  static final class RegexOperator extends TextOperator {
    private static final Pattern INLINE_FLAGS = Pattern.compile("^\\(\\?[a-zA-Z]+\\)");
    private final Pattern pattern;
    private final Pattern search;

    RegexOperator(Pattern pattern) {
      this.pattern = pattern;
      this.search = searchForm(pattern);
    }

    @Override
    Outcome testText(String text) {
      try {
        return search.matcher(new BoundedText(text)).find() ? Outcome.HOLDS : Outcome.FAILS;
      } catch (BoundedText.Exhausted | StackOverflowError e) {
        return Outcome.UNDECIDED;
      }
    }

    @Override
    String undecided(JsonNode value) {
      int length = value.stringValue().length();
      return this + " gave up after " + BoundedText.budget(length)
          + " character reads (the budget for " + length + " characters; the pattern "
          + "backtracks too much on this text)";
    }

    @Override
    public String toString() {
      return "regex '" + pattern.pattern() + "'";
    }

    /**
     * The pattern without a leading or trailing {@code .*}: a search finds {@code .*X} or
     * {@code X.*} exactly when it finds {@code X}, and the bare form does not scan the rest of
     * the text from every position (quadratic in its length).
     */
    static Pattern searchForm(Pattern pattern) {
      String p = pattern.pattern();
      if (p.contains("\\Q")) {
        return pattern;
      }
      int flagsEnd = 0;
      java.util.regex.Matcher flags = INLINE_FLAGS.matcher(p);
      if (flags.find()) {
        flagsEnd = flags.end();
      }
      String body = p.substring(flagsEnd);
      boolean changed = false;
      if (body.startsWith(".*") && !body.startsWith(".*+") && !body.startsWith(".*?")) {
        body = body.substring(2);
        changed = true;
      }
      if (body.endsWith(".*") && !escapedAt(body, body.length() - 2)) {
        body = body.substring(0, body.length() - 2);
        changed = true;
      }
      if (!changed) {
        return pattern;
      }
      try {
        return Pattern.compile(p.substring(0, flagsEnd) + body, pattern.flags());
      } catch (java.util.regex.PatternSyntaxException e) {
        return pattern;
      }
    }

    /** Whether the character at {@code i} is escaped by an odd run of backslashes. */
    private static boolean escapedAt(String s, int i) {
      int slashes = 0;
      for (int j = i - 1; j >= 0 && s.charAt(j) == '\\'; j--) {
        slashes++;
      }
      return slashes % 2 == 1;
    }
  }

  /**
   * {@code equals} and {@code in}: equal to one of the listed JSON values. The value must have
   * the type of a listed value other than {@code null} (a list of only {@code null} accepts
   * every type); JSON {@code null} is accepted only when {@code null} is listed.
   */
  static final class InOperator extends Operator {
    private static final int STRING = 1;
    private static final int NUMBER = 2;
    private static final int BOOLEAN = 4;
    private static final int ARRAY = 8;
    private static final int OBJECT = 16;

    private final JsonNode[] values;
    private final boolean single;
    private final int types;
    private final boolean nullListed;

    InOperator(List<JsonNode> values, boolean single) {
      this.values = values.toArray(new JsonNode[0]);
      this.single = single;
      int t = 0;
      boolean n = false;
      for (JsonNode v : values) {
        if (v.isNull()) {
          n = true;
        } else {
          t |= type(v);
        }
      }
      this.types = t;
      this.nullListed = n;
    }

    private static int type(JsonNode v) {
      return v.isString() ? STRING : v.isNumber() ? NUMBER : v.isBoolean() ? BOOLEAN
          : v.isArray() ? ARRAY : v.isObject() ? OBJECT : 0;
    }

    @Override
    Outcome test(JsonNode value) {
      if (value.isMissingNode()) {
        return Outcome.FAILS;
      }
      if (value.isNull()) {
        return nullListed ? Outcome.HOLDS : types == 0 ? Outcome.FAILS : Outcome.MISMATCH;
      }
      if (types != 0 && (type(value) & types) == 0) {
        return Outcome.MISMATCH;
      }
      if (value.isNumber() && !finite(value)) {
        return Outcome.MISMATCH;
      }
      for (JsonNode expected : values) {
        if (jsonEquals(expected, value)) {
          return Outcome.HOLDS;
        }
      }
      return Outcome.FAILS;
    }

    @Override
    java.util.@Nullable Set<String> schemaTypes() {
      if (types == 0) {
        return null;
      }
      java.util.Set<String> names = new java.util.HashSet<>();
      if ((types & STRING) != 0) {
        names.add("string");
      }
      if ((types & NUMBER) != 0) {
        names.add("number");
        names.add("integer");
      }
      if ((types & BOOLEAN) != 0) {
        names.add("boolean");
      }
      if ((types & ARRAY) != 0) {
        names.add("array");
      }
      if ((types & OBJECT) != 0) {
        names.add("object");
      }
      if (nullListed) {
        names.add("null");
      }
      return names;
    }

    @Override
    String accepts() {
      List<String> names = new ArrayList<>();
      if ((types & STRING) != 0) {
        names.add("a string");
      }
      if ((types & NUMBER) != 0) {
        names.add("a number");
      }
      if ((types & BOOLEAN) != 0) {
        names.add("a boolean");
      }
      if ((types & ARRAY) != 0) {
        names.add("an array");
      }
      if ((types & OBJECT) != 0) {
        names.add("an object");
      }
      if (nullListed) {
        names.add("null");
      }
      return names.size() == 1 ? names.get(0)
          : String.join(", ", names.subList(0, names.size() - 1)) + " or "
              + names.get(names.size() - 1);
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

  /** {@code gt}, {@code gte}, {@code lt}, {@code lte}: finite JSON numbers only. */
  static final class CompareOperator extends Operator {
    private final String name;
    private final BigDecimal bound;
    private final boolean boundIsLong;
    private final long longBound;

    CompareOperator(String name, BigDecimal bound) {
      this.name = name;
      this.bound = bound;
      long l = 0;
      boolean isLong;
      try {
        l = bound.longValueExact();
        isLong = true;
      } catch (ArithmeticException e) {
        isLong = false;
      }
      this.boundIsLong = isLong;
      this.longBound = l;
    }

    @Override
    Outcome test(JsonNode value) {
      if (value.isMissingNode()) {
        return Outcome.FAILS;
      }
      if (!value.isNumber() || !finite(value)) {
        return Outcome.MISMATCH;
      }
      int c;
      try {
        c = compare(value, bound, longBound, boundIsLong);
      } catch (ArithmeticException e) {
        return Outcome.UNDECIDED;
      }
      boolean holds;
      switch (name) {
        case "gt":
          holds = c > 0;
          break;
        case "gte":
          holds = c >= 0;
          break;
        case "lt":
          holds = c < 0;
          break;
        default:
          holds = c <= 0;
      }
      return holds ? Outcome.HOLDS : Outcome.FAILS;
    }

    @Override
    String accepts() {
      return "a number";
    }

    @Override
    java.util.Set<String> schemaTypes() {
      return java.util.Set.of("number", "integer");
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
    Outcome test(JsonNode value) {
      return value.isMissingNode() != exists ? Outcome.HOLDS : Outcome.FAILS;
    }

    @Override
    String accepts() {
      return "any value";
    }

    @Override
    public String toString() {
      return "exists " + exists;
    }
  }

  /** {@code maxLength}: a string of at most N characters, or an array of at most N elements. */
  static final class MaxLengthOperator extends Operator {
    private final long max;

    MaxLengthOperator(long max) {
      this.max = max;
    }

    @Override
    Outcome test(JsonNode value) {
      if (value.isMissingNode()) {
        return Outcome.FAILS;
      }
      if (value.isArray()) {
        return value.size() <= max ? Outcome.HOLDS : Outcome.FAILS;
      }
      if (!value.isString()) {
        return Outcome.MISMATCH;
      }
      String text = value.stringValue();
      return text.codePointCount(0, text.length()) <= max ? Outcome.HOLDS : Outcome.FAILS;
    }

    @Override
    String accepts() {
      return "a string or an array";
    }

    @Override
    java.util.Set<String> schemaTypes() {
      return java.util.Set.of("string", "array");
    }

    @Override
    public String toString() {
      return "maxLength " + max;
    }
  }
}
