package dev.sentinel.examples.embedding;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * An application's own tools: names mapped to handlers from JSON arguments to a JSON result. It
 * knows nothing of governance; {@link GovernedTools} wraps it.
 */
public final class ToolRegistry {
  private final Map<String, Function<JsonNode, JsonNode>> tools = new TreeMap<>();

  /** Registers a tool. */
  public ToolRegistry register(String name, Function<JsonNode, JsonNode> handler) {
    tools.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(handler, "handler"));
    return this;
  }

  /** Runs a tool; a name it does not know (or none) is an {@link IllegalArgumentException}. */
  public JsonNode run(@Nullable String name, JsonNode arguments) {
    Function<JsonNode, JsonNode> handler = name == null ? null : tools.get(name);
    if (handler == null) {
      throw new IllegalArgumentException("no tool named " + name);
    }
    return handler.apply(arguments);
  }
}
