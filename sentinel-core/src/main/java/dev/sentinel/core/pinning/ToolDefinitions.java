package dev.sentinel.core.pinning;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/**
 * A tool definition as pinning sees it: the fields that tell a model what a tool does and takes
 * ({@code name}, {@code title}, {@code description}, {@code inputSchema}, {@code outputSchema},
 * {@code annotations}), in a canonical form whose SHA-256 is the pin.
 *
 * <p>The canonical form sorts object keys, has no whitespace, writes numbers with an integral
 * value as integers ({@code 1.0} is {@code 1}), and drops what the schemas say in an equivalent
 * notation: {@code "type": ["string"]} is {@code "type": "string"}, a list of types is sorted,
 * {@code required} is a sorted set and absent when empty, {@code additionalProperties: true} and
 * {@code properties: {}} are absent; {@code null} fields are absent. Anything else, such as a
 * changed description or a widened schema, changes the digest.
 *
 * <p>Stateless and thread-safe.
 */
public final class ToolDefinitions {
  /** The fields of a tool definition that are pinned. */
  public static final List<String> FIELDS =
      List.of("name", "title", "description", "inputSchema", "outputSchema", "annotations");

  private static final List<String> SORTED_FIELDS = FIELDS.stream().sorted().toList();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final HexFormat HEX = HexFormat.of();
  private static final int MAX_DEPTH = 64;

  /** Text addressed to the model rather than describing the tool. */
  private static final Pattern ADDRESSED = Pattern.compile(
      "(?i)\\b(?:ignore|disregard|forget)\\s+(?:all\\s+|any\\s+|the\\s+)?(?:previous|prior|above"
          + "|earlier|other)\\s+(?:instructions?|prompts?|messages?|rules?)"
          + "|\\bdo\\s+not\\s+(?:tell|inform|mention|show|reveal)\\b[^.]{0,60}\\buser\\b"
          + "|\\bdon'?t\\s+(?:tell|inform|mention|show|reveal)\\b[^.]{0,60}\\buser\\b"
          + "|<\\s*(?:important|system|instructions?)\\s*>"
          + "|\\byou\\s+must\\s+(?:first\\s+)?(?:read|send|pass|include)\\b[^.]{0,80}"
          + "(?:~/|\\.ssh|\\.env|id_rsa|credentials|password|secret|token)");

  private ToolDefinitions() {}

  /**
   * The canonical form of a listed tool: its pinned fields, normalized.
   *
   * @param tool one item of a {@code tools/list} result
   */
  public static ObjectNode canonical(JsonNode tool) {
    Objects.requireNonNull(tool, "tool");
    ObjectNode out = NODES.objectNode();
    for (String field : SORTED_FIELDS) {
      JsonNode value = tool.get(field);
      if (value == null || value.isNull() || value.isMissingNode()) {
        continue;
      }
      boolean schema = field.endsWith("Schema");
      out.set(field, normalize(value, schema, 0));
    }
    return out;
  }

  /** The canonical JSON text of a listed tool: what is hashed and stored. */
  public static String canonicalJson(JsonNode tool) {
    StringBuilder text = new StringBuilder(256);
    write(canonical(tool), text);
    return text.toString();
  }

  /** The pin of a listed tool: the SHA-256 of its canonical JSON, in lower-case hex. */
  public static String digest(JsonNode tool) {
    return sha256(canonicalJson(tool));
  }

