/**
 * JSON-RPC 2.0 messages over Jackson trees, as MCP uses them.
 *
 * <p>{@link dev.sentinel.mcp.jsonrpc.JsonRpc#classify} sorts a received tree into a request,
 * notification, result or error response, or an invalid message, and keeps the raw object so
 * that fields Sentinel does not know survive forwarding. {@link dev.sentinel.mcp.jsonrpc.ErrorCode}
 * lists every error code Sentinel sends: the JSON-RPC ones and Sentinel's own refusal codes.
 *
 * <p>Batches (JSON arrays of messages) are invalid: MCP 2025-03-26 allowed them and 2025-06-18
 * removed them again, so Sentinel answers a batch with {@code -32600}.
 */
@NullMarked
package dev.sentinel.mcp.jsonrpc;

import org.jspecify.annotations.NullMarked;
