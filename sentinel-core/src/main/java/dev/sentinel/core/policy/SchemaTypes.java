package dev.sentinel.core.policy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;

/**
 * What a tool's input schema says about the value at a condition's pointer: the JSON Schema
 * types it may have, or that no value can be there. Conservative: whatever the schema leaves
 * open or this reading does not follow ({@code allOf}, {@code if}, references outside the
 * document, pattern properties) is unknown, and nothing is reported for it. Stateless.
 */
final class SchemaTypes {
  /** The most references followed in a row, and the deepest a walk goes, before giving up. */
  private static final int MAX_STEPS = 64;

  private SchemaTypes() {}

  /** What the schema says about one pointer. */
  record Found(@Nullable Set<String> types, boolean absent, @Nullable String why) {
    static final Found UNKNOWN = new Found(null, false, null);

    boolean known() {
      return types != null || absent;
    }
  }

  /**
   * Checks the conditions of a rule that concerns a tool against the tool's input schema: each
   * operator that cannot decide any value the schema allows at its pointer, and each pointer at
   * which the schema allows no value at all.
   */
  static List<String> conflicts(Rule rule, String tool, JsonNode schema) {
    List<String> out = new ArrayList<>();
    for (Condition condition : rule.when) {
      String pointer = condition.pointer();
      Found found = at(schema, segments(pointer));
      if (!found.known()) {
        continue;
      }
      if (found.absent()) {
        boolean onlyAbsence = true;
        for (Operator operator : condition.operators()) {
          onlyAbsence &= operator instanceof Operator.ExistsOperator;
        }
        if (!onlyAbsence) {
          out.add("rule '" + rule.id + "': " + pointer + " can never be present in calls of '" + tool
              + "': its input schema " + found.why() + ", so " + condition + " never sees a value");
        }
        continue;
      }
      Set<String> types = Objects.requireNonNull(found.types(), "a known, present value has types");
      for (Operator operator : condition.operators()) {
        Set<String> accepted = operator.schemaTypes();
        if (accepted == null) {
          continue;
        }
        boolean applies = false;
        for (String type : types) {
          applies |= accepted.contains(type);
        }
        if (!applies) {
          out.add("rule '" + rule.id + "': " + pointer + " " + operator + " cannot apply to calls of '" + tool
              + "': its input schema declares " + pointer + " as " + String.join(" or ", new TreeSet<>(types))
              + ", and " + operator + " needs " + operator.accepts());
        }
      }
    }
    return out;
  }

  /** The unescaped segments of a JSON Pointer ({@code *} stays a segment of its own). */
  static List<String> segments(String pointer) {
    List<String> out = new ArrayList<>();
    if (pointer.isEmpty()) {
      return out;
    }
    for (String raw : pointer.substring(1).split("/", -1)) {
      out.add(raw.replace("~1", "/").replace("~0", "~"));
    }
    return out;
  }

  /** What the schema says about the value at the segments. */
  static Found at(JsonNode schema, List<String> segments) {
    return new Walk(schema).resolve(schema, segments, 0, 0);
  }

  private static final class Walk {
    private final JsonNode root;

    Walk(JsonNode root) {
      this.root = root;
    }

    Found resolve(JsonNode node, List<String> segments, int i, int steps) {
      if (steps > MAX_STEPS) {
        return Found.UNKNOWN;
      }
      if (node.isBoolean()) {
        return node.booleanValue() ? Found.UNKNOWN : new Found(null, true, "is false there");
      }
      if (!node.isObject()) {
        return Found.UNKNOWN;
      }
      JsonNode ref = node.get("$ref");
      if (ref != null) {
        JsonNode target = ref.isString() ? local(ref.stringValue()) : null;
        return target == null ? Found.UNKNOWN : resolve(target, segments, i, steps + 1);
      }
      if (node.has("allOf") || node.has("if") || node.has("not") || node.has("$dynamicRef")
          || node.has("dependentSchemas") || node.has("unevaluatedProperties")) {
        return Found.UNKNOWN;
      }
      for (String union : new String[] {"anyOf", "oneOf"}) {
        JsonNode branches = node.get(union);
        if (branches != null) {
          return branches.isArray() && node.get("type") == null
              ? union(branches, segments, i, steps) : Found.UNKNOWN;
        }
      }
      Set<String> declared = declared(node);
      if (i == segments.size()) {
        return declared == null ? Found.UNKNOWN : new Found(declared, false, null);
      }
      String segment = segments.get(i);
      boolean object = declared == null || declared.contains("object");
      boolean array = declared == null || declared.contains("array");
      if (!object && !array) {
        return Found.UNKNOWN; // a scalar there: the operators' own type rules apply
      }
      if ("*".equals(segment)) {
        return every(node, declared, segments, i, steps);
      }
      boolean index = !segment.isEmpty() && segment.chars().allMatch(Character::isDigit) && segment.length() < 10;
      if (array && index) {
        if (object) {
          return Found.UNKNOWN;
        }
        JsonNode items = node.get("prefixItems");
        if (items != null && items.isArray() && Integer.parseInt(segment) < items.size()) {
          return resolve(items.get(Integer.parseInt(segment)), segments, i + 1, steps + 1);
        }
        JsonNode item = node.get("items");
        return item != null && item.isObject() && items == null
            ? resolve(item, segments, i + 1, steps + 1) : Found.UNKNOWN;
      }
      if (!object) {
        return Found.UNKNOWN;
      }
      JsonNode properties = node.get("properties");
      if (properties != null && properties.isObject() && properties.has(segment)) {
        return resolve(properties.get(segment), segments, i + 1, steps + 1);
      }
      if (node.has("patternProperties") || node.has("propertyNames")) {
        return Found.UNKNOWN;
      }
      JsonNode additional = node.get("additionalProperties");
      if (additional == null) {
        return Found.UNKNOWN;
      }
      if (additional.isBoolean() && !additional.booleanValue() && declared != null && !declared.contains("array")) {
        String where = pointer(segments, i);
        return new Found(null, true, "allows no property " + where + " (additionalProperties: false)");
      }
      return additional.isObject() ? resolve(additional, segments, i + 1, steps + 1) : Found.UNKNOWN;
    }

