package dev.sentinel.mcp.engine;

import static dev.sentinel.mcp.engine.SchemaValidationTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** Compiling and checking one input schema: dialects, numbers, the bounds. */
class ToolSchemaTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String INTEGER_N = "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}";

  @ParameterizedTest
  @ValueSource(strings = {"5", "5.0", "-0.0", "12345678901234567890123"})
  void integer_acceptsWholeNumbersWrittenAnyWay(String number) {
    ToolSchema schema = ToolSchema.compile(json(INTEGER_N));

    assertThat(schema.validate(json("{\"n\":" + number + "}")).valid()).isTrue();
  }

  @Test
  void integer_acceptsWholeBigDecimalAndBigIntegerNodes_andRefusesFractions() {
    ToolSchema schema = ToolSchema.compile(json(INTEGER_N));
    ObjectNode whole = NODES.objectNode().put("n", new BigDecimal("5.000"));
    ObjectNode big = NODES.objectNode().put("n", new BigInteger("123456789012345678901234567890"));
    ObjectNode fraction = NODES.objectNode().put("n", new BigDecimal("5.5"));

    assertThat(schema.validate(whole).valid()).isTrue();
    assertThat(schema.validate(big).valid()).isTrue();
    assertThat(schema.validate(fraction).reason()).isEqualTo("/n: number found, integer expected (type)");
  }

  @Test
  void number_acceptsADecimalBeyondDoubleRange() {
    ToolSchema schema = ToolSchema.compile(json("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\","
        + "\"maximum\":10}}}"));

    assertThat(schema.validate(NODES.objectNode().put("x", new BigDecimal("1e400"))).valid()).isFalse();
    assertThat(schema.validate(NODES.objectNode().put("x", new BigDecimal("9.99999999999999999999"))).valid())
        .isTrue();
  }

  @Test
  void dialect_followsTheSchemaKeyword_draft07IgnoringRefSiblings() {
    String draft7 = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"definitions\":{\"s\":{\"type\":\"string\"}},"
        + "\"properties\":{\"a\":{\"$ref\":\"#/definitions/s\",\"maxLength\":2}}}";
    String draft2020 = "{\"$defs\":{\"s\":{\"type\":\"string\"}},"
        + "\"properties\":{\"a\":{\"$ref\":\"#/$defs/s\",\"maxLength\":2}}}";

    assertThat(ToolSchema.compile(json(draft7)).validate(json("{\"a\":\"abcdef\"}")).valid()).isTrue();
    assertThat(ToolSchema.compile(json(draft2020)).validate(json("{\"a\":\"abcdef\"}")).reason())
        .isEqualTo("/a: must be at most 2 characters long (maxLength)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"classpath:draft/2020-12/schema", "file:///etc/passwd", "https://example.com/s.json",
      "other.json"})
  void refsOutsideTheDocument_makeTheSchemaUnusable(String ref) {
    ToolSchema schema = ToolSchema.compile(json("{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"" + ref
        + "\"}}}"));

    assertThat(schema.problem()).contains("cannot be compiled");
    assertThat(schema.validate(json("{}")).kind()).isEqualTo(ToolSchema.Verdict.Kind.UNUSABLE);
  }

  @Test
  void localRefsAndAnchors_resolveWithinTheDocument() {
    ToolSchema schema = ToolSchema.compile(json("{\"$id\":\"https://tools.example/pay\",\"type\":\"object\","
        + "\"properties\":{\"a\":{\"$ref\":\"#/$defs/n\"},\"b\":{\"$ref\":\"#word\"}},"
        + "\"$defs\":{\"n\":{\"type\":\"number\"},\"w\":{\"$anchor\":\"word\",\"type\":\"string\"}}}"));

    assertThat(schema.problem()).isNull();
    assertThat(schema.validate(json("{\"a\":1,\"b\":\"x\"}")).valid()).isTrue();
    assertThat(schema.validate(json("{\"a\":\"1\",\"b\":2}")).reason())
        .contains("/a: string found, number expected").contains("/b: integer found, string expected");
  }

  @Test
  void patternThatBacktracksCatastrophically_isUndecided() {
    ToolSchema schema = ToolSchema.compile(json("{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\","
        + "\"pattern\":\"(a+)+$\"}}}"));
    String text = "a".repeat(50_000) + "!";

    ToolSchema.Verdict verdict = schema.validate(NODES.objectNode().put("s", text));

    assertThat(verdict.kind()).isEqualTo(ToolSchema.Verdict.Kind.UNDECIDED);
    assertThat(verdict.reason()).contains("backtracks");
  }

  @Test
  void tooManyValues_makeTheSchemaUnusable() {
    ObjectNode schema = NODES.objectNode().put("type", "object");
    ObjectNode properties = schema.putObject("properties");
    for (int i = 0; i < ToolSchema.MAX_NODES; i++) {
      properties.putObject("p" + i).put("type", "string");
    }

    assertThat(ToolSchema.compile(schema).problem()).contains("more than " + ToolSchema.MAX_NODES);
  }

  @Test
  void notAnObject_isUnusable() {
    assertThat(ToolSchema.compile(json("\"object\"")).problem()).contains("a string, not an object");
    assertThat(ToolSchema.compile(json("[]")).problem()).contains("an array");
  }

  @Test
  void manyFindings_showThreeAndCountTheRest() {
    ToolSchema schema = ToolSchema.compile(json("{\"type\":\"object\",\"additionalProperties\":false}"));

    String reason = schema.validate(json("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5}")).reason();

    assertThat(reason).startsWith("arguments: property 'a' is not defined").endsWith("; and 2 more");
  }

  @Test
  void digest_isTheSameForTheSameText() {
    assertThat(ToolSchema.compile(json(INTEGER_N)).digest()).isEqualTo(ToolSchema.digest(json(INTEGER_N)))
        .hasSize(64);
  }
}
