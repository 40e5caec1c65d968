package dev.sentinel.runner.http;

import dev.sentinel.core.internal.WireJson;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Parses request bodies within the gateway's limits and writes messages as compact JSON, numbers
 * as they were received ({@link WireJson}).
 *
 * <p>Immutable and thread-safe.
 */
final class Json {
  private final WireJson json;
  private final int maxDepth;

  Json(int maxDepth, long maxBytes) {
    int bound = (int) Math.min(Integer.MAX_VALUE, maxBytes);
    StreamReadConstraints constraints = StreamReadConstraints.builder()
        .maxNestingDepth(maxDepth)
        .maxStringLength(bound)
        .maxDocumentLength(bound)
        .maxNameLength(bound)
        .build();
    this.json = new WireJson(constraints);
    this.maxDepth = maxDepth;
  }

  /** A parsed body, or the JSON-RPC error (without id) to answer it with. */
  record Parsed(@Nullable JsonNode message, @Nullable ObjectNode error) {}

  /** Parses a body into a JSON value; never throws for bad input. */
  Parsed parse(byte[] body) {
    try {
      JsonNode node = json.read(body, 0, body.length);
      if (node == null || node.isMissingNode()) {
        return new Parsed(null, JsonRpc.parseError("the body is empty"));
      }
      return new Parsed(node, null);
    } catch (StreamConstraintsException e) {
      String text = String.valueOf(e.getOriginalMessage()).toLowerCase(Locale.ROOT);
      if (text.contains("depth")) {
        return new Parsed(null, JsonRpc.error(null, ErrorCode.INVALID_REQUEST,
            "invalid request: the message nests deeper than " + maxDepth));
      }
      return new Parsed(null, JsonRpc.error(null, ErrorCode.INVALID_REQUEST,
          "invalid request: the message is too large"));
    } catch (JacksonException e) {
      return new Parsed(null, JsonRpc.parseError(where(e)));
    }
  }

  /** The compact JSON of a message. */
  byte[] bytes(JsonNode message) {
    return json.write(message);
  }

  /** The compact JSON of a message as text. */
  String text(JsonNode message) {
    return new String(bytes(message), StandardCharsets.UTF_8);
  }

  private static String where(JacksonException e) {
    // Where, not what: Jackson's messages quote the input, which is not echoed back.
    if (e.getLocation() == null || e.getLocation().getLineNr() < 1) {
      return "the body is not valid JSON";
    }
    return "the body is not valid JSON (line " + e.getLocation().getLineNr()
        + ", column " + e.getLocation().getColumnNr() + ")";
  }
}
