package dev.sentinel.runner.http;

import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Writes complete, non-streaming HTTP answers. Stateless. */
final class Replies {
  static final String JSON = "application/json";
  static final String EVENT_STREAM = "text/event-stream";

  private Replies() {}

  /** A JSON body with a status; completes the callback when written. */
  static void json(Response response, Callback callback, int status, byte[] body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.write(true, ByteBuffer.wrap(body), callback);
  }

  /** A JSON-RPC error without id, with an HTTP status. */
  static void error(Json json, Response response, Callback callback, int status, ErrorCode code, String message) {
    json(response, callback, status, json.bytes(JsonRpc.error(null, code, message)));
  }

  /** A prepared JSON-RPC error object (from parsing), with an HTTP status. */
  static void error(Json json, Response response, Callback callback, int status, ObjectNode error) {
    json(response, callback, status, json.bytes(error));
  }

  /**
   * A 500 for an unexpected failure: generic text and an error id for the client, the failure
   * under that id in the log. Never the exception's class or message, which can carry paths,
   * URLs or another principal's data.
   */
  static void internalError(Json json, Response response, Callback callback, Logger log, String what,
      Throwable cause) {
    error(json, response, callback, 500, ErrorCode.INTERNAL_ERROR, logged(log, what, cause));
  }

  /**
   * Logs an unexpected failure under a new error id; answers the text for the client, which
   * names only the id.
   *
   * @param what what failed, for the log line (such as "handling a POST")
   * @param cause the failure, or {@code null} when there is none to show
   */
  static String logged(Logger log, String what, @Nullable Throwable cause) {
    String id = HexFormat.of().formatHex(
        ByteBuffer.allocate(8).putLong(ThreadLocalRandom.current().nextLong()).array()).substring(0, 12);
    log.warn("{} failed (error id {})", what, id, cause);
    return "internal error (error id " + id + "); the gateway's log has the details";
  }

  /** A status without a body. */
  static void empty(Response response, Callback callback, int status) {
    response.setStatus(status);
    response.write(true, null, callback);
  }

  /** A JSON body of any shape. */
  static void json(Json json, Response response, Callback callback, int status, JsonNode body) {
    json(response, callback, status, json.bytes(body));
  }

  /** Prepares an SSE response's status and headers. */
  static void sseHeaders(Response response) {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, EVENT_STREAM);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache, no-store");
    // Asks reverse proxies such as nginx not to buffer the stream.
    response.getHeaders().put("X-Accel-Buffering", "no");
  }
}
