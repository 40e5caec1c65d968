package dev.sentinel.mcp.transport;

import dev.sentinel.core.internal.WireJson;
import java.io.ByteArrayOutputStream;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns one frame's bytes into a JSON tree under the {@link FrameLimits} (Jackson's
 * {@link StreamReadConstraints} for depth and lengths), and a message into compact JSON plus
 * {@code \n}. Compact JSON never holds a raw newline (JSON escapes control characters in
 * strings), so one message is always one line. Numbers are written as they were received
 * ({@link WireJson}).
 *
 * <p>Thread-safe and immutable.
 */
final class JsonFraming {
  private static final int MAX_REASON = 200;

  private final FrameLimits limits;
  private final WireJson json;

  JsonFraming(FrameLimits limits) {
    this.limits = limits;
    StreamReadConstraints constraints =
        StreamReadConstraints.builder()
            .maxNestingDepth(limits.maxDepth())
            .maxStringLength(limits.maxMessageBytes())
            .maxDocumentLength(limits.maxMessageBytes())
            .maxNameLength(limits.maxMessageBytes())
            .build();
    this.json = new WireJson(constraints);
  }

  FrameLimits limits() {
    return limits;
  }

  /**
   * Parses one frame into any JSON value.
   *
   * @throws FrameException with -32700 for text that is not JSON, -32600 for a value too deep or
   *     too long
   */
  JsonNode parse(byte[] bytes, int offset, int length) {
    if (length > limits.maxMessageBytes()) {
      throw tooLong();
    }
    try {
      JsonNode node = json.read(bytes, offset, length);
      if (node == null || node.isMissingNode()) {
        throw new FrameException(FrameException.PARSE_ERROR, "Parse error: empty message");
      }
      return node;
    } catch (StreamConstraintsException e) {
      String text = String.valueOf(e.getOriginalMessage());
      if (text.toLowerCase(java.util.Locale.ROOT).contains("depth")) {
        throw new FrameException(
            FrameException.INVALID_REQUEST,
            "message nesting exceeds depth " + limits.maxDepth());
      }
      throw tooLong();
    } catch (JacksonException e) {
      throw new FrameException(
          FrameException.PARSE_ERROR, "Parse error: " + reason(e.getOriginalMessage()));
    }
  }

  /**
   * Parses one frame that must be a JSON-RPC message: an object, or an array (a batch, as
   * revision 2025-03-26 allows).
   */
  JsonNode parseMessage(byte[] bytes, int offset, int length) {
    JsonNode node = parse(bytes, offset, length);
    if (!node.isObject() && !node.isArray()) {
      throw new FrameException(
          FrameException.INVALID_REQUEST,
          "Invalid Request: a JSON-RPC message must be an object or an array");
    }
    return node;
  }

  FrameException tooLong() {
    return new FrameException(
        FrameException.INVALID_REQUEST,
        "message exceeds " + limits.maxMessageBytes() + " bytes");
  }

  /** The compact JSON of the message followed by {@code \n}. */
  byte[] frame(JsonNode message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    json.write(out, message);
    out.write('\n');
    return out.toByteArray();
  }

  /** The compact JSON of the message, without a line end (an HTTP body). */
  byte[] bytes(JsonNode message) {
    return json.write(message);
  }

  /** A JSON-RPC error response, {@code id} may be a null node or null. */
  static ObjectNode error(@Nullable JsonNode id, int code, String message) {
    ObjectNode response = JsonNodeFactory.instance.objectNode();
    response.put("jsonrpc", "2.0");
    response.set("id", id == null ? JsonNodeFactory.instance.nullNode() : id);
    ObjectNode error = response.putObject("error");
    error.put("code", code);
    error.put("message", message);
    return response;
  }

  private static String reason(@Nullable String message) {
    if (message == null) {
      return "malformed JSON";
    }
    // Jackson's messages can run over several lines and quote the input; keep the first line
    int newline = message.indexOf('\n');
    String first = newline < 0 ? message : message.substring(0, newline);
    return first.length() <= MAX_REASON ? first : first.substring(0, MAX_REASON) + "...";
  }
}