    /**
     * A wildcard: the items of an array whose items share one schema, or the properties of an
     * object that allows no others.
     */
    private Found every(
        JsonNode node, @Nullable Set<String> declared, List<String> segments, int i, int steps) {
      if (declared == null || declared.size() != 1) {
        return Found.UNKNOWN;
      }
      if (declared.contains("array")) {
        JsonNode items = node.get("items");
        return items != null && items.isObject() && !node.has("prefixItems")
            ? resolve(items, segments, i + 1, steps + 1) : Found.UNKNOWN;
      }
      JsonNode additional = node.get("additionalProperties");
      JsonNode properties = node.get("properties");
      if (additional == null || !additional.isBoolean() || additional.booleanValue() || properties == null
          || !properties.isObject() || properties.isEmpty() || node.has("patternProperties")) {
        return Found.UNKNOWN;
      }
      tools.jackson.databind.node.ArrayNode values = tools.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
      properties.values().forEach(values::add);
      return union(values, segments, i + 1, steps);
    }

    private Found union(JsonNode branches, List<String> segments, int i, int steps) {
      Set<String> types = new LinkedHashSet<>();
      String why = null;
      for (JsonNode branch : branches) {
        Found found = resolve(branch, segments, i, steps + 1);
        if (!found.known()) {
          return Found.UNKNOWN;
        }
        if (found.absent()) {
          why = found.why();
        } else {
          types.addAll(Objects.requireNonNull(found.types(), "a known, present value has types"));
        }
      }
      if (types.isEmpty()) {
        return why == null ? Found.UNKNOWN : new Found(null, true, why);
      }
      return new Found(types, false, null);
    }

    /** The types a schema object declares, {@code integer} implied by {@code number}; or {@code null}. */
    private static @Nullable Set<String> declared(JsonNode node) {
      JsonNode type = node.get("type");
      Set<String> out = new LinkedHashSet<>();
      if (type == null) {
        return null;
      }
      if (type.isString()) {
        out.add(type.stringValue());
      } else if (type.isArray()) {
        for (JsonNode t : type) {
          if (!t.isString()) {
            return null;
          }
          out.add(t.stringValue());
        }
      } else {
        return null;
      }
      if (out.contains("number")) {
        out.add("integer");
      }
      return out.isEmpty() ? null : out;
    }

    private @Nullable JsonNode local(String ref) {
      if (!ref.startsWith("#")) {
        return null;
      }
      String fragment = ref.substring(1);
      if (fragment.isEmpty()) {
        return root;
      }
      if (!fragment.startsWith("/")) {
        return null;
      }
      try {
        JsonNode found = root.at(JsonPointer.compile(
            java.net.URLDecoder.decode(fragment.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8)));
        return found.isMissingNode() ? null : found;
      } catch (IllegalArgumentException e) {
        return null;
      }
    }

    private static String pointer(List<String> segments, int upTo) {
      StringBuilder out = new StringBuilder();
      for (int k = 0; k <= upTo; k++) {
        out.append('/').append(segments.get(k).replace("~", "~0").replace("/", "~1"));
      }
      return out.toString();
    }
  }

  /** For tests: the types at a pointer, sorted, or {@code null}. */
  static @Nullable Set<String> typesAt(JsonNode schema, String pointer) {
    Found found = at(schema, segments(pointer));
    return found.types() == null ? null : new TreeSet<>(found.types());
  }
}
