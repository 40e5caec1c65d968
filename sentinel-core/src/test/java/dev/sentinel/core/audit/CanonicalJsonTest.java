package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import dev.sentinel.core.testing.Gen;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

class CanonicalJsonTest {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static String canonical(JsonNode node) {
    return new String(CanonicalJson.bytes(node), StandardCharsets.UTF_8);
  }

  @Test
  void bytes_sortsKeysAndDropsWhitespace() {
    JsonNode node = MAPPER.readTree("{ \"b\" : [ 1 , {\"z\":1, \"a\":2} ], \"a\" : \"x\", \"B\": null }");

    assertThat(canonical(node)).isEqualTo("{\"B\":null,\"a\":\"x\",\"b\":[1,{\"a\":2,\"z\":1}]}");
  }

  @Test
  void bytes_sortsKeysByUtf16CodeUnits() {
    ObjectNode node = NODES.objectNode();
    node.put("\uFF61", 1); // BMP, above the surrogates
    node.put("😀", 2); // surrogate pair: sorts before U+FF61 by code units
    node.put("é", 3);

    assertThat(canonical(node)).isEqualTo("{\"é\":3,\"😀\":2,\"\uFF61\":1}");
  }

  @Test
  void bytes_escapesOnlyQuoteBackslashAndControls() {
    JsonNode node = NODES.stringNode("a\"b\\c\n\t\u0001/é€😀\u2028");

    assertThat(canonical(node)).isEqualTo("\"a\\\"b\\\\c\\n\\t\\u0001/é€😀\u2028\"");
  }

  @Test
  void bytes_escapesUnpairedSurrogates() {
    assertThat(canonical(NODES.stringNode("x\uD800y"))).isEqualTo("\"x\\ud800y\"");
    assertThat(canonical(NODES.stringNode("\uDC00"))).isEqualTo("\"\\udc00\"");
  }

  @Test
  void bytes_numbersComparedByValue() {
    assertThat(canonical(NODES.numberNode(1))).isEqualTo("1");
    assertThat(canonical(NODES.numberNode(1L))).isEqualTo("1");
    assertThat(canonical(NODES.numberNode(1.0))).isEqualTo("1");
    assertThat(canonical(NODES.numberNode(new BigDecimal("1.000")))).isEqualTo("1");
    assertThat(canonical(NODES.numberNode(new BigDecimal("1E+3")))).isEqualTo("1000");
    assertThat(canonical(NODES.numberNode(-0.0))).isEqualTo("0");
    assertThat(canonical(NODES.numberNode(0.5f))).isEqualTo("0.5");
    assertThat(canonical(NODES.numberNode(0.1f))).isEqualTo("0.1");
    assertThat(canonical(NODES.numberNode(1.5e300))).isEqualTo("1.5e300");
    assertThat(canonical(NODES.numberNode(1e-10))).isEqualTo("1e-10");
    assertThat(canonical(NODES.numberNode(0.0000001))).isEqualTo("0.0000001");
    assertThat(canonical(NODES.numberNode(new BigDecimal("-12345.6789e30"))))
        .isEqualTo("-1.23456789e34");
    assertThat(canonical(NODES.numberNode(new BigInteger("123456789012345678901234567890"))))
        .isEqualTo("1.2345678901234567890123456789e29");
    assertThat(canonical(NODES.numberNode(Long.MIN_VALUE))).isEqualTo(Long.toString(Long.MIN_VALUE));
    assertThat(canonical(NODES.numberNode(2.82879384806159E17))).isEqualTo("282879384806159000");
    assertThat(canonical(MAPPER.readTree("[1.0, 1, 10e-1]"))).isEqualTo("[1,1,1]");
  }

  @Test
  void bytes_nonFiniteDoublesAsStrings() {
    assertThat(canonical(NODES.numberNode(Double.NaN))).isEqualTo("\"NaN\"");
    assertThat(canonical(NODES.numberNode(Double.NEGATIVE_INFINITY))).isEqualTo("\"-Infinity\"");
  }

  @Test
  void sha256_knownVectors() {
    assertThat(CanonicalJson.sha256("abc".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(CanonicalJson.sha256(NODES.objectNode()))
        .isEqualTo(CanonicalJson.sha256("{}".getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void sha256_largeValueStreamsThroughDigest() {
    ObjectNode big = NODES.objectNode();
    for (int i = 0; i < 2000; i++) {
      big.put("k" + i, "v".repeat(i % 50));
    }

    assertThat(CanonicalJson.sha256(big)).isEqualTo(CanonicalJson.sha256(CanonicalJson.bytes(big)));
    assertThat(CanonicalJson.digest(big).size()).isEqualTo(CanonicalJson.bytes(big).length);
    assertThat(CanonicalJson.size(big)).isEqualTo(CanonicalJson.bytes(big).length);
  }

  static LongStream seeds() {
    return Gen.seeds(500);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void bytes_independentOfKeyInsertionOrder(long seed) {
    Random random = new Random(seed);
    JsonNode node = JsonGenerators.json(random);
    JsonNode reordered = JsonGenerators.shuffled(node, random);

    assertThat(CanonicalJson.bytes(reordered)).isEqualTo(CanonicalJson.bytes(node));
    assertThat(CanonicalJson.sha256(reordered)).isEqualTo(CanonicalJson.sha256(node));
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void bytes_areJsonThatParsesToAnEqualValue(long seed) {
    JsonNode node = JsonGenerators.json(new Random(seed));
    byte[] bytes = CanonicalJson.bytes(node);

    JsonNode parsed = MAPPER.readTree(bytes);

    assertThat(CanonicalJson.bytes(parsed)).isEqualTo(bytes);
    assertThat(CanonicalJson.size(node)).isEqualTo(bytes.length);
  }
}
