package dev.sentinel.policy.cel;

import com.google.common.primitives.UnsignedLong;
import dev.cel.common.values.NullValue;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * The arguments' JSON tree as CEL values, read lazily: an object is a {@code Map<String, Object>}
 * view and an array a {@code List<Object>} view whose members are converted when CEL reads them,
 * so that an expression costs what it reads, not the size of the arguments.
 *
 * <p>Every read is charged to a {@link Budget}: one unit per value, plus one per 16 characters of
 * a string (string functions scan what they read). Past the budget a read throws, which CEL
 * turns into an evaluation error, and the condition is undecided.
 *
 * <p>Numbers are converted by value and exactly: a whole number to a {@code long} (CEL
 * {@code int}) or, from 2^63 to 2^64, an {@link UnsignedLong} (CEL {@code uint}); any other
 * finite number to the {@code double} whose shortest decimal form equals it (a double node's own
 * value is its shortest decimal form, as in typed conditions: {@code 0.1} is 0.1). A number that
 * none of these holds exactly (a decimal with more digits than a double, a whole number beyond
 * 64 bits that no double equals, an infinity) throws when read. Not thread-safe: the views
 * belong to one evaluation.
 */
final class JsonValues {
  /** Whole numbers from here on are at least 2^64: no CEL integer holds them. */
  private static final int MAX_WHOLE_DIGITS = 20;
  /** Whole doubles up to 2^53 are exactly their own shortest decimal form. */
  private static final double MAX_SAFE_WHOLE = 9007199254740992.0;

  private JsonValues() {}

  /** The value CEL sees for the arguments (an object, normally). */
  static Object root(JsonNode arguments, Budget budget) {
    return convert(arguments, budget, null, null);
  }

  /** The spending of one evaluation. */
  static final class Budget {
    private long remaining;

    Budget(long units) {
      this.remaining = units;
    }

    void charge(long units) {
      remaining -= units;
      if (remaining < 0) {
        throw new LimitExceeded("the expression read more of the arguments than its budget of "
            + CelConditionLanguage.READ_BUDGET + " units allows");
      }
    }
  }

