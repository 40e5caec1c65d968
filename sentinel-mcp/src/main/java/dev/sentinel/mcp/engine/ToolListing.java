package dev.sentinel.mcp.engine;

import dev.sentinel.core.pinning.ToolDefinitions;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * The tool definitions one backend connection ({@link Upstream}) listed, by the backend's own
 * tool name: what its calls' arguments are validated against.
 *
 * <p>Definitions are kept per connection, not per backend: with isolated connections each
 * session's calls are checked against what its own connection listed, so nothing one client does
 * to its connection's tool list (a server whose tools change with its client's actions) weakens
 * the checks on another's.
 *
 * <p>A listing is trusted only for the generation it was made in. A connection's
 * {@code notifications/tools/list_changed}, and its going down or coming back up, start a new
 * generation: the definitions listed before are no longer trusted, and the next call lists the
 * tools again before it is checked (a rug pull that swaps a schema cannot keep the old one in
 * force, nor have its new one ignored).
 *
 * <p>Thread-safe: state is replaced whole under the instance lock.
 */
final class ToolListing {
  /** The most tools one listing remembers. */
  static final int MAX_TOOLS = 10_000;

  /**
   * One listed tool: its definition and schema as listed, the compiled schema once a call needed
   * it, and its pin digest ({@link ToolPins}) once pinning asked for it.
   */
  static final class Tool {
    final String name;
    final JsonNode definition;
    final JsonNode inputSchema;
    final String digest;
    volatile @Nullable ToolSchema compiled;
    private volatile @Nullable String canonical;
    private volatile @Nullable String pinDigest;

    Tool(String name, JsonNode definition) {
      this.name = name;
      this.definition = definition;
      this.inputSchema = definition.path("inputSchema");
      this.digest = ToolSchema.digest(inputSchema);
    }

    /** The canonical JSON of the pinned fields ({@link ToolDefinitions#canonicalJson}). */
    String canonical() {
      String text = canonical;
      if (text == null) {
        text = ToolDefinitions.canonicalJson(definition);
        canonical = text;
      }
      return text;
    }

    /** The pin if it is known already, else {@code null}. */
    @Nullable String knownPinDigest() {
      return pinDigest;
    }

    /** Sets the pin, found for an equal definition ({@link ToolPins}). */
    void knownPinDigest(String value) {
      pinDigest = value;
    }

    /** The pin of the definition ({@link ToolDefinitions#digest}), computed once. */
    String pinDigest() {
      String value = pinDigest;
      if (value == null) {
        value = ToolDefinitions.sha256(canonical());
        pinDigest = value;
      }
      return value;
    }
  }

  /** What a connection listed in one generation. */
  record Snapshot(long generation, Map<String, Tool> tools) {}

  private long generation;
  private Snapshot snapshot = new Snapshot(-1, Map.of());
  private long learnedAt;
  private boolean learned;

  /**
   * Whether the gateway may list the tools itself now for a name it does not know: not if it
   * began doing so less than {@code interval} nanoseconds ago in this generation, so that calls
   * of made-up names cannot make it list a backend's tools over and over.
   */
  synchronized boolean mayLearn(long now, long interval) {
    return !(learned && snapshot.generation() == generation && now - learnedAt < interval);
  }

  /** The gateway begins listing the tools itself, at {@code now} (nanoseconds). */
  synchronized void learning(long now) {
    learned = true;
    learnedAt = now;
  }

  /** The definitions listed in the current generation, or {@code null} when there are none. */
  synchronized @Nullable Snapshot current() {
    return snapshot.generation() == generation ? snapshot : null;
  }

  /** The current generation, taken before a listing is asked for. */
  synchronized long generation() {
    return generation;
  }

  /** The definitions may have changed: nothing listed so far is trusted any more. */
  synchronized void invalidate() {
    generation++;
  }

  /**
   * Records one page of a listing asked for in {@code asOf}; ignored if the generation has moved
   * on since. Pages of the same generation add up; a newer generation replaces the old.
   *
   * @return the tools of the page whose definitions were new or changed, for the caller to check
   *     against the policy
   */
  synchronized Map<String, Tool> page(long asOf, JsonNode items) {
    if (asOf != generation) {
      return Map.of();
    }
    Map<String, Tool> tools = new HashMap<>(snapshot.generation() == asOf ? snapshot.tools() : Map.of());
    Map<String, Tool> changed = new HashMap<>();
    for (JsonNode item : items) {
      JsonNode name = item.path("name");
      if (!name.isString() || (tools.size() >= MAX_TOOLS && !tools.containsKey(name.stringValue()))) {
        continue;
      }
      Tool before = tools.get(name.stringValue());
      // The whole definition is compared, not only the schema: its pin covers the description.
      if (before == null || !before.definition.equals(item)) {
        Tool tool = new Tool(name.stringValue(), item);
        tools.put(tool.name, tool);
        changed.put(tool.name, tool);
      }
    }
    snapshot = new Snapshot(asOf, Map.copyOf(tools));
    return changed;
  }
}
