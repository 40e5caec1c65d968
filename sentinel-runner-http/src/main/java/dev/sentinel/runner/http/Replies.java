package dev.sentinel.runner.http;

import dev.sentinel.core.jsonrpc.ErrorCode;
import dev.sentinel.core.jsonrpc.JsonRpc;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
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
