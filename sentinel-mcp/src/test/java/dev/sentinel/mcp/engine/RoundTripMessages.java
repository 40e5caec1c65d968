package dev.sentinel.mcp.engine;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** The messages of multi round-trip tests: stateless calls, their retries with answers, questions and results. */
final class RoundTripMessages {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private RoundTripMessages() {}

  /** A stateless call of {@code tool} with argument {@code who: me}, declaring these client capabilities. */
  static ObjectNode call(String tool, String... capabilities) {
    ObjectNode params = StatelessClientTest.params();
    ObjectNode declared = (ObjectNode) params.get("_meta").get(StatelessMeta.CLIENT_CAPABILITIES);
    for (String capability : capabilities) {
      declared.putObject(capability);
    }
    params.put("name", tool);
    params.putObject("arguments").put("who", "me");
    return params;
  }

  /** The call sent again with one answer and the state of {@code asked}. */
  static ObjectNode retry(ObjectNode call, JsonNode asked, String key, JsonNode answer) {
    ObjectNode retry = call.deepCopy();
    retry.putObject("inputResponses").set(key, answer);
    retry.put("requestState", asked.path("requestState").asString());
    return retry;
  }

  /** An elicitation answer accepting {@code name}. */
  static ObjectNode accept(String name) {
    ObjectNode answer = NODES.objectNode().put("action", "accept");
    answer.putObject("content").put("name", name);
    return answer;
  }

  /** An elicitation's params asking for a name. */
  static ObjectNode question(String message) {
    ObjectNode params = NODES.objectNode().put("message", message);
    params.putObject("requestedSchema").put("type", "object").putObject("properties")
        .putObject("name").put("type", "string");
    return params;
  }

  /** A tool result with one text item. */
  static ObjectNode text(String text) {
    ObjectNode result = NODES.objectNode();
    result.putArray("content").addObject().put("type", "text").put("text", text);
    return result;
  }
}
