package dev.sentinel.mcp.engine;

import dev.sentinel.api.SentinelException;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * A peer (a backend, or a client answering a relayed request) answered with a JSON-RPC error.
 * Thrown by invokers so the audit trail records the call as failed; the original error object
 * is forwarded unchanged.
 */
final class PeerError extends SentinelException {
  private static final long serialVersionUID = 1L;

  private final transient JsonNode error;

  PeerError(JsonNode error) {
    super("the peer answered with error " + error.path("code").asString("?") + ": "
        + error.path("message").asString(""), null, false);
    this.error = error;
  }

  /**
   * An error the gateway makes for the peer's answer (a backend's answer it cannot pass on), in
   * the shape of one the peer sent.
   */
  static PeerError of(ErrorCode code, String message) {
    return new PeerError(JsonRpc.error(JsonNodeFactory.instance.nullNode(), code, message).get("error"));
  }

  /** The error object as the peer sent it. */
  JsonNode error() {
    return error;
  }
}
