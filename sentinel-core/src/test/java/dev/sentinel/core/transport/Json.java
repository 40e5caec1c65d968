package dev.sentinel.core.transport;

import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** JSON helpers and generators for the transport tests. */
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

  /** Strings over ASCII (control characters included), Latin, CJK, and astral characters. */
  static Arbitrary<String> strings() {
    Arbitrary<String> bmp =
        Arbitraries.strings()
            .withCharRange('\u0000', '\u007f')
            .withCharRange('\u00a0', '\u024f')
            .withCharRange('\u2028', '\u2029')
            .withCharRange('\u4e00', '\u4e20')
            .ofMaxLength(30);
    Arbitrary<String> astral = Arbitraries.of("\uD83D\uDE00", "\uD834\uDD1E", "");
    return net.jqwik.api.Combinators.combine(bmp, astral, bmp).as((a, b, c) -> a + b + c);
  }

  /** Any JSON value that Jackson reads back as the same tree. */
  static Arbitrary<JsonNode> values(int depth) {
    Arbitrary<JsonNode> leaf =
        Arbitraries.frequencyOf(
            Tuple.of(4, strings().map(s -> (JsonNode) NODES.stringNode(s))),
            Tuple.of(2, Arbitraries.integers().map(i -> (JsonNode) NODES.numberNode(i))),
            Tuple.of(1, Arbitraries.longs()
                .filter(l -> l > Integer.MAX_VALUE || l < Integer.MIN_VALUE)
                .map(l -> (JsonNode) NODES.numberNode(l))),
            Tuple.of(1, Arbitraries.doubles().between(-1e12, 1e12)
                .map(d -> (JsonNode) NODES.numberNode(d))),
            Tuple.of(1, Arbitraries.of(true, false).map(b -> (JsonNode) NODES.booleanNode(b))),
            Tuple.of(1, Arbitraries.just((JsonNode) NODES.nullNode())));
    if (depth == 0) {
      return leaf;
    }
    Arbitrary<JsonNode> child = Arbitraries.lazy(() -> values(depth - 1));
    Arbitrary<JsonNode> array = child.list().ofMaxSize(4).map(list -> {
      ArrayNode a = NODES.arrayNode();
      list.forEach(a::add);
      return (JsonNode) a;
    });
    Arbitrary<JsonNode> object = Arbitraries.maps(strings(), child).ofMaxSize(4).map(map -> {
      ObjectNode o = NODES.objectNode();
      for (Map.Entry<String, JsonNode> e : map.entrySet()) {
        o.set(e.getKey(), e.getValue());
      }
      return (JsonNode) o;
    });
    return Arbitraries.frequencyOf(Tuple.of(3, leaf), Tuple.of(1, array), Tuple.of(2, object));
  }
}
