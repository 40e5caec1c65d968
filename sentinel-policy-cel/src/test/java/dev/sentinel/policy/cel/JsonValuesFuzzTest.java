package dev.sentinel.policy.cel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.common.primitives.UnsignedLong;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/** Fuzz target for JSON numbers as CEL numbers ({@code benchmarks/fuzz JsonValuesFuzzTest}). */
class JsonValuesFuzzTest {
  private static final BigDecimal MIN_LONG = BigDecimal.valueOf(Long.MIN_VALUE);
  private static final BigDecimal TWO_POW_64 = new BigDecimal(BigInteger.ONE.shiftLeft(64));

  /**
   * For any decimal text, read as each kind of number node a JSON parser makes (BigDecimal,
   * BigInteger when whole, double, float): the CEL value is a long exactly when the number is
   * whole and fits one, an unsigned long exactly when it is whole in [2^63, 2^64), otherwise the
   * double whose shortest decimal form equals it, and refused when there is none; every value
   * equals the node's number exactly.
   */
  @FuzzTest
  void number_anyDecimal_isExactOrRefused(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    BigDecimal parsed;
    try {
      parsed = new BigDecimal(text.strip());
    } catch (NumberFormatException | ArithmeticException e) {
      return;
    }
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    List<JsonNode> kinds = new ArrayList<>();
    kinds.add(nodes.numberNode(parsed));
    BigDecimal stripped = parsed.stripTrailingZeros();
    if (stripped.scale() <= 0 && stripped.precision() - stripped.scale() < 400) {
      kinds.add(nodes.numberNode(stripped.toBigIntegerExact()));
    }
    kinds.add(nodes.numberNode(parsed.doubleValue()));
    for (JsonNode node : kinds) {
      check(node, valueOf(node));
    }
    // A float: whatever it becomes reads back as the same float.
    float f = parsed.floatValue();
    Object[] out = new Object[1];
    Throwable thrown = catchThrowable(() -> out[0] = JsonValues.number(nodes.numberNode(f), null,
        "n"));
    if (!Float.isFinite(f)) {
      assertThat(thrown).isInstanceOf(JsonValues.Unrepresentable.class);
    } else {
      assertThat(thrown).as("float %s", f).isNull();
      assertThat(new BigDecimal(out[0].toString()).floatValue()).isEqualTo(f);
    }
  }

  /** The number a node holds (a double by its shortest decimal form), or null if infinite. */
  private static BigDecimal valueOf(JsonNode node) {
    if (node.isDouble()) {
      return Double.isFinite(node.doubleValue()) ? shortestByDefinition(node.doubleValue()) : null;
    }
    return node.isBigInteger() ? new BigDecimal(node.bigIntegerValue()) : node.decimalValue();
  }

  /**
   * The decimal with the fewest significant digits that reads back as {@code d}, nearest to it
   * among those (ties to an even last digit, as Java 19+ prints): by search.
   */
  private static BigDecimal shortestByDefinition(double d) {
    if (d == 0) {
      return BigDecimal.ZERO;
    }
    BigDecimal binary = new BigDecimal(d);
    for (int digits = 1; ; digits++) {
      BigDecimal candidate = binary.round(new java.math.MathContext(digits,
          java.math.RoundingMode.HALF_EVEN));
      if (Double.parseDouble(candidate.toString()) == d) {
        return candidate;
      }
    }
  }

  private static void check(JsonNode node, BigDecimal value) {
    Object[] out = new Object[1];
    Throwable thrown = catchThrowable(() -> out[0] = JsonValues.number(node, null, "n"));
    if (value == null) {
      assertThat(thrown).as("%s", node).isInstanceOf(JsonValues.Unrepresentable.class);
      return;
    }
    BigDecimal stripped = value.stripTrailingZeros();
    boolean whole = stripped.scale() <= 0;
    boolean fitsLong = whole && value.compareTo(MIN_LONG) >= 0
        && value.compareTo(MIN_LONG.negate()) < 0;
    boolean fitsUnsigned = whole && !fitsLong && value.signum() > 0
        && value.compareTo(TWO_POW_64) < 0;
    if (fitsLong) {
      assertThat(out[0]).as("%s", node).isInstanceOf(Long.class);
      assertThat(BigDecimal.valueOf((Long) out[0])).isEqualByComparingTo(value);
    } else if (fitsUnsigned) {
      assertThat(out[0]).as("%s", node).isInstanceOf(UnsignedLong.class);
      assertThat(new BigDecimal(((UnsignedLong) out[0]).bigIntegerValue()))
          .isEqualByComparingTo(value);
    } else if (thrown == null) {
      assertThat(out[0]).as("%s", node).isInstanceOf(Double.class);
      assertThat(shortestByDefinition((Double) out[0])).isEqualByComparingTo(value);
    } else {
      assertThat(thrown).as("%s", node).isInstanceOf(JsonValues.Unrepresentable.class);
      double d = value.doubleValue();
      assertThat(Double.isFinite(d) && shortestByDefinition(d).compareTo(value) == 0)
          .as("a double stands for %s, yet it was refused", value).isFalse();
    }
  }
}
