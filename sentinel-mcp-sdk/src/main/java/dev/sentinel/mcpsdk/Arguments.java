package dev.sentinel.mcpsdk;

import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The arguments the pipeline decides on, as Jackson's tree, made from the map the SDK parsed and
 * hands to the handler. Only this direction is taken: the handler always gets the SDK's own
 * object, so a value the conversion could render differently is decided as the handler reads it.
 */
final class Arguments {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  private Arguments() {}

  /** The tree of a request's arguments; {@code null} (no arguments) stays {@code null}. */
  static JsonNode tree(Map<String, Object> arguments) {
    return arguments == null ? null : MAPPER.valueToTree(arguments);
  }
}
