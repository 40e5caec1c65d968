package dev.sentinel.mcp.transport;

import dev.sentinel.core.testing.Gen;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Random;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** JSON helpers and seeded generators for the transport tests. */
final class Json {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  static final JsonMapper MAPPER = JsonMapper.builder().build();

  private Json() {}

  static JsonNode parse(String text) {
    return MAPPER.readTree(text);
  }

  static String text(JsonNode node) {
    return MAPPER.writeValueAsString(node);
  }

  /** Strings over ASCII (control characters included), Latin, CJK, U+2028/9 and astral characters. */
  static String string(Random random) {
    return Gen.text(random, 30);
  }

  /** Any JSON value that Jackson reads back as the same tree. */
  static JsonNode value(Random random, int depth) {
    int kind = random.nextInt(depth == 0 ? 3 : 6);
    if (kind == 3) {
      ArrayNode array = NODES.arrayNode();
      for (int i = random.nextInt(5); i > 0; i--) {
        array.add(value(random, depth - 1));
      }
      return array;
    }
    if (kind >= 4) {
      ObjectNode object = NODES.objectNode();
      for (int i = random.nextInt(5); i > 0; i--) {
        object.set(string(random), value(random, depth - 1));
      }
      return object;
    }
    switch (random.nextInt(10)) {
      case 0: case 1: case 2: case 3:
        return NODES.stringNode(string(random));
      case 4: case 5:
        return NODES.numberNode(random.nextInt());
      case 6:
        return NODES.numberNode(random.nextBoolean()
            ? random.nextLong(Integer.MAX_VALUE + 1L, Long.MAX_VALUE)
            : random.nextLong(Long.MIN_VALUE, Integer.MIN_VALUE));
      case 7:
        // as the wire reads any number with a fraction or exponent: a decimal of any size (not
        // of scale 0, which is written as an integer)
        int scale = Gen.between(random, -400, 399);
        return NODES.numberNode(new BigDecimal(
            new BigInteger(Gen.between(random, 1, 200), random).subtract(BigInteger.TEN.pow(20)),
            scale >= 0 ? scale + 1 : scale));
      case 8:
        return NODES.booleanNode(random.nextBoolean());
      default:
        return NODES.nullNode();
    }
  }
}
