package dev.sentinel.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.testing.Gen;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

class JsonFramingTest {
  private final JsonFraming framing = new JsonFraming(FrameLimits.defaults());

  static LongStream seeds() {
    return Gen.seeds(500);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void frame_anyJsonValue_roundTripsAsOneLine(long seed) {
    JsonNode value = Json.value(new Random(seed), 4);
    byte[] frame = framing.frame(value);

    assertThat(frame[frame.length - 1]).isEqualTo((byte) '\n');
    for (int i = 0; i < frame.length - 1; i++) {
      assertThat(frame[i]).as("no newline inside a frame").isNotEqualTo((byte) '\n');
    }
    assertThat(framing.parse(frame, 0, frame.length - 1)).isEqualTo(value);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void frame_anyJsonValue_isReadBackThroughTheLineReader(long seed) throws Exception {
    JsonNode value = Json.value(new Random(seed), 4);
    byte[] frame = framing.frame(value);
    byte[] twice = new byte[frame.length * 2];
    System.arraycopy(frame, 0, twice, 0, frame.length);
    System.arraycopy(frame, 0, twice, frame.length, frame.length);
    LineReader lines = new LineReader(new java.io.ByteArrayInputStream(twice), 1 << 20);

    for (int i = 0; i < 2; i++) {
      assertThat(lines.next()).isEqualTo(LineReader.Kind.LINE);
      assertThat(framing.parse(lines.bytes(), 0, lines.length())).isEqualTo(value);
    }
    assertThat(lines.next()).isEqualTo(LineReader.Kind.END);
  }

  /**
   * Found by JsonRpcFramingFuzzTest (input {@code big-number} in its corpus). A client's
   * {@code 1e400} was read as a double, Infinity, and forwarded as the string "Infinity"; digits
   * beyond a double's precision were dropped the same way. DESIGN.md: numbers are forwarded as
   * received.
   */
  @Test
  void frame_numberBeyondDoubleRange_staysANumber() {
    byte[] bytes = "{\"n\":1e400,\"x\":0.10000000000000000000001}".getBytes(StandardCharsets.UTF_8);

    String framed = new String(framing.frame(framing.parse(bytes, 0, bytes.length)), StandardCharsets.UTF_8);

    assertThat(framed).doesNotContain("Infinity").contains("0.10000000000000000000001");
  }

  /** Numbers a double would change, each forwarded byte for byte, and read as its exact value. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "12345678901234567.89", "0.1000000000000000000001", "1e999999", "-0.0", "1.10",
      "123456789012345678901234567890", "-123456789012345678901234567890", "1E+2", "1.5e1",
      "1e0", "100e-2", "-0.000e-5", "9007199254740993", "0.30000000000000000000", "1e-999999",
      "9223372036854775808", "-9223372036854775809", "4.9e-325", "1.7976931348623159e308",
      "0.0000001", "0.000000", "0.0000000", "-0.5", "123.4500", "1E-7"})
  void frame_number_isForwardedAsReceived(String number) {
    byte[] bytes = ("{\"n\":" + number + "}").getBytes(StandardCharsets.UTF_8);

    JsonNode parsed = framing.parse(bytes, 0, bytes.length);
    byte[] frame = framing.frame(parsed);

    assertThat(new String(frame, StandardCharsets.UTF_8)).isEqualTo("{\"n\":" + number + "}\n");
    assertThat(parsed.get("n").isNumber()).isTrue();
    assertThat(parsed.get("n").decimalValue()).isEqualByComparingTo(new BigDecimal(number));
  }

  /** What a float keeps: its text; what it holds: an ordinary decimal of its value. */
  @Test
  void parse_float_isADecimalWithTheValueAndScaleReceived() {
    byte[] bytes = "[1.10,1e999999,-0.0,1.5e1,7]".getBytes(StandardCharsets.UTF_8);

    JsonNode parsed = framing.parse(bytes, 0, bytes.length);

    assertThat(parsed.get(0).isBigDecimal()).isTrue();
    assertThat(parsed.get(0).decimalValue()).isEqualTo(new BigDecimal("1.10"));
    assertThat(parsed.get(0).decimalValue().scale()).isEqualTo(2);
    assertThat(parsed.get(1).decimalValue().stripTrailingZeros().toString()).isEqualTo("1E+999999");
    assertThat(parsed.get(2).decimalValue().signum()).isZero();
    assertThat(parsed.get(3).decimalValue().add(BigDecimal.ONE)).isEqualTo(new BigDecimal("16"));
    assertThat(parsed.get(4).isInt()).isTrue();
    assertThat(parsed.get(3)).isEqualTo(Json.NODES.numberNode(new BigDecimal("15")));
  }

  /** An amplification attack: a few bytes that would expand into a million digits. */
  @Test
  void frame_hugeExponent_staysAsSmallAsReceived() {
    byte[] bytes = "{\"a\":1e999999,\"b\":-1E-999999,\"c\":123.456e999999}".getBytes(StandardCharsets.UTF_8);

    byte[] frame = framing.frame(framing.parse(bytes, 0, bytes.length));

    assertThat(frame).hasSize(bytes.length + 1);
    assertThat(framing.bytes(framing.parse(bytes, 0, bytes.length))).isEqualTo(bytes);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"1e9999999999", "-1E-9999999999", "1e99999999999999999999"})
  void parse_numberNoDecimalCanHold_isParseError(String number) {
    byte[] bytes = ("{\"n\":" + number + "}").getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> framing.parse(bytes, 0, bytes.length))
        .isInstanceOfSatisfying(FrameException.class, e -> {
          assertThat(e.code()).isEqualTo(-32700);
          assertThat(e.getMessage()).isEqualTo("Parse error: a number's exponent is out of range");
        });
  }

