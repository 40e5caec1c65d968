package dev.sentinel.mcp.jsonrpc;

import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Classifies and builds JSON-RPC 2.0 messages as Jackson trees.
 *
 * <p>Ids are strings or integers of at most 64 bits and keep their JSON type: an answer to id
 * {@code 7} carries {@code 7}, an answer to {@code "7"} carries {@code "7"}. Any other id (a
 * fraction such as {@code 1.5} or {@code 1e999}, a larger integer, {@code null}) makes a request
 * invalid, answered with {@code -32600} and id {@code null}: JSON-RPC asks for ids without
 * fractional parts, and such an id could not be answered with the same token by every peer that
 * reads numbers as {@code double} or {@code long}. Stateless and thread-safe.
 */
public final class JsonRpc {
  /** The version member every message carries. */
  public static final String VERSION = "2.0";

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private JsonRpc() {}

  /**
   * Sorts a received tree into a request, notification, response or invalid message. Never
   * throws for bad input: problems come back as {@link JsonRpcMessage.Kind#INVALID} with the id
   * when it could be recovered.
   */
  public static JsonRpcMessage classify(JsonNode message) {
    Objects.requireNonNull(message, "message");
    if (message.isArray()) {
      return invalid(message, null,
          "batches are not supported: MCP 2025-06-18 removed JSON-RPC batching");
    }
    if (!message.isObject()) {
      return invalid(message, null, "a JSON-RPC message must be an object");
    }
    JsonNode idNode = message.get("id");
    JsonNode id = validId(idNode) ? idNode : null;
    JsonNode version = message.get("jsonrpc");
    if (version == null || !version.isString() || !VERSION.equals(version.stringValue())) {
      return invalid(message, id, "\"jsonrpc\" must be \"2.0\"");
    }
    JsonNode params = message.get("params");
    if (message.has("method")) {
      JsonNode method = message.get("method");
      if (!method.isString() || method.stringValue().isEmpty()) {
        return invalid(message, id, "\"method\" must be a non-empty string");
      }
      if (params != null && !params.isObject() && !params.isArray()) {
        return invalid(message, id, "\"params\" must be an object or an array");
      }
      if (idNode == null) {
        return new JsonRpcMessage(JsonRpcMessage.Kind.NOTIFICATION, message, null,
            method.stringValue(), null);
      }
      if (id == null) {
        return invalid(message, null, "\"id\" must be a string or an integer of at most 64 bits");
      }
      return new JsonRpcMessage(JsonRpcMessage.Kind.REQUEST, message, id, method.stringValue(), null);
    }
    boolean hasResult = message.has("result");
    boolean hasError = message.has("error");
    if (hasResult == hasError) {
      return invalid(message, id, hasResult
          ? "a response must not carry both \"result\" and \"error\""
          : "a message needs a \"method\", a \"result\" or an \"error\"");
    }
    if (hasResult) {
      if (id == null) {
        return invalid(message, null, "a result must carry a string or integer \"id\"");
      }
      return new JsonRpcMessage(JsonRpcMessage.Kind.RESULT, message, id, null, null);
    }
    JsonNode error = message.get("error");
    if (!error.isObject() || !error.path("code").isIntegralNumber()) {
      return invalid(message, id, "\"error\" must be an object with an integer \"code\"");
    }
    if (id == null && idNode != null && !idNode.isNull()) {
      return invalid(message, null, "\"id\" must be a string, an integer or null");
    }
    return new JsonRpcMessage(JsonRpcMessage.Kind.ERROR, message, id, null, null);
  }

  /**
   * Whether a node is a valid request id: a string, or an integer that fits in 64 bits (the
   * gateway's own ids are {@code long}s, and an id it accepts it answers with the same token).
   */
  public static boolean validId(@Nullable JsonNode id) {
    return id != null && (id.isString() || id.isIntegralNumber() && id.canConvertToLong());
  }

  /**
   * Whether a node is a valid progress token: a string or any number (MCP's {@code
   * ProgressToken}). Tokens are only ever given back as the same node, so any number will do.
   */
  public static boolean validToken(@Nullable JsonNode token) {
    return token != null && (token.isString() || token.isNumber());
  }

  /** A request; {@code params} may be {@code null}. */
  public static ObjectNode request(JsonNode id, String method, @Nullable JsonNode params) {
    ObjectNode message = NODES.objectNode().put("jsonrpc", VERSION);
    message.set("id", Objects.requireNonNull(id, "id"));
    message.put("method", Objects.requireNonNull(method, "method"));
    if (params != null && !params.isMissingNode()) {
      message.set("params", params);
    }
    return message;
  }