  /** The SHA-256 of a canonical JSON text, in lower-case hex. */
  public static String sha256(String canonicalJson) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HEX.formatHex(sha.digest(canonicalJson.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  /** Parses a stored canonical JSON text. */
  public static JsonNode parse(String canonicalJson) {
    return JsonMapper.shared().readTree(canonicalJson);
  }

  private static JsonNode normalize(JsonNode node, boolean schema, int depth) {
    if (depth > MAX_DEPTH) {
      return node; // kept as listed: deeper than any real schema, still hashed exactly
    }
    if (node.isNumber()) {
      return number(node);
    }
    if (node.isArray()) {
      ArrayNode out = NODES.arrayNode();
      for (JsonNode item : node) {
        out.add(normalize(item, schema, depth + 1));
      }
      return out;
    }
    if (!node.isObject()) {
      return node;
    }
    ObjectNode out = NODES.objectNode();
    for (Map.Entry<String, JsonNode> entry : new TreeMap<>(asMap(node)).entrySet()) {
      String key = entry.getKey();
      JsonNode value = entry.getValue();
      if (schema && isDefaultNotation(key, value)) {
        continue;
      }
      JsonNode normalized = normalize(value, schema, depth + 1);
      if (schema && "type".equals(key) && normalized.isArray()) {
        normalized = typeSet(normalized);
      } else if (schema && "required".equals(key) && normalized.isArray()) {
        normalized = stringSet(normalized);
      }
      out.set(key, normalized);
    }
    return out;
  }

  private static Map<String, JsonNode> asMap(JsonNode node) {
    Map<String, JsonNode> map = new TreeMap<>();
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      map.put(entry.getKey(), entry.getValue());
    }
    return map;
  }

  /** Keys whose value says what their absence says. */
  private static boolean isDefaultNotation(String key, JsonNode value) {
    switch (key) {
      case "required":
        return value.isArray() && value.isEmpty();
      case "additionalProperties":
        return value.isBoolean() && value.booleanValue();
      case "properties":
        return value.isObject() && value.isEmpty();
      default:
        return false;
    }
  }

  /** A list of type names: one is the name itself; several, a sorted set. */
  private static JsonNode typeSet(JsonNode types) {
    for (JsonNode type : types) {
      if (!type.isString()) {
        return types;
      }
    }
    TreeSet<String> names = new TreeSet<>();
    types.forEach(t -> names.add(t.stringValue()));
    if (names.size() == 1) {
      return NODES.stringNode(names.first());
    }
    ArrayNode out = NODES.arrayNode();
    names.forEach(out::add);
    return out;
  }

  private static JsonNode stringSet(JsonNode items) {
    for (JsonNode item : items) {
      if (!item.isString()) {
        return items;
      }
    }
    TreeSet<String> names = new TreeSet<>();
    items.forEach(t -> names.add(t.stringValue()));
    ArrayNode out = NODES.arrayNode();
    names.forEach(out::add);
    return out;
  }

  private static JsonNode number(JsonNode node) {
    if (node.isIntegralNumber()) {
      return NODES.numberNode(node.bigIntegerValue());
    }
    BigDecimal value;
    try {
      value = node.decimalValue();
    } catch (RuntimeException e) {
      return node; // NaN or infinite: not JSON, kept as parsed
    }
    BigDecimal stripped = value.stripTrailingZeros();
    // A huge exponent stays a decimal (written as 1E+999): never expanded into its digits.
    if (stripped.scale() <= 0 && stripped.scale() >= -100) {
      return NODES.numberNode(stripped.toBigIntegerExact());
    }
    return NODES.numberNode(stripped);
  }

  /** Writes canonical JSON: keys in the order given (sorted by {@link #canonical}), no space. */
  static void write(JsonNode node, StringBuilder out) {
    if (node.isObject()) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<String, JsonNode> entry : node.properties()) {
        if (!first) {
          out.append(',');
        }
        first = false;
        string(entry.getKey(), out);
        out.append(':');
        write(entry.getValue(), out);
      }
      out.append('}');
    } else if (node.isArray()) {
      out.append('[');
      for (int i = 0; i < node.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        write(node.get(i), out);
      }
      out.append(']');
    } else if (node.isString()) {
      string(node.stringValue(), out);
    } else if (node.isBigDecimal()) {
      out.append(node.decimalValue().stripTrailingZeros().toString());
    } else if ((node.isDouble() || node.isFloat()) && Double.isFinite(node.doubleValue())) {
      out.append(BigDecimal.valueOf(node.doubleValue()).stripTrailingZeros().toString());
    } else if (node.isBoolean()) {
      out.append(node.booleanValue());
    } else if (node.isIntegralNumber()) {
      out.append(node.bigIntegerValue());
    } else if (node.isNull()) {
      out.append("null");
    } else {
      // NaN or infinite, which JSON has no text for: written as Jackson writes them, rarely.
      out.append(node.toString());
    }
  }

  private static void string(String text, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        default:
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
      }
    }
    out.append('"');
  }

  // ---- the semantic diff ---------------------------------------------------------------------

  /**
   * One difference between two canonical definitions.
   *
   * @param pointer the JSON Pointer of what differs, such as {@code /inputSchema/properties/to}
   * @param before the value before, or {@code null} if it was absent
   * @param after the value now, or {@code null} if it is gone
   */
  public record Change(String pointer, @Nullable JsonNode before, @Nullable JsonNode after) {
    /** Validates. */
    public Change {
      Objects.requireNonNull(pointer, "pointer");
    }
  }

  /**
   * The differences between two canonical definitions, deepest first where both sides are
   * objects; lists of another length differ as a whole.
   *
   * @param before the approved definition, or {@code null} for none
   * @param after the listed definition
   */
  public static List<Change> diff(@Nullable JsonNode before, JsonNode after) {
    List<Change> changes = new ArrayList<>();
    diff("", before, after, changes, 0);
    return changes;
  }

  private static void diff(String pointer, @Nullable JsonNode before, @Nullable JsonNode after,
      List<Change> out,
      int depth) {
    if (before != null && before.equals(after)) {
      return;
    }
    if (before != null && after != null && before.isObject() && after.isObject()
        && depth < MAX_DEPTH) {
      TreeSet<String> keys = new TreeSet<>(before.propertyNames());
      keys.addAll(after.propertyNames());
      for (String key : keys) {
        diff(pointer + "/" + escape(key), before.get(key), after.get(key), out, depth + 1);
      }
      return;
    }
    if (before != null && after != null && before.isArray() && after.isArray()
        && before.size() == after.size() && depth < MAX_DEPTH) {
      for (int i = 0; i < before.size(); i++) {
        diff(pointer + "/" + i, before.get(i), after.get(i), out, depth + 1);
      }
      return;
    }
    if (before == null && after == null) {
      return;
    }
    out.add(new Change(pointer.isEmpty() ? "" : pointer, before, after));
  }

  private static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }

  // ---- hidden instructions -------------------------------------------------------------------

  /**
   * Something in a definition's text that a person reading it would not see, or that speaks to
   * the model rather than describing the tool.
   *
   * @param pointer the JSON Pointer of the string that holds it
   * @param kind {@code tag-characters}, {@code bidi-controls}, {@code zero-width} or {@code
   *     addressed-to-model}
   * @param detail what was found: the text the tag characters spell, the phrase, or the count
   */
  public record Finding(String pointer, String kind, String detail) {
    /** Validates. */
    public Finding {
      Objects.requireNonNull(pointer, "pointer");
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(detail, "detail");
    }
  }

  /**
   * The hidden instructions in a definition's strings (descriptions, titles, schema texts and
   * keys): Unicode tag characters (U+E0000 to U+E007F), bidirectional controls (U+202A to U+202E,
   * U+2066 to U+2069), zero-width characters (U+200B to U+200F, U+2060, U+FEFF), and text
   * addressed to the model, such as "ignore previous instructions".
   */
  public static List<Finding> hiddenInstructions(JsonNode definition) {
    List<Finding> findings = new ArrayList<>();
    scan("", definition, findings, 0);
    return findings;
  }

  private static void scan(String pointer, JsonNode node, List<Finding> out, int depth) {
    if (node == null || depth > MAX_DEPTH) {
      return;
    }
    if (node.isString()) {
      inspect(pointer, node.stringValue(), out);
    } else if (node.isObject()) {
      for (Map.Entry<String, JsonNode> entry : node.properties()) {
        String child = pointer + "/" + escape(entry.getKey());
        inspect(child, entry.getKey(), out);
        scan(child, entry.getValue(), out, depth + 1);
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        scan(pointer + "/" + i, node.get(i), out, depth + 1);
      }
    }
  }

  private static void inspect(String pointer, String text, List<Finding> out) {
    StringBuilder tags = new StringBuilder();
    int bidi = 0;
    int zeroWidth = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp >= 0xE0000 && cp <= 0xE007F) {
        int ascii = cp - 0xE0000;
        tags.append(ascii >= 0x20 && ascii < 0x7F ? (char) ascii : '?');
      } else if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
        bidi++;
      } else if ((cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 || cp == 0xFEFF) {
        zeroWidth++;
      }
    }
    if (tags.length() > 0) {
      out.add(new Finding(pointer, "tag-characters", "invisible text: \""
          + shorten(tags.toString()) + "\""));
    }
    if (bidi > 0) {
      out.add(new Finding(pointer, "bidi-controls", bidi + " bidirectional control character"
          + (bidi == 1 ? "" : "s")));
    }
    if (zeroWidth > 0) {
      out.add(new Finding(pointer, "zero-width", zeroWidth + " zero-width character"
          + (zeroWidth == 1 ? "" : "s")));
    }
    Matcher m = ADDRESSED.matcher(text);
    if (m.find()) {
      out.add(new Finding(pointer, "addressed-to-model", "\"" + shorten(m.group()) + "\""));
    }
  }

  private static String shorten(String text) {
    return text.length() <= 120 ? text : text.substring(0, 117) + "...";
  }
}
