package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Fuzz target for validating {@code tools/call} arguments against a tool's {@code inputSchema}
 * ({@code benchmarks/fuzz ToolSchemaFuzzTest}): fuzzed schemas of the shapes MCP servers list
 * (an object of string, integer, number, boolean, array, enum and nested object properties,
 * {@code required}, {@code additionalProperties: false}, draft-07 or 2020-12), sometimes spoilt,
 * and fuzzed arguments, sometimes nested thousands deep.
 *
 * <p>The oracle: compiling and validating never throw; a spoilt schema is either still usable
 * or reported, and then every validation says so; a refusal names, for each finding, a JSON
 * Pointer that exists in the arguments; and for the generated subset of keywords (type,
 * required, enum, additionalProperties, minimum/maximum and their exclusive forms,
 * minLength/maxLength in code points, items, minItems/maxItems, a {@code $ref} to the root) the
 * verdict is the reference's, written here from the JSON Schema specification.
 */
class ToolSchemaFuzzTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final List<String> DIALECTS = List.of("",
      "http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2020-12/schema",
      "https://json-schema.org/draft/2019-09/schema");
  private static final List<String> NAMES = List.of("a", "b", "n", "path", "x y", "a/b", "~t",
      "\u00e9");
  private static final String ALPHABET = "ab/.x \u00e9\uD83D\uDE00";
  private static final List<String> KEYWORDS = List.of("type", "required", "enum",
      "additionalProperties", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
      "minLength", "maxLength", "minItems", "maxItems");

  /**
   * Any generated schema and arguments: the verdict agrees with the reference, or the schema
   * is reported unusable, or (only for spoilt schemas and deep arguments) the validation is
   * undecided; never an exception; every finding's pointer exists in the arguments.
   */
  @FuzzTest
  void validate_anySchemaAnyArguments_agreesWithReferenceOrIsReported(FuzzedDataProvider data) {
    // The last byte picks the mode, so that seeds are one byte to steer.
    int mode = data.consumeInt(0, 3);
    String dialect = DIALECTS.get(data.consumeInt(0, DIALECTS.size() - 1));
    ObjectNode schema;
    JsonNode arguments;
    boolean deep = mode == 3;
    if (deep) {
      schema = recursiveSchema(data);
      arguments = deepArguments(data);
    } else {
      schema = objectSchema(data, 0);
      arguments = arguments(data, schema, 0);
    }
    if (!dialect.isEmpty()) {
      schema.put("$schema", dialect);
    }
    boolean spoilt = mode == 2;
    if (spoilt) {
      spoil(data, schema);
    }

    ToolSchema compiled = ToolSchema.compile(schema);
    ToolSchema.Verdict verdict = compiled.validate(arguments);

    assertThat(compiled.digest()).isEqualTo(ToolSchema.digest(schema));
    if (compiled.problem() != null) {
      assertThat(spoilt).as("generated schema reported unusable: %s; %s", compiled.problem(),
          schema).isTrue();
      assertThat(verdict.kind()).isEqualTo(ToolSchema.Verdict.Kind.UNUSABLE);
      assertThat(verdict.reason()).isEqualTo(compiled.problem()).isNotBlank();
      return;
    }
    if (verdict.kind() == ToolSchema.Verdict.Kind.INVALID) {
      assertFindingsLocated(verdict.reason(), arguments);
    }
    if (spoilt) {
      assertThat(verdict.kind()).isNotEqualTo(ToolSchema.Verdict.Kind.UNUSABLE);
      return;
    }
    if (deep && verdict.kind() == ToolSchema.Verdict.Kind.UNDECIDED) {
      assertThat(verdict.reason()).isNotBlank();
      return;
    }
    boolean expected = valid(schema, schema, arguments);
    assertThat(verdict.kind())
        .as("schema %s, arguments %s: %s", schema, shorten(arguments), verdict.reason())
        .isEqualTo(expected ? ToolSchema.Verdict.Kind.VALID : ToolSchema.Verdict.Kind.INVALID);
  }

  /** Each finding is {@code <pointer>: <message> (<keyword>)}, a pointer the arguments have. */
  private static void assertFindingsLocated(String reason, JsonNode arguments) {
    assertThat(reason).isNotBlank();
    String findings = reason.replaceFirst("; and \\d+ more$", "");
    for (String finding : findings.split("; ")) {
      int colon = finding.indexOf(": ");
      assertThat(colon).as("finding without a location: %s", reason).isPositive();
      String at = finding.substring(0, colon);
      assertThat(finding).as(reason).matches("(?s).* \\([A-Za-z$]+\\)$");
      if (!at.equals("arguments")) {
        assertThat(at).as(reason).startsWith("/");
        assertThat(arguments.at(JsonPointer.compile(at)).isMissingNode())
            .as("finding %s names a pointer the arguments %s do not have", finding,
                shorten(arguments))
            .isFalse();
      }
    }
  }

  // ---- the generator -----------------------------------------------------------------------

  /** An object schema: properties of every common kind, some required, maybe closed. */
  private static ObjectNode objectSchema(FuzzedDataProvider data, int depth) {
    ObjectNode schema = NODES.objectNode().put("type", "object");
    ObjectNode properties = schema.putObject("properties");
    int n = data.consumeInt(0, 4);
    for (int i = 0; i < n; i++) {
      properties.set(NAMES.get(data.consumeInt(0, NAMES.size() - 1)), property(data, depth));
    }
    if (data.consumeBoolean()) {
      ArrayNode required = schema.putArray("required");
      List<String> names = new ArrayList<>();
      int r = data.consumeInt(1, 3);
      for (int i = 0; i < r; i++) {
        String name = data.consumeInt(0, 4) == 0 ? NAMES.get(data.consumeInt(0, NAMES.size() - 1))
            : propertyName(data, properties);
        if (name != null && !names.contains(name)) {
          names.add(name);
          required.add(name);
        }
      }
    }
    if (data.consumeBoolean()) {
      schema.put("additionalProperties", false);
    }
    return schema;
  }

  private static String propertyName(FuzzedDataProvider data, ObjectNode properties) {
    List<String> names = new ArrayList<>(properties.propertyNames());
    return names.isEmpty() ? null : names.get(data.consumeInt(0, names.size() - 1));
  }

  private static ObjectNode property(FuzzedDataProvider data, int depth) {
    ObjectNode p = NODES.objectNode();
    switch (data.consumeInt(0, depth < 2 ? 7 : 5)) {
      case 0:
        p.put("type", "string");
        if (data.consumeBoolean()) {
          p.put("minLength", data.consumeInt(0, 3));
        }
        if (data.consumeBoolean()) {
          p.put("maxLength", data.consumeInt(0, 4));
        }
        break;
      case 1:
      case 2:
        p.put("type", data.consumeBoolean() ? "integer" : "number");
        for (String bound : List.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")) {
          if (data.consumeInt(0, 2) == 0) {
            p.set(bound, NODES.numberNode(bound(data)));
          }
        }
        break;
      case 3:
        p.put("type", "boolean");
        break;
      case 4: {
        ArrayNode values = p.putArray("enum");
        int n = data.consumeInt(1, 3);
        for (int i = 0; i < n; i++) {
          values.add(data.consumeBoolean() ? NODES.stringNode(text(data))
              : NODES.numberNode(bound(data)));
        }
        if (data.consumeBoolean()) {
          p.put("type", "string");
        }
        break;
      }
      case 5: {
        ArrayNode types = p.putArray("type");
        types.add("string");
        types.add("null");
        break;
      }
      case 6:
        p.put("type", "array");
        p.set("items", property(data, depth + 1));
        if (data.consumeBoolean()) {
          p.put("minItems", data.consumeInt(0, 2));
        }
        if (data.consumeBoolean()) {
          p.put("maxItems", data.consumeInt(0, 3));
        }
        break;
      default:
        return objectSchema(data, depth + 1);
    }
    return p;
  }

  private static BigDecimal bound(FuzzedDataProvider data) {
    return BigDecimal.valueOf(data.consumeInt(-20, 20), data.consumeInt(0, 1));
  }

  /** Arguments near the schema: usually its properties, values usually of the declared type. */
  private static JsonNode arguments(FuzzedDataProvider data, JsonNode schema, int depth) {
    if (data.consumeInt(0, 5) == 0 || depth > 4) {
      return any(data, depth);
    }
    JsonNode type = schema.path("type");
    String t = type.isArray() ? (data.consumeBoolean() ? "null" : "string")
        : type.isString() ? type.stringValue() : "";
    if (schema.has("enum") && data.consumeBoolean()) {
      JsonNode values = schema.get("enum");
      return values.get(data.consumeInt(0, values.size() - 1));
    }
    switch (t) {
      case "object": {
        ObjectNode out = NODES.objectNode();
        for (Map.Entry<String, JsonNode> p : schema.path("properties").properties()) {
          if (data.consumeInt(0, 3) != 0) {
            out.set(p.getKey(), arguments(data, p.getValue(), depth + 1));
          }
        }
        if (data.consumeInt(0, 3) == 0) {
          out.set(NAMES.get(data.consumeInt(0, NAMES.size() - 1)), any(data, depth + 1));
        }
        return out;
      }
      case "array": {
        ArrayNode out = NODES.arrayNode();
        int n = data.consumeInt(0, 4);
        for (int i = 0; i < n; i++) {
          out.add(arguments(data, schema.path("items"), depth + 1));
        }
        return out;
      }
      case "string":
        return NODES.stringNode(text(data));
      case "integer":
      case "number":
        return number(data);
      case "boolean":
        return NODES.booleanNode(data.consumeBoolean());
      case "null":
        return NODES.nullNode();
      default:
        return any(data, depth);
    }
  }

  private static JsonNode any(FuzzedDataProvider data, int depth) {
    switch (data.consumeInt(0, depth < 3 ? 6 : 4)) {
      case 0:
        return NODES.stringNode(text(data));
      case 1:
        return number(data);
      case 2:
        return NODES.booleanNode(data.consumeBoolean());
      case 3:
        return NODES.nullNode();
      case 4:
        return NODES.stringNode(bound(data).toPlainString());
      case 5: {
        ArrayNode out = NODES.arrayNode();
        int n = data.consumeInt(0, 3);
        for (int i = 0; i < n; i++) {
          out.add(any(data, depth + 1));
        }
        return out;
      }
      default: {
        ObjectNode out = NODES.objectNode();
        int n = data.consumeInt(0, 3);
        for (int i = 0; i < n; i++) {
          out.set(NAMES.get(data.consumeInt(0, NAMES.size() - 1)), any(data, depth + 1));
        }
        return out;
      }
    }
  }

  /** A number as any node the wire parser or an embedding application makes. */
  private static JsonNode number(FuzzedDataProvider data) {
    BigDecimal d = bound(data);
    switch (data.consumeInt(0, 6)) {
      case 0:
        return d.scale() == 0 ? NODES.numberNode(d.intValue()) : NODES.numberNode(d);
      case 1:
        return d.scale() == 0 ? NODES.numberNode(d.longValue()) : NODES.numberNode(d);
      case 2:
        return NODES.numberNode(d.setScale(d.scale() + data.consumeInt(0, 3)));
      case 3:
        return NODES.numberNode(d.doubleValue());
      case 4:
        return NODES.numberNode(new BigInteger("123456789012345678901234567890")
            .multiply(BigInteger.valueOf(data.consumeInt(-1, 1))));
      case 5:
        return NODES.numberNode(new BigDecimal(data.consumeBoolean() ? "1e400" : "-1e-400"));
      default:
        return NODES.numberNode(d);
    }
  }

  private static String text(FuzzedDataProvider data) {
    StringBuilder out = new StringBuilder();
    int n = data.consumeInt(0, 5);
    int[] cps = ALPHABET.codePoints().toArray();
    for (int i = 0; i < n; i++) {
      out.appendCodePoint(cps[data.consumeInt(0, cps.length - 1)]);
    }
    return out.toString();
  }

  /** {@code {a: {$ref: "#"}, n: integer}}: arguments nest as deep as the caller likes. */
  private static ObjectNode recursiveSchema(FuzzedDataProvider data) {
    ObjectNode schema = NODES.objectNode().put("type", "object");
    ObjectNode properties = schema.putObject("properties");
    properties.putObject("a").put("$ref", "#");
    properties.putObject("n").put("type", "integer");
    if (data.consumeBoolean()) {
      schema.put("additionalProperties", false);
    }
    return schema;
  }

  private static JsonNode deepArguments(FuzzedDataProvider data) {
    int depth = data.consumeInt(0, 3000);
    JsonNode leaf = data.consumeBoolean() ? NODES.objectNode().put("n", 1)
        : NODES.objectNode().put("n", data.consumeBoolean() ? "1" : "x");
    for (int i = 0; i < depth; i++) {
      leaf = NODES.objectNode().set(data.consumeInt(0, 9) == 0 ? "b" : "a", leaf);
    }
    return leaf;
  }

  /** Replaces or adds one keyword somewhere in the schema with something odd. */
  private static void spoil(FuzzedDataProvider data, ObjectNode schema) {
    List<ObjectNode> objects = new ArrayList<>();
    collect(schema, objects);
    ObjectNode at = objects.get(data.consumeInt(0, objects.size() - 1));
    List<JsonNode> odd = List.of(NODES.numberNode(5), NODES.stringNode("strin"),
        NODES.stringNode("https://example.com/s.json"), NODES.stringNode("#/nope"),
        NODES.stringNode("#"), NODES.stringNode("("), NODES.stringNode("[a-"),
        NODES.arrayNode(), NODES.objectNode(), NODES.nullNode(), NODES.booleanNode(true),
        NODES.numberNode(-1), NODES.numberNode(new BigDecimal("1e400")),
        NODES.stringNode("file:///etc/passwd"), NODES.stringNode("#/properties/a"));
    List<String> keys = new ArrayList<>(KEYWORDS);
    keys.addAll(List.of("$ref", "pattern", "items", "properties", "format", "$id", "$defs",
        "definitions", "allOf", "not", "const", "uniqueItems", "$anchor", "$dynamicRef"));
    at.set(keys.get(data.consumeInt(0, keys.size() - 1)),
        odd.get(data.consumeInt(0, odd.size() - 1)));
  }

  private static void collect(JsonNode node, List<ObjectNode> out) {
    if (node instanceof ObjectNode o) {
      out.add(o);
    }
    for (JsonNode child : node.values()) {
      collect(child, out);
    }
  }

  private static String shorten(JsonNode node) {
    String text;
    try {
      text = node.toString();
    } catch (RuntimeException tooDeep) {
      return "(nested too deep to print)";
    }
    return text.length() <= 300 ? text : text.substring(0, 300) + "...";
  }

  // ---- the reference -----------------------------------------------------------------------

  /** Whether a value is valid against a schema of the generated subset. */
  static boolean valid(JsonNode root, JsonNode schema, JsonNode value) {
    if (schema.has("$ref")) {
      return valid(root, root, value); // only "#" is generated unspoilt
    }
    JsonNode type = schema.get("type");
    if (type != null) {
      boolean any = false;
      Iterable<JsonNode> types = type.isArray() ? type : List.of(type);
      for (JsonNode t : types) {
        any |= hasType(value, t.stringValue());
      }
      if (!any) {
        return false;
      }
    }
    JsonNode values = schema.get("enum");
    if (values != null) {
      boolean found = false;
      for (JsonNode v : values) {
        found |= same(v, value);
      }
      if (!found) {
        return false;
      }
    }
    if (value.isNumber()) {
      BigDecimal v = exact(value);
      if (below(schema, "minimum", v, false) || below(schema, "exclusiveMinimum", v, true)
          || above(schema, "maximum", v, false) || above(schema, "exclusiveMaximum", v, true)) {
        return false;
      }
    }
    if (value.isString()) {
      long length = value.stringValue().codePoints().count();
      if (length < schema.path("minLength").asLong(0)
          || length > schema.path("maxLength").asLong(Long.MAX_VALUE)) {
        return false;
      }
    }
    if (value.isArray()) {
      if (value.size() < schema.path("minItems").asLong(0)
          || value.size() > schema.path("maxItems").asLong(Long.MAX_VALUE)) {
        return false;
      }
      JsonNode items = schema.get("items");
      for (JsonNode item : value) {
        if (items != null && !valid(root, items, item)) {
          return false;
        }
      }
    }
    if (value.isObject()) {
      for (JsonNode name : schema.path("required")) {
        if (!value.has(name.stringValue())) {
          return false;
        }
      }
      JsonNode properties = schema.path("properties");
      for (Map.Entry<String, JsonNode> member : value.properties()) {
        JsonNode p = properties.get(member.getKey());
        if (p == null && schema.path("additionalProperties").isBoolean()
            && !schema.get("additionalProperties").booleanValue()) {
          return false;
        }
        if (p != null && !valid(root, p, member.getValue())) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean below(JsonNode schema, String keyword, BigDecimal v, boolean exclusive) {
    JsonNode bound = schema.get(keyword);
    if (bound == null) {
      return false;
    }
    int c = v.compareTo(bound.decimalValue());
    return exclusive ? c <= 0 : c < 0;
  }

  private static boolean above(JsonNode schema, String keyword, BigDecimal v, boolean exclusive) {
    JsonNode bound = schema.get(keyword);
    if (bound == null) {
      return false;
    }
    int c = v.compareTo(bound.decimalValue());
    return exclusive ? c >= 0 : c > 0;
  }

  private static boolean hasType(JsonNode value, String type) {
    switch (type) {
      case "object":
        return value.isObject();
      case "array":
        return value.isArray();
      case "string":
        return value.isString();
      case "boolean":
        return value.isBoolean();
      case "null":
        return value.isNull();
      case "number":
        return value.isNumber();
      case "integer":
        // A number with a zero fractional part is an integer, however it is written.
        return value.isNumber() && exact(value).stripTrailingZeros().scale() <= 0;
      default:
        return false;
    }
  }

  /** JSON Schema equality: numbers by mathematical value, the rest exactly. */
  private static boolean same(JsonNode a, JsonNode b) {
    if (a.isNumber() && b.isNumber()) {
      return exact(a).compareTo(exact(b)) == 0;
    }
    return a.equals(b);
  }

  /** A number's value; doubles here come from short decimals, which Double.toString keeps. */
  private static BigDecimal exact(JsonNode n) {
    if (n.isDouble()) {
      return BigDecimal.valueOf(n.doubleValue());
    }
    if (n.isIntegralNumber()) {
      return new BigDecimal(n.bigIntegerValue());
    }
    return n.decimalValue();
  }
}
