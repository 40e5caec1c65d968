package dev.sentinel.core.internal;

import java.io.OutputStream;
import java.math.BigDecimal;
import java.util.Objects;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.JsonParserDelegate;
import tools.jackson.core.util.JsonRecyclerPools;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads and writes protocol messages (what clients and backends send) so that every number is
 * forwarded as it was received: the one JSON configuration of the wire.
 *
 * <ul>
 *   <li>Integers are {@code int}, {@code long} or {@link java.math.BigInteger} nodes, as Jackson
 *       reads them: exact at any length the {@link StreamReadConstraints} allow, and written with
 *       the same digits (JSON gives an integer one spelling; only {@code -0} is written {@code
 *       0}).
 *   <li>Every other number is a {@link BigDecimal} node, never a {@code double}, so no digit is
 *       lost ({@code 12345678901234567.89}, {@code 0.1000000000000000000001}) and {@code 1e400}
 *       stays a number (a {@code double} would make it Infinity, written as the string {@code
 *       "Infinity"}). It is written with exactly the text it was read from: {@code 1.10},
 *       {@code 1e999999}, {@code -0.0} and {@code 1.5e1} leave as they came, never expanded
 *       ({@code 1e999999} in plain digits would be a million bytes), never stripped of a trailing
 *       zero or of the sign of a zero. The decimal is a plain {@code BigDecimal} when its {@link
 *       BigDecimal#toString} is already that text (as for {@code 123.45}), else one that keeps
 *       the text; either way everything that reads the value ({@link BigDecimal#compareTo},
 *       {@code stripTrailingZeros}, the policy, the audit's canonical form) sees an ordinary
 *       decimal of that value.
 *   <li>A number no decimal can hold (an exponent beyond ±2<sup>31</sup>) is refused as a
 *       {@link StreamReadException}, like malformed JSON.
 * </ul>
 *
 * <p>The parser accepts strict JSON only (no leading {@code +}, no {@code .5}, no {@code NaN}):
 * the text of a number is written back as it is, so it must never be laxer than JSON. Thread-safe
 * and immutable.
 */
public final class WireJson {
  private final JsonMapper mapper;

  /** A reader and writer that enforces the given limits on what it reads. */
  public WireJson(StreamReadConstraints constraints) {
    Objects.requireNonNull(constraints, "constraints");
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(constraints)
        // Each thread keeps its own buffers: the default pool, a concurrent deque shared by every
        // parser and generator, cost 7-8 µs per call at 16 sessions in http-bench's profile. The
        // gateways run on platform threads (a virtual thread would keep buffers per virtual
        // thread); what a thread keeps is bounded by Jackson's largest buffer segment.
        .recyclerPool(JsonRecyclerPools.threadLocalPool())
        // the default, pinned: a plain BigDecimal would expand 1e999999 into a million digits
        .disable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
        .build();
    this.mapper = JsonMapper.builder(factory)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(JsonNodeFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        // the default, pinned: a stripped decimal would lose the text it keeps
        .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
        .build();
  }

  /**
   * The JSON value in the bytes, or {@code null} when they hold none (empty or blank).
   *
   * @throws JacksonException for text that is not one JSON value, a number no decimal can hold,
   *     or a value over the limits ({@link tools.jackson.core.exc.StreamConstraintsException})
   */
  public JsonNode read(byte[] bytes, int offset, int length) {
    try (JsonParser parser = new ExactNumbers(mapper.createParser(bytes, offset, length))) {
      return mapper.readTree(parser);
    }
  }

  /** The compact JSON of a value. */
  public byte[] write(JsonNode value) {
    return mapper.writeValueAsBytes(value);
  }

  /** Writes the compact JSON of a value to the stream, which stays open. */
  public void write(OutputStream out, JsonNode value) {
    mapper.writeValue(out, value);
  }

  /**
   * Hands Jackson's tree reader, which takes a floating-point number's value from {@link
   * #getDecimalValue} when it reads them as decimals, a decimal that keeps its text.
   */
  private static final class ExactNumbers extends JsonParserDelegate {
    ExactNumbers(JsonParser parser) {
      super(parser);
    }

    @Override
    public BigDecimal getDecimalValue() {
      BigDecimal value;
      try {
        value = delegate.getDecimalValue();
      } catch (NumberFormatException e) {
        // a BigDecimal's scale is an int: 1e9999999999 has no exact form
        throw new StreamReadException(delegate, "a number's exponent is out of range", e);
      }
      if (currentToken() != JsonToken.VALUE_NUMBER_FLOAT) {
        return value;
      }
      char[] text = delegate.getStringCharacters();
      int start = delegate.getStringOffset();
      int length = delegate.getStringLength();
      // Most floats (123.45) are written by BigDecimal.toString exactly as received; keep the
      // text of the others: an exponent, a negative zero, or 0.0000001 (toString: 1E-7).
      return writtenAsReceived(value, text, start, length)
          ? value
          : new ReceivedDecimal(value, new String(text, start, length));
    }

    /** Whether {@code value.toString()} is the text: plain notation that toString keeps plain. */
    private static boolean writtenAsReceived(BigDecimal value, char[] text, int start, int length) {
      for (int i = start; i < start + length; i++) {
        if (text[i] == 'e' || text[i] == 'E') {
          return false;
        }
      }
      if (value.signum() == 0 && text[start] == '-') {
        return false; // a decimal zero has no sign
      }
      // toString uses plain notation when the leading digit's exponent is at least -6
      return (long) value.precision() - value.scale() - 1 >= -6;
    }
  }

  /**
   * A decimal whose {@link #toString} is the JSON text it was read from, which is how Jackson
   * writes it ({@link StreamWriteFeature#WRITE_BIGDECIMAL_AS_PLAIN} off). Equal, comparable and
   * hashed by value and scale like any {@code BigDecimal}; arithmetic on it answers plain ones.
   * The text is a JSON number (the parser is strict), so it is also a valid Java decimal literal
   * of the same value, which {@code BigDecimal.doubleValue} may parse.
   */
  private static final class ReceivedDecimal extends BigDecimal {
    private static final long serialVersionUID = 1L;

    private final String text;

    ReceivedDecimal(BigDecimal value, String text) {
      super(value.unscaledValue(), value.scale());
      this.text = text;
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
