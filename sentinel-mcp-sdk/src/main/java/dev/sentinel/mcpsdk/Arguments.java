package dev.sentinel.mcpsdk;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;

/**
 * The arguments the pipeline decides on, as Jackson's tree, made from the map the SDK parsed and
 * hands to the handler. Only this direction is taken: the handler always gets the SDK's own
 * object, so a value the conversion could render differently is decided as the handler reads it.
 */
final class Arguments {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  private Arguments() {}

  /**
   * No arguments: the missing node, which a {@link dev.sentinel.api.Request} takes as none (an
   * empty object), as it takes {@code null}.
   */
  static final JsonNode NONE = MissingNode.getInstance();

  /** The tree of a request's arguments; {@code null} (no arguments) is {@link #NONE}. */
  static JsonNode tree(@Nullable Map<String, Object> arguments) {
    return arguments == null ? NONE : MAPPER.valueToTree(arguments);
  }
}