  /** A notification; {@code params} may be {@code null}. */
  public static ObjectNode notification(String method, @Nullable JsonNode params) {
    ObjectNode message = NODES.objectNode().put("jsonrpc", VERSION);
    message.put("method", Objects.requireNonNull(method, "method"));
    if (params != null && !params.isMissingNode()) {
      message.set("params", params);
    }
    return message;
  }

  /** A successful response. */
  public static ObjectNode result(JsonNode id, JsonNode result) {
    ObjectNode message = NODES.objectNode().put("jsonrpc", VERSION);
    message.set("id", Objects.requireNonNull(id, "id"));
    message.set("result", Objects.requireNonNull(result, "result"));
    return message;
  }

  /** An error response; a {@code null} id becomes JSON {@code null}; {@code data} is optional. */
  public static ObjectNode error(
      @Nullable JsonNode id, int code, String message, @Nullable JsonNode data) {
    ObjectNode error = NODES.objectNode().put("code", code).put("message", Objects.requireNonNull(message, "message"));
    if (data != null) {
      error.set("data", data);
    }
    return errorResponse(id, error);
  }

  /** An error response with one of Sentinel's codes; a {@code null} id becomes JSON null. */
  public static ObjectNode error(@Nullable JsonNode id, ErrorCode code, String message) {
    return error(id, code.code(), message, null);
  }

  /**
   * An error response carrying an existing error object unchanged; a {@code null} id becomes JSON
   * {@code null}.
   */
  public static ObjectNode errorResponse(@Nullable JsonNode id, JsonNode error) {
    ObjectNode message = NODES.objectNode().put("jsonrpc", VERSION);
    message.set("id", id == null ? NODES.nullNode() : id);
    message.set("error", Objects.requireNonNull(error, "error"));
    return message;
  }

  /** The {@code -32700} response to bytes that are not JSON; {@code detail} may be {@code null}. */
  public static ObjectNode parseError(@Nullable String detail) {
    return error(null, ErrorCode.PARSE_ERROR, "parse error" + (detail == null ? "" : ": " + detail));
  }

  /**
   * The {@code -32600} response to an invalid message, with its id when recoverable.
   *
   * @throws IllegalArgumentException if the message is not invalid
   */
  public static ObjectNode invalidRequest(JsonRpcMessage invalid) {
    if (invalid.kind() != JsonRpcMessage.Kind.INVALID) {
      throw new IllegalArgumentException("not an invalid message: " + invalid.kind());
    }
    return error(invalid.id(), ErrorCode.INVALID_REQUEST, "invalid request: " + invalid.problem());
  }

  /** The {@code -32601} response naming the method. */
  public static ObjectNode methodNotFound(JsonNode id, String method) {
    return error(id, ErrorCode.METHOD_NOT_FOUND, "method not found: " + method);
  }

  /** An id as text: the string itself, or the number's text; {@code null} for none. */
  public static @Nullable String idText(@Nullable JsonNode id) {
    if (id == null || id.isNull() || id.isMissingNode()) {
      return null;
    }
    if (id.isString()) {
      return id.stringValue();
    }
    if (id.isIntegralNumber() && id.canConvertToLong()) {
      // The same text as toString, which serializes the node through a Jackson generator: a
      // visible share of the stdio gateway's CPU per call, asked several times per request.
      return Long.toString(id.longValue());
    }
    return id.toString();
  }

  /**
   * A key that tells ids and progress tokens apart by type as well as value: string {@code "1"}
   * and number {@code 1} are different ids. Integers compare by value (an {@code int} and a
   * {@code long} 1 are one key); other numbers, which are never valid ids, only progress tokens
   * (given back as the same node), by their exact text, which stays as short as it was received
   * ({@code 1e999999} is never expanded into its digits). Never throws for a number.
   */
  public static String idKey(@Nullable JsonNode id) {
    if (id == null || id.isNull() || id.isMissingNode()) {
      return "null";
    }
    if (id.isString()) {
      return "s:" + id.stringValue();
    }
    if (id.isIntegralNumber()) {
      return "n:" + (id.canConvertToLong() ? Long.toString(id.longValue()) : id.bigIntegerValue().toString());
    }
    if (id.isNumber()) {
      // BigDecimal.toString or Double.toString: NaN and Infinity have no decimal value
      return "f:" + id.numberValue();
    }
    return "j:" + id;
  }

  private static JsonRpcMessage invalid(JsonNode raw, @Nullable JsonNode id, String problem) {
    return new JsonRpcMessage(JsonRpcMessage.Kind.INVALID, raw, id, null, problem);
  }
}
