package dev.sentinel.policy.cel;

import com.google.common.primitives.UnsignedLong;
import dev.cel.common.values.NullValue;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.RandomAccess;
import java.util.Set;
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
 * {@code int}) or, above its range, an {@link UnsignedLong} (CEL {@code uint}); any other finite
 * number to the {@code double} equal to it. A number that none of these holds exactly (a decimal
 * with more digits than a double, a whole number beyond 64 bits that no double equals, an
 * infinity) throws when read. Not thread-safe: the views belong to one evaluation.
 */
final class JsonValues {
  /** Whole numbers from here on are at least 2^64: no CEL integer holds them. */
  private static final int MAX_WHOLE_DIGITS = 20;

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
   * say where it is, for messages.
   */
  static Object convert(JsonNode node, Budget budget, Container parent, Object key) {
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

  /** A JSON number as a CEL int, uint or double, exactly; see the class documentation. */
  static Object number(JsonNode node, Container parent, Object key) {
    if (node.isInt() || node.isLong() || node.isShort()) {
      return node.longValue();
    }
    if (node.isBigInteger()) {
      Object value = whole(node.bigIntegerValue());
      if (value != null) {
        return value;
      }
    } else if (node.isDouble() || node.isFloat()) {
      // A float's value is the decimal it was written as, as far as a float can tell.
      double d = node.isFloat() ? Double.parseDouble(Float.toString(node.floatValue()))
          : node.doubleValue();
      if (Double.isFinite(d)) {
        if (d == Math.rint(d) && Math.abs(d) < 1.9e19) {
          Object value = whole(new BigDecimal(d).toBigIntegerExact());
          return value != null ? value : d;
        }
        return d;
      }
    } else if (node.isBigDecimal()) {
      BigDecimal decimal = node.decimalValue();
      BigDecimal stripped = decimal.stripTrailingZeros();
      if (stripped.scale() <= 0 && stripped.precision() - stripped.scale() <= MAX_WHOLE_DIGITS) {
        Object value = whole(stripped.toBigIntegerExact());
        if (value != null) {
          return value;
        }
      }
      double d = decimal.doubleValue();
      if (Double.isFinite(d) && new BigDecimal(Double.toString(d)).compareTo(decimal) == 0) {
        return d;
      }
    }
    throw new Unrepresentable("the number at " + path(parent, key) + " cannot be represented "
        + "exactly in CEL (it is not a 64-bit integer, and no double equals it)");
  }

  /** A whole number as a long, an unsigned long, an exactly equal double, or {@code null}. */
  private static Object whole(BigInteger value) {
    if (value.bitLength() < 64) {
      return value.longValue();
    }
    if (value.signum() > 0 && value.bitLength() == 64) {
      return UnsignedLong.valueOf(value);
    }
    double d = value.doubleValue();
    if (Double.isFinite(d) && new BigDecimal(d).compareTo(new BigDecimal(value)) == 0) {
      return d;
    }
    return null;
  }

  /** The JSON Pointer of a value, for messages. */
  static String path(Container parent, Object key) {
    if (parent == null) {
      return key == null ? "the arguments" : "/" + escape(key.toString());
    }
    String above = parent.pointer();
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
    private final Container parent;
    private final Object key;

    ObjectView(JsonNode node, Budget budget, Container parent, Object key) {
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
    public Object get(Object name) {
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
    private final Container parent;
    private final Object key;

    ArrayView(JsonNode node, Budget budget, Container parent, Object key) {
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
