package dev.sentinel.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.testing.Gen;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
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
   * {@code 1e400} is read as a double, Infinity, and forwarded as the string "Infinity"; digits
   * beyond a double's precision are dropped the same way. DESIGN.md: numbers are forwarded as
   * received. Reading floats as BigDecimal would fix it, but changes the number nodes the
   * policy's typed conditions see, so it is left to that work.
   */
  @Disabled("known issue: numbers beyond a double are not forwarded as received (reported)")
  @Test
  void frame_numberBeyondDoubleRange_staysANumber() {
    byte[] bytes = "{\"n\":1e400,\"x\":0.10000000000000000000001}".getBytes(StandardCharsets.UTF_8);

    String framed = new String(framing.frame(framing.parse(bytes, 0, bytes.length)), StandardCharsets.UTF_8);

    assertThat(framed).doesNotContain("Infinity").contains("0.10000000000000000000001");
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
