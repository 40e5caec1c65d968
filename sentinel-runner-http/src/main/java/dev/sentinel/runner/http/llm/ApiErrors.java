package dev.sentinel.runner.http.llm;

import dev.sentinel.core.llm.LlmApi;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Error bodies in each API's own shape, so that the official clients raise their usual
 * exceptions: OpenAI's {@code {"error": {"message", "type", "param", "code"}}} and Anthropic's
 * {@code {"type": "error", "error": {"type", "message"}}}. Messages are the gateway's own text,
 * never an exception's.
 */
final class ApiErrors {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private ApiErrors() {}

  /** The body of an error with this HTTP status; {@code param} (OpenAI only) may be null. */
  static ObjectNode body(LlmApi api, int status, String message, @Nullable String param) {
    if (api == LlmApi.ANTHROPIC) {
      ObjectNode out = NODES.objectNode().put("type", "error");
      out.putObject("error").put("type", anthropicType(status)).put("message", message);
      return out;
    }
    ObjectNode out = NODES.objectNode();
    ObjectNode error = out.putObject("error").put("message", message)
        .put("type", openAiType(status));
    if (param == null) {
      error.putNull("param");
    } else {
      error.put("param", param);
    }
    error.put("code", openAiCode(status));
    return out;
  }

  /** The bytes of an error event for a stream that has begun. */
  static byte[] event(LlmApi api, int status, String message) {
    String data = body(api, status, message, null).toString();
    String event = api == LlmApi.ANTHROPIC
        ? "event: error\ndata: " + data + "\n\n"
        : "data: " + data + "\n\n";
    return event.getBytes(StandardCharsets.UTF_8);
  }

  private static String anthropicType(int status) {
    switch (status) {
      case 400:
        return "invalid_request_error";
      case 401:
        return "authentication_error";
      case 403:
        return "permission_error";
      case 404:
        return "not_found_error";
      case 413:
        return "request_too_large";
      case 429:
        return "rate_limit_error";
      case 503:
        return "overloaded_error";
      case 504:
        return "timeout_error";
      default:
        return "api_error";
    }
  }

  private static String openAiType(int status) {
    switch (status) {
      case 401:
        return "authentication_error";
      case 403:
        return "permission_error";
      case 429:
        return "rate_limit_error";
      default:
        return status < 500 ? "invalid_request_error" : "server_error";
    }
  }

  private static String openAiCode(int status) {
    switch (status) {
      case 401:
        return "invalid_api_key";
      case 403:
        return "permission_denied";
      case 404:
        return "not_found";
      case 413:
        return "request_too_large";
      case 429:
        return "rate_limit_exceeded";
      case 502:
        return "upstream_error";
      case 504:
        return "upstream_timeout";
      default:
        return status < 500 ? "invalid_request" : "server_error";
    }
  }
}
