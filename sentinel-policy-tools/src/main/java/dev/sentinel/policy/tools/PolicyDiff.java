package dev.sentinel.policy.tools;

import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.config.YamlDocument;
import dev.sentinel.core.policy.PolicyEngine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * What changed between two policy files, section by section: rules and limits by id, roles by
 * name. A rule is changed when any of its members differs in meaning: key order, quoting and
 * comments are not changes (members are compared as canonical JSON). Rule order is not compared:
 * it does not change a decision (deny beats allow whatever the order).
 *
 * @param rules the rules' changes
 * @param roles the roles' changes
 * @param limits the limits' changes
 */
public record PolicyDiff(Section rules, Section roles, Section limits) {

  /**
   * One section's changes.
   *
   * @param added ids present only in the new policy, in its order
   * @param removed ids present only in the old policy, in its order
   * @param changed ids in both whose definitions differ, each with the members that differ
   */
  public record Section(List<String> added, List<String> removed, Map<String, List<String>> changed) {
    /** Copies. */
    public Section {
      added = List.copyOf(added);
      removed = List.copyOf(removed);
      changed = Map.copyOf(changed);
    }

    /** Whether nothing changed. */
    public boolean isEmpty() {
      return added.isEmpty() && removed.isEmpty() && changed.isEmpty();
    }
  }

  /**
   * Compares two policies' texts. Both must be valid policies: compile them first (with {@link
   * PolicyEngine#parse}) to report their errors with locations.
   */
  public static PolicyDiff compare(String oldYaml, String oldSource, String newYaml, String newSource) {
    JsonNode before = YamlDocument.parse(oldYaml, oldSource).root();
    JsonNode after = YamlDocument.parse(newYaml, newSource).root();
    return new PolicyDiff(
        byId(items(before, "rules"), items(after, "rules")),
        byName(before == null ? null : before.get("roles"), after == null ? null : after.get("roles")),
        byId(items(before, "limits"), items(after, "limits")));
  }

  /** Whether nothing changed in any section. */
  public boolean isEmpty() {
    return rules.isEmpty() && roles.isEmpty() && limits.isEmpty();
  }

  private static Map<String, JsonNode> items(@Nullable JsonNode root, String section) {
    Map<String, JsonNode> byId = new LinkedHashMap<>();
    JsonNode list = root == null ? null : root.get(section);
    if (list != null && list.isArray()) {
      for (JsonNode item : list) {
        JsonNode id = item.get("id");
        if (id != null && id.isString()) {
          byId.put(id.stringValue(), item);
        }
      }
    }
    return byId;
  }

  private static Section byName(@Nullable JsonNode before, @Nullable JsonNode after) {
    Map<String, JsonNode> old = new LinkedHashMap<>();
    Map<String, JsonNode> neu = new LinkedHashMap<>();
    if (before != null && before.isObject()) {
      before.properties().forEach(e -> old.put(e.getKey(), e.getValue()));
    }
    if (after != null && after.isObject()) {
      after.properties().forEach(e -> neu.put(e.getKey(), e.getValue()));
    }
    return byId(old, neu);
  }

  private static Section byId(Map<String, JsonNode> before, Map<String, JsonNode> after) {
    List<String> added = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    Map<String, List<String>> changed = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : after.entrySet()) {
      JsonNode old = before.get(entry.getKey());
      if (old == null) {
        added.add(entry.getKey());
      } else {
        List<String> members = differingMembers(old, entry.getValue());
        if (!members.isEmpty()) {
          changed.put(entry.getKey(), members);
        }
      }
    }
    for (String id : before.keySet()) {
      if (!after.containsKey(id)) {
        removed.add(id);
      }
    }
    return new Section(added, removed, changed);
  }

  /** The top-level members whose canonical values differ; the whole value if not objects. */
  private static List<String> differingMembers(JsonNode before, JsonNode after) {
    if (!before.isObject() || !after.isObject()) {
      return same(before, after) ? List.of() : List.of("(value)");
    }
    Set<String> names = new LinkedHashSet<>();
    before.propertyNames().forEach(names::add);
    after.propertyNames().forEach(names::add);
    List<String> members = new ArrayList<>();
    for (String name : names) {
      JsonNode a = before.get(name);
      JsonNode b = after.get(name);
      if (a == null || b == null || !same(a, b)) {
        members.add(name);
      }
    }
    return members;
  }

  private static boolean same(JsonNode a, JsonNode b) {
    return Arrays.equals(CanonicalJson.bytes(Objects.requireNonNull(a)), CanonicalJson.bytes(b));
  }
}
