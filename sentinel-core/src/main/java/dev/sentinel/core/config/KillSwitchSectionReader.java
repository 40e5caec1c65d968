package dev.sentinel.core.config;

import dev.sentinel.core.killswitch.KillSwitch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code kill_switch:} section (what starts disabled, with reasons) into a
 * {@link KillSwitch.State}, recording every problem in the shared reader. Not thread-safe: one per
 * load.
 */
final class KillSwitchSectionReader {
  static final List<String> KILL_SWITCH_KEYS = List.of("all", "backends", "tools", "principals");

  private final ConfigReader in;
  private final Expander expander;

  KillSwitchSectionReader(ConfigReader in, Expander expander) {
    this.in = in;
    this.expander = expander;
  }

  /** The section, checked against the backends read; empty when absent. */
  KillSwitch.State read(List<Backend> backends) {
    String p = "/kill_switch";
    if (!in.section(p, null, KILL_SWITCH_KEYS)) {
      return KillSwitch.State.EMPTY;
    }
    String all = null;
    if (in.present(p + "/all", null, false)) {
      all = reason(p + "/all", null);
    }
    List<String> names = new ArrayList<>();
    for (Backend backend : backends) {
      names.add(backend.name());
    }
    Map<String, String> disabledBackends = reasons(p + "/backends", "backend names");
    for (String backend : disabledBackends.keySet()) {
      if (!names.contains(backend)) {
        StringBuilder message = new StringBuilder("unknown backend '").append(backend).append('\'');
        Suggestions.nearest(backend, names)
            .ifPresent(s -> message.append("; did you mean '").append(s).append("'?"));
        message.append(" (backends: ").append(String.join(", ", names)).append(')');
        in.error(YamlDocument.child(p + "/backends", backend), null, message.toString());
      }
    }
    Map<String, String> tools = reasons(p + "/tools", "tool globs");
    Map<String, String> principals = reasons(p + "/principals", "principal ids");
    Map<String, String> knownBackends = new LinkedHashMap<>(disabledBackends);
    knownBackends.keySet().retainAll(names);
    return new KillSwitch.State(all, knownBackends, tools, principals);
  }

  private Map<String, String> reasons(String p, String what) {
    Map<String, String> out = new LinkedHashMap<>();
    if (!in.present(p, null, false)) {
      return out;
    }
    JsonNode node = in.node(p);
    if (!node.isObject()) {
      in.error(p, null, "expected a mapping of " + what + " to reasons, such as "
          + "{ name: \"maintenance\" }, got " + ConfigReader.describe(node));
      return out;
    }
    for (String key : node.propertyNames()) {
      String kp = YamlDocument.child(p, key);
      if (key.isBlank()) {
        in.error(kp, null, "a name must not be blank");
        continue;
      }
      String reason = reason(kp, null);
      if (reason != null) {
        out.put(key, reason);
      }
    }
    return out;
  }

  private @Nullable String reason(String p, @Nullable String subject) {
    JsonNode node = in.node(p);
    if (!node.isString() || node.stringValue().isBlank()) {
      in.error(p, subject, "expected the reason as text, such as \"maintenance\", got "
          + ConfigReader.describe(node));
      return null;
    }
    return node.stringValue();
  }
}