  /** A read past the budget. No stack trace: it is an answer, not a fault. */
  static final class LimitExceeded extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LimitExceeded(String message) {
      super(message, null, false, false);
    }
  }

  /** A number CEL cannot hold exactly. No stack trace, and the value is not in the message. */
  static final class Unrepresentable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unrepresentable(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Converts one node that was read; {@code parent} and {@code key} (a String or an Integer)
   * say where it is, for messages; both are null for the root.
   */
  static Object convert(JsonNode node, Budget budget, @Nullable Container parent,
      @Nullable Object key) {
    switch (node.getNodeType()) {
      case STRING: {
        String text = node.stringValue();
        budget.charge(1 + text.length() / 16);
        return text;
      }
      case NUMBER:
        budget.charge(1);
        return number(node, parent, key);
      case BOOLEAN:
        budget.charge(1);
        return node.booleanValue();
      case NULL:
        budget.charge(1);
        return NullValue.NULL_VALUE;
      case OBJECT:
        budget.charge(1);
        return new ObjectView(node, budget, parent, key);
      case ARRAY:
        budget.charge(1);
        return new ArrayView(node, budget, parent, key);
      default:
        throw new Unrepresentable("the value at " + path(parent, key) + " is not JSON ("
            + node.getNodeType() + ")");
    }
  }

  /**
   * A JSON number as a CEL int, uint or double, exactly; see the class documentation. A double
   * node's value is its shortest decimal form ({@code 0.1} is 0.1), as in typed conditions, and
   * so is a float node's.
   */
  static Object number(JsonNode node, @Nullable Container parent, @Nullable Object key) {
    if (node.isInt() || node.isLong() || node.isShort()) {
      return node.longValue();
    }
    Object value = null;
    if (node.isDouble()) {
      double d = node.doubleValue();
      if (Double.isFinite(d)) {
        value = d == Math.rint(d) && Math.abs(d) <= MAX_SAFE_WHOLE ? (Object) (long) d
            : exact(shortest(d));
      }
    } else if (node.isFloat()) {
      float f = node.floatValue();
      if (Float.isFinite(f)) {
        value = exact(shortest(f));
      }
    } else if (node.isBigInteger()) {
      value = exact(new BigDecimal(node.bigIntegerValue()));
    } else if (node.isBigDecimal()) {
      value = exact(node.decimalValue());
    }
    if (value == null) {
      throw new Unrepresentable("the number at " + path(parent, key) + " cannot be represented "
          + "exactly in CEL (it is not a 64-bit integer, and no double equals it)");
    }
    return value;
  }

  /**
   * A decimal as a long, an unsigned long (whole numbers), or the double whose shortest decimal
   * form it is; {@code null} if none of them equals it.
   */
  static @Nullable Object exact(BigDecimal value) {
    BigDecimal stripped = value.stripTrailingZeros();
    // The digit count guards toBigIntegerExact against 1E+999999999.
    if (stripped.scale() <= 0 && stripped.precision() - stripped.scale() <= MAX_WHOLE_DIGITS) {
      BigInteger whole = stripped.toBigIntegerExact();
      if (whole.bitLength() < 64) {
        return whole.longValue();
      }
      if (whole.signum() > 0 && whole.bitLength() == 64) {
        return UnsignedLong.valueOf(whole);
      }
    }
    if (stripped.precision() > 17) {
      return null; // no double's shortest form has more than 17 digits
    }
    double d = stripped.doubleValue();
    return Double.isFinite(d) && shortest(d).compareTo(stripped) == 0 ? d : null;
  }

  /**
   * The shortest decimal that reads back as {@code d}, the nearest to it among those, ties to an
   * even last digit: what {@code Double.toString} gives from Java 19 on (before, it sometimes
   * gives more digits, such as {@code 1.9999999999999998E23} for {@code 2e23}).
   */
  static BigDecimal shortest(double d) {
    if (d == 0) {
      return BigDecimal.ZERO;
    }
    BigDecimal binary = new BigDecimal(d);
    for (int digits = 1; digits < 17; digits++) {
      BigDecimal rounded = binary.round(new MathContext(digits, RoundingMode.HALF_EVEN));
      if (rounded.doubleValue() == d) {
        return rounded;
      }
    }
    return binary.round(new MathContext(17, RoundingMode.HALF_EVEN));
  }

  /** As {@link #shortest(double)}, for a float. */
  static BigDecimal shortest(float f) {
    if (f == 0) {
      return BigDecimal.ZERO;
    }
    BigDecimal binary = new BigDecimal(f);
    for (int digits = 1; digits < 9; digits++) {
      BigDecimal rounded = binary.round(new MathContext(digits, RoundingMode.HALF_EVEN));
      if (rounded.floatValue() == f) {
        return rounded;
      }
    }
    return binary.round(new MathContext(9, RoundingMode.HALF_EVEN));
  }

  /** The JSON Pointer of a value, for messages. */
  static String path(@Nullable Container parent, @Nullable Object key) {
    if (parent == null) {
      return key == null ? "the arguments" : "/" + escape(key.toString());
    }
    String above = parent.pointer();
    // Only the root has no key, and only the root has no parent.
    Objects.requireNonNull(key, "a value inside the arguments has a key");
    return (above.equals("the arguments") ? "" : above) + "/" + escape(key.toString());
  }

  private static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }

  /** A view that knows where it is. */
  interface Container {
    /** Its JSON Pointer, or {@code the arguments} for the root. */
    String pointer();
  }

  /** A JSON object as a CEL map. */
  static final class ObjectView extends AbstractMap<String, Object> implements Container {
    private final JsonNode node;
    private final Budget budget;
    private final @Nullable Container parent;
    private final @Nullable Object key;

    ObjectView(JsonNode node, Budget budget, @Nullable Container parent,
        @Nullable Object key) {
      this.node = node;
      this.budget = budget;
      this.parent = parent;
      this.key = key;
    }

    @Override
    public String pointer() {
      return path(parent, key);
    }

    @Override
    public @Nullable Object get(Object name) {
      if (!(name instanceof String)) {
        return null;
      }
      JsonNode child = node.get((String) name);
      return child == null ? null : convert(child, budget, this, name);
    }

    @Override
    public boolean containsKey(Object name) {
      budget.charge(1);
      return name instanceof String && node.has((String) name);
    }

    @Override
    public int size() {
      return node.size();
    }

    @Override
    public Set<Map.Entry<String, Object>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public Iterator<Map.Entry<String, Object>> iterator() {
          Iterator<Map.Entry<String, JsonNode>> properties = node.properties().iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return properties.hasNext();
            }

            @Override
            public Map.Entry<String, Object> next() {
              Map.Entry<String, JsonNode> property = properties.next();
              String name = property.getKey();
              return new SimpleImmutableEntry<>(name,
                  convert(property.getValue(), budget, ObjectView.this, name));
            }
          };
        }

        @Override
        public int size() {
          return node.size();
        }
      };
    }
  }

  /** A JSON array as a CEL list. */
  static final class ArrayView extends AbstractList<Object> implements RandomAccess, Container {
    private final JsonNode node;
    private final Budget budget;
    private final @Nullable Container parent;
    private final @Nullable Object key;

    ArrayView(JsonNode node, Budget budget, @Nullable Container parent,
        @Nullable Object key) {
      this.node = node;
      this.budget = budget;
      this.parent = parent;
      this.key = key;
    }

    @Override
    public String pointer() {
      return path(parent, key);
    }

    @Override
    public Object get(int index) {
      JsonNode child = node.get(index);
      if (child == null) {
        throw new IndexOutOfBoundsException("index " + index + " of " + node.size());
      }
      return convert(child, budget, this, index);
    }

    @Override
    public int size() {
      return node.size();
    }
  }
}
