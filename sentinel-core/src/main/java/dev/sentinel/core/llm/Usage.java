package dev.sentinel.core.llm;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Tokens a model request used, as its upstream counted them, gathered from an answer or from
 * the events of a stream. Not thread-safe: one per request, on the thread that reads the answer.
 */
public final class Usage {
  private long input = -1;
  private long output = -1;

  /** Whether the upstream reported any usage. */
  public boolean known() {
    return input >= 0 || output >= 0;
  }

  /** Input tokens, or {@code -1}. */
  public long input() {
    return input;
  }

  /** Output tokens, or {@code -1}. */
  public long output() {
    return output;
  }

  /** Input and output tokens together (those reported), or {@code -1} when none were. */
  public long total() {
    return known() ? Math.max(input, 0) + Math.max(output, 0) : -1;
  }

  /**
   * Reads the usage in an answer or a stream event of either API: OpenAI's {@code usage}
   * ({@code prompt_tokens}, {@code completion_tokens}) on a completion, an embeddings answer or
   * a stream's final chunk; Anthropic's {@code usage} ({@code input_tokens}, {@code
   * output_tokens}) on a message, and in a stream's {@code message_start} (under {@code message})
   * and {@code message_delta} (cumulative). Later reports replace earlier ones.
   */
  public void read(JsonNode answer) {
    if (answer == null || !answer.isObject()) {
      return;
    }
    JsonNode usage = answer.get("usage");
    if (usage == null || !usage.isObject()) {
      JsonNode message = answer.get("message");
      usage = message == null ? null : message.get("usage");
    }
    if (usage == null || !usage.isObject()) {
      return;
    }
    input = count(usage, "prompt_tokens", input);
    input = count(usage, "input_tokens", input);
    output = count(usage, "completion_tokens", output);
    output = count(usage, "output_tokens", output);
  }

  private static long count(JsonNode usage, String field, long fallback) {
    JsonNode value = usage.get(field);
    return value != null && value.isIntegralNumber() && value.canConvertToLong() && value.longValue() >= 0
        ? value.longValue() : fallback;
  }

  /** The usage for the audit trail: {@code input}, {@code output}, {@code total}. */
  public ObjectNode toJson() {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    if (input >= 0) {
      out.put("input", input);
    }
    if (output >= 0) {
      out.put("output", output);
    }
    out.put("total", total());
    return out;
  }
}
