package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.internal.Glob;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Fuzz target for typed argument conditions ({@code benchmarks/fuzz ConditionFuzzTest}): fuzzed
 * rules (operators and operands, pointers with {@code *}, {@code wildcard}, {@code count},
 * {@code on_type_mismatch}) and fuzzed arguments (every kind of number node Jackson makes,
 * infinities included) decide as a reference written from docs/policy.md does.
 *
 * <p>The reference is independent of {@link Condition} and {@link Operator}: its own pointer
 * walk, its own typing, its own exact numbers (a double is its shortest decimal, found by
 * search). It borrows only the regex engine, {@link Glob} and {@link PosixPath}, which have
 * fuzz targets of their own.
 */
class ConditionFuzzTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final List<String> OPERATORS = List.of("equals", "in", "regex", "glob",
      "prefix", "gt", "gte", "lt", "lte", "exists", "maxLength", "count");
  private static final List<String> SEGMENTS = List.of("a", "b", "0", "1", "*", "*", "~1", "");
  private static final List<String> KEYS = List.of("a", "b", "0", "1", "*", "/", "");
  private static final List<String> PATTERNS = List.of("a", "^a", "b$", "(?i)drop", ".*a.*",
      "a.*", ".*b", "[ab]+c", "^$", "x|/", "\\d", "^\\.\\.");
  private static final List<String> GLOBS = List.of("a*", "*", "/a/**", "/a/*", "?b", "**",
      "/a/../b", "a\\*", "/**/b", "*.x");
  private static final String ALPHABET = "ab/.xDROP1\u00e9\uD83D\uDE00";

  /**
   * One to three rules (allow, deny, confirm) with one or two conditions each, on arguments
   * built from the same data: the engine's effect, its deny rules, the index, the linear scan
   * and every rule's explanation agree with the reference.
   */
  @FuzzTest
  void decide_anyConditionAnyArguments_agreesWithReference(FuzzedDataProvider data) {
    // The last byte picks the first rule's first operator, so that a seed per operator is one
    // byte to write.
    String first = OPERATORS.get(data.consumeInt(0, OPERATORS.size() - 1));
    List<RefRule> rules = new ArrayList<>();
    int count = data.consumeInt(1, 3);
    for (int i = 0; i < count; i++) {
      rules.add(rule(data, "r" + i, i == 0 ? first : null));
    }
    JsonNode arguments = value(data, 0);
    if (!arguments.isObject()) {
      arguments = NODES.objectNode().set("a", arguments);
    }
    String yaml = yaml(rules);
    PolicyEngine engine = PolicyEngine.parse(yaml, "fuzz.yaml");
    RequestContext context = Requests.tool(Principal.of("p"), "t", arguments);

    Decision decision = engine.decide(context);
    Explanation explanation = engine.explain(context);

    List<String> denies = new ArrayList<>();
    boolean confirm = false;
    boolean allow = false;
    for (int i = 0; i < rules.size(); i++) {
      RefRule rule = rules.get(i);
      boolean matches = rule.matches(arguments);
      assertThat(explanation.rules().get(i).matched())
          .as("rule %s of %s on %s: %s", rule.id, yaml, arguments,
              explanation.rules().get(i).why())
          .isEqualTo(matches);
      if (matches) {
        if (rule.effect == Effect.DENY) {
          denies.add(rule.id);
        }
        confirm |= rule.effect == Effect.CONFIRM;
        allow |= rule.effect == Effect.ALLOW;
      }
    }
    Effect expected = !denies.isEmpty() ? Effect.DENY
        : confirm ? Effect.CONFIRM : allow ? Effect.ALLOW : Effect.DENY;
    assertThat(decision.effect()).as("%s on %s", yaml, arguments).isEqualTo(expected);
    if (expected == Effect.DENY) {
      assertThat(decision.rules()).as("%s on %s", yaml, arguments)
          .containsExactlyInAnyOrderElementsOf(denies);
    }
    assertThat(decision.diagnostics()).isEmpty();
    assertThat(engine.decideLinear(context)).isEqualTo(decision);
    assertThat(explanation.decision()).isEqualTo(decision);
  }

  // ---- the generator: rules ---------------------------------------------------------------

  private static RefRule rule(FuzzedDataProvider data, String id, String first) {
    Effect effect = List.of(Effect.DENY, Effect.ALLOW, Effect.CONFIRM)
        .get(data.consumeInt(0, 2));
    Map<String, RefCondition> conditions = new LinkedHashMap<>();
    int n = data.consumeInt(1, 2);
    for (int i = 0; i < n; i++) {
      RefCondition c = condition(data, effect, i == 0 ? first : null);
      conditions.putIfAbsent(c.pointer, c);
    }
    return new RefRule(id, effect, List.copyOf(conditions.values()));
  }

  private static RefCondition condition(FuzzedDataProvider data, Effect effect, String first) {
    StringBuilder pointer = new StringBuilder();
    int depth = data.consumeInt(1, 3);
    for (int i = 0; i < depth; i++) {
      pointer.append('/').append(SEGMENTS.get(data.consumeInt(0, SEGMENTS.size() - 1)));
    }
    String p = pointer.toString();
    boolean wildcard = Condition.hasWildcard(p);
    String firstOp = first != null ? first
        : OPERATORS.get(data.consumeInt(0, OPERATORS.size() - 1));
    if (firstOp.equals("count") && !wildcard) {
      firstOp = "exists";
    }
    Map<String, Object> ops = new LinkedHashMap<>();
    List<String> names = new ArrayList<>(List.of(firstOp));
    if (data.consumeBoolean()) {
      names.add(OPERATORS.get(data.consumeInt(0, OPERATORS.size() - 2)));
    }
    Quantifier q = null;
    long countMin = 0;
    long countMax = Long.MAX_VALUE;
    StringBuilder countText = null;
    for (String name : names) {
      if (ops.containsKey(name) || name.equals("count")) {
        if (name.equals("count") && wildcard && countText == null) {
          countText = new StringBuilder();
          long[] bounds = count(data, countText);
          countMin = bounds[0];
          countMax = bounds[1];
          q = Quantifier.COUNT;
        }
        continue;
      }
      ops.put(name, operand(data, name));
    }
    if (q == null && wildcard && data.consumeBoolean()) {
      q = data.consumeBoolean() ? Quantifier.ANY : Quantifier.ALL;
    }
    Boolean onMismatch = data.consumeBoolean() ? null : data.consumeBoolean();
    if (ops.isEmpty() && q != Quantifier.COUNT) {
      ops.put("exists", Boolean.TRUE);
    }
    StringBuilder yaml = new StringBuilder("{");
    for (Map.Entry<String, Object> op : ops.entrySet()) {
      yaml.append(yaml.length() == 1 ? "" : ", ").append(op.getKey()).append(": ")
          .append(json(op.getValue()));
    }
    if (countText != null) {
      yaml.append(yaml.length() == 1 ? "" : ", ").append("count: {").append(countText)
          .append('}');
    } else if (q != null) {
      yaml.append(yaml.length() == 1 ? "" : ", ").append("wildcard: ")
          .append(q == Quantifier.ANY ? "any" : "all");
    }
    if (onMismatch != null) {
      yaml.append(", on_type_mismatch: ").append(onMismatch ? "match" : "no_match");
    }
    yaml.append('}');
    if (q == null) {
      q = effect == Effect.ALLOW ? Quantifier.ALL : Quantifier.ANY;
    }
    return new RefCondition(p, ops, q, countMin, countMax, onMismatch, effect, yaml.toString());
  }

  /** Consistent count bounds, as inclusive [min, max], their text appended to {@code out}. */
  private static long[] count(FuzzedDataProvider data, StringBuilder out) {
    long min = 0;
    long max = Long.MAX_VALUE;
    switch (data.consumeInt(0, 4)) {
      case 0: {
        long x = data.consumeInt(0, 4);
        out.append("equals: ").append(x);
        return new long[] {x, x};
      }
      case 1: {
        long x = data.consumeInt(0, 3);
        out.append("gt: ").append(x);
        return new long[] {x + 1, max};
      }
      case 2: {
        long x = data.consumeInt(1, 4);
        out.append("lt: ").append(x);
        return new long[] {min, x - 1};
      }
      case 3: {
        long x = data.consumeInt(0, 3);
        out.append("gte: ").append(x);
        return new long[] {x, max};
      }
      default: {
        long lo = data.consumeInt(0, 3);
        long hi = lo + data.consumeInt(0, 3);
        out.append("gte: ").append(lo).append(", lte: ").append(hi);
        return new long[] {lo, hi};
      }
    }
  }

  /** An operand as a reference value: String, BigDecimal, Boolean, null, List, Map. */
  private static Object operand(FuzzedDataProvider data, String name) {
    switch (name) {
      case "equals":
        return literal(data, 1);
      case "in": {
        List<Object> values = new ArrayList<>();
        int n = data.consumeInt(1, 3);
        for (int i = 0; i < n; i++) {
          values.add(literal(data, 1));
        }
        return values;
      }
      case "regex":
        return PATTERNS.get(data.consumeInt(0, PATTERNS.size() - 1));
      case "glob":
        return data.consumeBoolean() ? GLOBS.get(data.consumeInt(0, GLOBS.size() - 1))
            : text(data);
      case "prefix":
        return data.consumeBoolean() ? "/a" : text(data);
      case "gt":
      case "gte":
      case "lt":
      case "lte":
        return operandNumber(data);
      case "exists":
        return data.consumeBoolean();
      default:
        return BigDecimal.valueOf(data.consumeInt(0, 4));
    }
  }

  /** A policy literal: a string, number, boolean, null, or (at depth 1) a short array. */
  private static Object literal(FuzzedDataProvider data, int depth) {
    switch (data.consumeInt(0, depth > 0 ? 5 : 4)) {
      case 0:
      case 1:
        return text(data);
      case 2:
        return operandNumber(data);
      case 3:
        return data.consumeBoolean();
      case 4:
        return null;
      default: {
        List<Object> values = new ArrayList<>();
        int n = data.consumeInt(0, 2);
        for (int i = 0; i < n; i++) {
          values.add(literal(data, depth - 1));
        }
        return values;
      }
    }
  }

  private static String text(FuzzedDataProvider data) {
    StringBuilder out = new StringBuilder();
    int n = data.consumeInt(0, 4);
    int[] cps = ALPHABET.codePoints().toArray();
    for (int i = 0; i < n; i++) {
      out.appendCodePoint(cps[data.consumeInt(0, cps.length - 1)]);
    }
    return out.toString();
  }

  /**
   * A number as a policy holds it once written out by {@link #json}: a whole number of up to 19
   * digits is read exactly, any other as the double nearest it, whose value is its shortest
   * decimal (docs/policy.md).
   */
  private static BigDecimal operandNumber(FuzzedDataProvider data) {
    BigDecimal d = decimal(data);
    String text = json(d);
    return text.contains("e") ? shortest(Double.parseDouble(text)) : d;
  }

  /** A decimal such as 5, -0.5, 1000, 2E+23, 1E-7 or 9007199254740993. */
  private static BigDecimal decimal(FuzzedDataProvider data) {
    switch (data.consumeInt(0, 3)) {
      case 0:
        return BigDecimal.valueOf(data.consumeInt(-3, 3));
      case 1:
        return BigDecimal.valueOf(data.consumeInt(-2000, 2000), data.consumeInt(-2, 3));
      case 2:
        return BigDecimal.valueOf(data.consumeLong(), data.consumeInt(-25, 25));
      default:
        return new BigDecimal(BigInteger.valueOf(data.consumeInt(1, 9)), data.consumeInt(-30, 30));
    }
  }

  // ---- the generator: arguments ----------------------------------------------------------

  /** Any JSON value; numbers as int, long, BigInteger, BigDecimal or double nodes. */
  private static JsonNode value(FuzzedDataProvider data, int depth) {
    switch (data.consumeInt(0, depth < 3 ? 7 : 4)) {
      case 0:
        return NODES.stringNode(text(data));
      case 1:
        return number(data);
      case 2:
        return NODES.booleanNode(data.consumeBoolean());
      case 3:
        return NODES.nullNode();
      case 4:
        return NODES.stringNode(decimal(data).toString());
      case 5: {
        ArrayNode array = NODES.arrayNode();
        int n = data.consumeInt(0, 3);
        for (int i = 0; i < n; i++) {
          array.add(value(data, depth + 1));
        }
        return array;
      }
      default: {
        ObjectNode object = NODES.objectNode();
        int n = data.consumeInt(0, 3);
        for (int i = 0; i < n; i++) {
          object.set(KEYS.get(data.consumeInt(0, KEYS.size() - 1)), value(data, depth + 1));
        }
        return object;
      }
    }
  }

  private static JsonNode number(FuzzedDataProvider data) {
    BigDecimal d = decimal(data);
    switch (data.consumeInt(0, 5)) {
      case 0:
        return d.scale() <= 0 && d.abs().compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) <= 0
            ? NODES.numberNode(d.intValue()) : NODES.numberNode(d);
      case 1:
        try {
          return NODES.numberNode(d.longValueExact());
        } catch (ArithmeticException e) {
          return NODES.numberNode(d);
        }
      case 2:
        try {
          return NODES.numberNode(d.toBigIntegerExact());
        } catch (ArithmeticException e) {
          return NODES.numberNode(d);
        }
      case 3:
        return NODES.numberNode(d);
      case 4:
        return NODES.numberNode(d.doubleValue());
      default:
        return NODES.numberNode(List.of(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
            Double.NaN, Double.MAX_VALUE, Double.MIN_VALUE, -0.0, 0.1, 2e23)
            .get(data.consumeInt(0, 7)));
    }
  }

  // ---- YAML out ----------------------------------------------------------------------------

  private static String yaml(List<RefRule> rules) {
    StringBuilder out = new StringBuilder("rules:\n");
    for (RefRule rule : rules) {
      out.append("  - id: ").append(rule.id).append("\n    ")
          .append(rule.effect.name().toLowerCase(Locale.ROOT)).append(":\n      tools: [t]\n")
          .append("      when:\n");
      for (RefCondition c : rule.conditions) {
        out.append("        ").append(json(c.pointer)).append(": ").append(c.yaml).append('\n');
      }
    }
    return out.toString();
  }

  /** A reference value as JSON, which YAML's flow style reads back. */
  private static String json(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String) {
      StringBuilder out = new StringBuilder("\"");
      for (char c : ((String) v).toCharArray()) {
        if (c == '"' || c == '\\') {
          out.append('\\').append(c);
        } else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
          out.append(String.format("\\u%04x", (int) c));
        } else {
          out.append(c);
        }
      }
      return out.append('"').toString();
    }
    if (v instanceof BigDecimal) {
      // YAML reads 1E+3 as a string; 1.0e+3 is a number in both YAML 1.1 and 1.2.
      BigDecimal d = (BigDecimal) v;
      if (d.scale() <= 0 && d.precision() - d.scale() <= 19) {
        return d.toBigIntegerExact().toString();
      }
      BigDecimal s = d.stripTrailingZeros();
      String digits = s.unscaledValue().abs().toString();
      int exponent = digits.length() - 1 - s.scale();
      return (s.signum() < 0 ? "-" : "") + digits.charAt(0) + "." + (digits.length() > 1
          ? digits.substring(1) : "0") + "e" + (exponent < 0 ? "" : "+") + exponent;
    }
    if (v instanceof List) {
      StringBuilder out = new StringBuilder("[");
      for (Object o : (List<?>) v) {
        out.append(out.length() == 1 ? "" : ", ").append(json(o));
      }
      return out.append(']').toString();
    }
    return v.toString();
  }

  // ---- the reference -----------------------------------------------------------------------

  private enum Quantifier { ANY, ALL, COUNT }

  /** Three-valued: a value holds, fails, or is of the wrong type. */
  private enum Truth { HOLDS, FAILS, MISMATCH, UNDECIDED }

  private record RefRule(String id, Effect effect, List<RefCondition> conditions) {
    boolean matches(JsonNode arguments) {
      for (RefCondition c : conditions) {
        if (!c.holds(arguments)) {
          return false;
        }
      }
      return true;
    }
  }

  private record RefCondition(String pointer, Map<String, Object> ops, Quantifier q,
      long countMin, long countMax, Boolean onMismatch, Effect effect, String yaml) {

    /** The condition, unknowns resolved as the rule's effect says (docs/policy.md). */
    boolean holds(JsonNode arguments) {
      List<String> segments = new ArrayList<>();
      for (String s : pointer.substring(1).split("/", -1)) {
        segments.add(s);
      }
      Truth t;
      if (!segments.contains("*")) {
        t = one(find(arguments, segments));
      } else {
        List<Truth> values = new ArrayList<>();
        walk(arguments, segments, 0, values);
        t = combine(values);
      }
      return t == Truth.HOLDS || (t != Truth.FAILS && effect != Effect.ALLOW);
    }

    private void walk(JsonNode node, List<String> segments, int i, List<Truth> out) {
      if (node == null) {
        // Missing: one missing value, whether the rest of the path has wildcards or not.
        out.add(one(null));
        return;
      }
      if (i == segments.size()) {
        out.add(one(node));
        return;
      }
      String s = segments.get(i);
      if (!s.equals("*")) {
        walk(child(node, s), segments, i + 1, out);
        return;
      }
      if (node.isArray() || node.isObject()) {
        for (JsonNode child : node.values()) {
          walk(child, segments, i + 1, out);
        }
      } else {
        out.add(mismatch());
      }
    }

    private Truth combine(List<Truth> values) {
      int holds = 0;
      int fails = 0;
      int unknown = 0;
      for (Truth t : values) {
        if (t == Truth.HOLDS) {
          holds++;
        } else if (t == Truth.FAILS) {
          fails++;
        } else {
          unknown++;
        }
      }
      switch (q) {
        case ANY:
          return holds > 0 ? Truth.HOLDS : unknown > 0 ? Truth.MISMATCH : Truth.FAILS;
        case ALL:
          return fails > 0 ? Truth.FAILS : values.isEmpty() ? Truth.UNDECIDED
              : unknown > 0 ? Truth.MISMATCH : Truth.HOLDS;
        default:
          if (holds >= countMin && holds + unknown <= countMax) {
            return Truth.HOLDS;
          }
          if (holds + unknown < countMin || holds > countMax) {
            return Truth.FAILS;
          }
          return Truth.MISMATCH;
      }
    }

    /** Every operator on one value ({@code null} if missing), failures outweighing mismatches. */
    private Truth one(JsonNode value) {
      if (ops.isEmpty()) {
        return value == null ? Truth.FAILS : Truth.HOLDS;
      }
      boolean mismatch = false;
      for (Map.Entry<String, Object> op : ops.entrySet()) {
        Truth t = operator(op.getKey(), op.getValue(), value);
        if (t == Truth.FAILS) {
          return Truth.FAILS;
        }
        mismatch |= t == Truth.MISMATCH;
      }
      return mismatch ? mismatch() : Truth.HOLDS;
    }

    private Truth mismatch() {
      return onMismatch == null ? Truth.MISMATCH : onMismatch ? Truth.HOLDS : Truth.FAILS;
    }
  }

  private static Truth operator(String name, Object operand, JsonNode value) {
    if (name.equals("exists")) {
      return (value != null) == (Boolean) operand ? Truth.HOLDS : Truth.FAILS;
    }
    if (value == null) {
      return Truth.FAILS;
    }
    switch (name) {
      case "equals":
      case "in": {
        List<?> listed = name.equals("equals") ? java.util.Collections.singletonList(operand)
            : (List<?>) operand;
        Set<String> types = new HashSet<>();
        boolean nullListed = false;
        for (Object o : listed) {
          if (o == null) {
            nullListed = true;
          } else {
            types.add(refType(o));
          }
        }
        if (value.isNull()) {
          return nullListed ? Truth.HOLDS : Truth.MISMATCH;
        }
        if (!types.isEmpty() && !types.contains(type(value))) {
          return Truth.MISMATCH;
        }
        if (value.isNumber() && exact(value) == null) {
          return Truth.MISMATCH;
        }
        for (Object o : listed) {
          if (same(o, value)) {
            return Truth.HOLDS;
          }
        }
        return Truth.FAILS;
      }
      case "regex":
        return !value.isString() ? Truth.MISMATCH
            : Pattern.compile((String) operand).matcher(value.stringValue()).find()
                ? Truth.HOLDS : Truth.FAILS;
      case "glob":
      case "prefix": {
        if (!value.isString()) {
          return Truth.MISMATCH;
        }
        String pattern = (String) operand;
        String text = value.stringValue();
        if (pattern.startsWith("/")) {
          text = PosixPath.normalize(text);
          if (text == null) {
            return Truth.FAILS;
          }
        }
        boolean holds = name.equals("glob") ? Glob.compile(pattern).matches(text)
            : text.startsWith(pattern);
        return holds ? Truth.HOLDS : Truth.FAILS;
      }
      case "maxLength": {
        long max = ((BigDecimal) operand).longValueExact();
        if (value.isArray()) {
          return value.size() <= max ? Truth.HOLDS : Truth.FAILS;
        }
        if (!value.isString()) {
          return Truth.MISMATCH;
        }
        return value.stringValue().codePoints().count() <= max ? Truth.HOLDS : Truth.FAILS;
      }
      default: {
        BigDecimal v = value.isNumber() ? exact(value) : null;
        if (v == null) {
          return Truth.MISMATCH;
        }
        int c = v.compareTo((BigDecimal) operand);
        boolean holds = name.equals("gt") ? c > 0 : name.equals("gte") ? c >= 0
            : name.equals("lt") ? c < 0 : c <= 0;
        return holds ? Truth.HOLDS : Truth.FAILS;
      }
    }
  }

  private static String refType(Object o) {
    return o instanceof String ? "string" : o instanceof BigDecimal ? "number"
        : o instanceof Boolean ? "boolean" : "array";
  }

  private static String type(JsonNode v) {
    return v.isString() ? "string" : v.isNumber() ? "number" : v.isBoolean() ? "boolean"
        : v.isArray() ? "array" : v.isObject() ? "object" : "null";
  }

  /** JSON equality of a policy literal and a value: same type, numbers by exact value. */
  private static boolean same(Object literal, JsonNode value) {
    if (literal == null) {
      return value.isNull();
    }
    if (literal instanceof String) {
      return value.isString() && literal.equals(value.stringValue());
    }
    if (literal instanceof Boolean) {
      return value.isBoolean() && literal.equals(value.booleanValue());
    }
    if (literal instanceof BigDecimal) {
      BigDecimal v = value.isNumber() ? exact(value) : null;
      return v != null && v.compareTo((BigDecimal) literal) == 0;
    }
    List<?> list = (List<?>) literal;
    if (!value.isArray() || value.size() != list.size()) {
      return false;
    }
    for (int i = 0; i < list.size(); i++) {
      if (!same(list.get(i), value.get(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * A number node's exact value, {@code null} when not finite: integers and BigDecimals as they
   * are, a double as the shortest decimal that reads back as it (docs: {@code 0.1} is 0.1).
   */
  static BigDecimal exact(JsonNode n) {
    if (n.isDouble() || n.isFloat()) {
      double d = n.doubleValue();
      return Double.isFinite(d) ? shortest(d) : null;
    }
    if (n.isIntegralNumber()) {
      return new BigDecimal(n.bigIntegerValue());
    }
    return n.decimalValue();
  }

  /** The shortest decimal that reads back as the double, found by search. */
  static BigDecimal shortest(double d) {
    if (d == 0) {
      return BigDecimal.ZERO;
    }
    BigDecimal full = new BigDecimal(d);
    for (int p = 1; p <= 17; p++) {
      BigDecimal rounded = full.round(new MathContext(p, RoundingMode.HALF_EVEN));
      if (Double.parseDouble(rounded.toString()) == d) { // read back as a JSON parser reads it
        return rounded;
      }
    }
    return full;
  }

  /** RFC 6901 by hand: {@code ~1} is {@code /}, {@code ~0} is {@code ~}; indexes 0, [1-9][0-9]*. */
  private static JsonNode find(JsonNode node, List<String> segments) {
    for (String s : segments) {
      if (node == null) {
        return null;
      }
      node = child(node, s);
    }
    return node;
  }

  private static JsonNode child(JsonNode node, String segment) {
    String key = segment.replace("~1", "/").replace("~0", "~");
    if (node.isObject()) {
      return node.get(key);
    }
    if (node.isArray() && segment.matches("0|[1-9][0-9]{0,8}")) {
      int i = Integer.parseInt(segment);
      return i < node.size() ? node.get(i) : null;
    }
    return null;
  }
}