  @Test
  void frame_isCompact() {
    JsonNode message = Json.parse("{ \"a\" : [ 1 , 2 ], \"b\" : { } }");

    assertThat(new String(framing.frame(message), StandardCharsets.UTF_8))
        .isEqualTo("{\"a\":[1,2],\"b\":{}}\n");
  }

  @Test
  void parse_malformed_isParseError() {
    byte[] bytes = "{\"jsonrpc\":".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> framing.parse(bytes, 0, bytes.length))
        .isInstanceOfSatisfying(FrameException.class, e -> {
          assertThat(e.code()).isEqualTo(-32700);
          assertThat(e.getMessage()).startsWith("Parse error: ");
        });
  }

  @Test
  void parse_trailingTokens_isParseError() {
    byte[] bytes = "{} {}".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> framing.parse(bytes, 0, bytes.length))
        .isInstanceOfSatisfying(FrameException.class, e -> assertThat(e.code()).isEqualTo(-32700));
  }

  @Test
  void parse_invalidUtf8_isParseError() {
    byte[] bytes = {'"', (byte) 0xC3, (byte) 0x28, '"'};

    assertThatThrownBy(() -> framing.parse(bytes, 0, bytes.length))
        .isInstanceOfSatisfying(FrameException.class, e -> assertThat(e.code()).isEqualTo(-32700));
  }

  @Test
  void parse_atDepthLimit_isAccepted_andOneDeeper_isInvalidRequest() {
    JsonFraming shallow = new JsonFraming(new FrameLimits(1 << 20, 8));
    byte[] ok = ("[".repeat(8) + "]".repeat(8)).getBytes(StandardCharsets.UTF_8);
    byte[] deep = ("[".repeat(9) + "]".repeat(9)).getBytes(StandardCharsets.UTF_8);

    assertThat(shallow.parse(ok, 0, ok.length).isArray()).isTrue();
    assertThatThrownBy(() -> shallow.parse(deep, 0, deep.length))
        .isInstanceOfSatisfying(FrameException.class, e -> {
          assertThat(e.code()).isEqualTo(-32600);
          assertThat(e.getMessage()).isEqualTo("message nesting exceeds depth 8");
        });
  }

  @Test
  void parse_stringOverLimit_isInvalidRequest() {
    JsonFraming small = new JsonFraming(new FrameLimits(100, 8));
    byte[] big = ("\"" + "x".repeat(200) + "\"").getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> small.parse(big, 0, big.length))
        .isInstanceOfSatisfying(FrameException.class, e -> {
          assertThat(e.code()).isEqualTo(-32600);
          assertThat(e.getMessage()).isEqualTo("message exceeds 100 bytes");
        });
  }

  @Test
  void parseMessage_scalar_isInvalidRequest() {
    byte[] bytes = "42".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> framing.parseMessage(bytes, 0, bytes.length))
        .isInstanceOfSatisfying(FrameException.class, e -> assertThat(e.code()).isEqualTo(-32600));
  }

  @Test
  void limits_mustBePositive() {
    assertThatThrownBy(() -> new FrameLimits(0, 1))
        .hasMessage("maxMessageBytes must be positive, was 0");
    assertThatThrownBy(() -> new FrameLimits(1, -1)).hasMessage("maxDepth must be positive, was -1");
    assertThat(FrameLimits.defaults()).isEqualTo(new FrameLimits(4 * 1024 * 1024, 64));
  }
}
