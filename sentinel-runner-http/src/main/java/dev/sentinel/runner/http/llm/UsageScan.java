package dev.sentinel.runner.http.llm;

import dev.sentinel.core.llm.Usage;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads the usage of a whole answer without reading the answer into a tree: the answer's tokens
 * are passed over, and only its {@code usage} object (or its {@code message}'s, Anthropic's shape
 * in a stream's first event) is read, then given to {@link Usage#read} as it would have found it.
 * An answer that is not one valid JSON value reports no usage, as {@link Usage#read} of a failed
 * parse would not. Stateless and thread-safe.
 */
final class UsageScan {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private UsageScan() {}

  /** Notes in {@code usage} what the answer reports; nothing when it reports none or is not JSON. */
  static void read(byte[] answer, Usage usage) {
    JsonNode top = null;
    JsonNode inMessage = null;
    try (JsonParser parser = JSON.createParser(answer)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return; // no usage in anything but an object
      }
      while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        if (name.equals("usage")) {
          // Later keys replace earlier ones, as in a tree.
          top = value == JsonToken.START_OBJECT ? parser.readValueAsTree() : skip(parser);
        } else if (name.equals("message") && value == JsonToken.START_OBJECT) {
          JsonNode found = null;
          while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String inner = parser.currentName();
            JsonToken innerValue = parser.nextToken();
            if (inner.equals("usage")) {
              found = innerValue == JsonToken.START_OBJECT ? parser.readValueAsTree()
                  : skip(parser);
            } else {
              parser.skipChildren();
            }
          }
          inMessage = found;
        } else {
          if (name.equals("message")) {
            inMessage = null;
          }
          parser.skipChildren();
        }
      }
      if (parser.nextToken() != null) {
        return; // more than one value: not JSON
      }
    } catch (JacksonException notJson) {
      return;
    }
    ObjectNode found = JsonNodeFactory.instance.objectNode();
    if (top != null) {
      found.set("usage", top);
    }
    if (inMessage != null) {
      found.putObject("message").set("usage", inMessage);
    }
    usage.read(found);
  }

  private static @Nullable JsonNode skip(JsonParser parser) {
    parser.skipChildren();
    return null;
  }
}
