package dev.sentinel.core.pinning;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Fuzz target for the canonical form of tool definitions, whose digest is the pin: equivalent
 * listings of one definition (members in another order, schema defaults spelled out, a one-type
 * list, integral numbers with a fraction) have one digest, the canonical form is its own
 * canonical form, and a changed description always changes the digest ({@code benchmarks/fuzz
 * ToolDefinitionsFuzzTest}). Definitions nest at most {@value #DEPTH} levels here: deeper than
 * that, {@link ToolDefinitions} hashes a value as listed (deeper than any real schema).
 */
class ToolDefinitionsFuzzTest {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final int DEPTH = 60;

  @FuzzTest
  void digest_ofEquivalentListings_isOne_andADescriptionChangeIsSeen(FuzzedDataProvider data) {
    long seed = data.consumeLong();
    String suffix = data.consumeString(8);
    JsonNode parsed;
    try {
      parsed = MAPPER.readTree(data.consumeRemainingAsBytes());
    } catch (JacksonException notJson) {
      return;
    }
    if (parsed == null || !parsed.isObject() || depth(parsed) > DEPTH) {
      return;
    }
    ObjectNode tool = (ObjectNode) parsed;
    String digest = ToolDefinitions.digest(tool);
    String canonical = ToolDefinitions.canonicalJson(tool);

    // A fixed point: the canonical form, read back, is its own canonical form.
    assertThat(ToolDefinitions.canonicalJson(ToolDefinitions.parse(canonical))).isEqualTo(canonical);
    assertThat(ToolDefinitions.sha256(canonical)).isEqualTo(digest);
    // Equivalent listings: another member order everywhere, and schema defaults spelled out.
    Random random = new Random(seed);
    JsonNode reordered = shuffled(tool, random);
    assertThat(ToolDefinitions.digest(reordered)).isEqualTo(digest);
    ObjectNode spelledOut = (ObjectNode) reordered.deepCopy();
    for (String field : List.of("inputSchema", "outputSchema")) {
      JsonNode schema = spelledOut.get(field);
      if (schema != null && schema.isObject()) {
        spellOutDefaults((ObjectNode) schema);
      }
    }
    assertThat(ToolDefinitions.digest(spelledOut)).isEqualTo(digest);
    // A changed description is a change.
    if (!suffix.isEmpty()) {
      ObjectNode changed = tool.deepCopy();
      JsonNode description = tool.get("description");
      changed.put("description", (description != null && description.isString()
          ? description.stringValue() : "") + suffix);
      if (!changed.get("description").equals(description)) {
        assertThat(ToolDefinitions.digest(changed)).isNotEqualTo(digest);
      }
    }
  }

  /** What a schema's absent keys mean anyway, written out; a single type as a one-item list. */
  private static void spellOutDefaults(ObjectNode schema) {
    if (!schema.has("required")) {
      schema.putArray("required");
    }
    if (!schema.has("additionalProperties")) {
      schema.put("additionalProperties", true);
    }
    if (!schema.has("properties")) {
      schema.putObject("properties");
    }
    JsonNode type = schema.get("type");
    if (type != null && type.isString()) {
      schema.putArray("type").add(type.stringValue());
    }
  }

  private static JsonNode shuffled(JsonNode node, Random random) {
    if (node.isArray()) {
      ArrayNode out = NODES.arrayNode();
      node.forEach(item -> out.add(shuffled(item, random)));
      return out;
    }
    if (!node.isObject()) {
      return node;
    }
    List<Map.Entry<String, JsonNode>> members = new ArrayList<>(node.properties());
    Collections.shuffle(members, random);
    ObjectNode out = NODES.objectNode();
    members.forEach(member -> out.set(member.getKey(), shuffled(member.getValue(), random)));
    return out;
  }

  private static int depth(JsonNode node) {
    int deepest = 0;
    for (JsonNode child : node) {
      deepest = Math.max(deepest, depth(child));
    }
    return deepest + 1;
  }
}
