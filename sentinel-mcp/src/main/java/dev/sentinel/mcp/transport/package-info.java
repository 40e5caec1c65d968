/**
 * Stock {@link dev.sentinel.api.Transport} implementations: newline-delimited JSON-RPC over the
 * gateway's own stdin and stdout ({@link dev.sentinel.mcp.transport.StdioTransport}), a backend
 * child process ({@link dev.sentinel.mcp.transport.ProcessTransport}), a backend over MCP
 * Streamable HTTP ({@link dev.sentinel.mcp.transport.StreamableHttpTransport}), and an in-process
 * pair ({@link dev.sentinel.mcp.transport.InProcessTransport}) that connects an embedded client
 * and server without serialization.
 *
 * <p>The transports know JSON-RPC framing, not MCP semantics (the HTTP transport reads just
 * enough of {@code initialize} to carry the session and protocol-version headers). Every
 * incoming message is bounded by {@link dev.sentinel.mcp.transport.FrameLimits}.
 */
@NullMarked
package dev.sentinel.mcp.transport;

import org.jspecify.annotations.NullMarked;
