package dev.sentinel.mcp.engine;

import dev.sentinel.api.Transport;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import tools.jackson.databind.JsonNode;

/**
 * An exchange whose transport classified its message already (to route it: a request, an
 * answer, a session-opening {@code initialize}): the engine takes that classification instead of
 * making its own, so each message is classified once.
 */
public interface McpExchange extends Transport.Exchange {

  /** The message, classified; {@link JsonRpcMessage#raw()} is {@link #message()}. */
  JsonRpcMessage classified();

  @Override
  default JsonNode message() {
    return classified().raw();
  }
}
