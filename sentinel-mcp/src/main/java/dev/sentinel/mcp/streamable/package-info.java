/**
 * MCP's Streamable HTTP transport, server side, without an HTTP server: the sessions
 * ({@link dev.sentinel.mcp.streamable.StreamableSession}) and their SSE streams, resumption and
 * output bounds, the stateless (2026-07-28) exchange
 * ({@link dev.sentinel.mcp.streamable.StatelessExchange}), and what the sessions of one endpoint
 * share, per principal ({@link dev.sentinel.mcp.streamable.StreamableHub}).
 *
 * <p>An HTTP server adapter authenticates and classifies each request once, then hands it to a
 * session with the one thing it implements: the request's
 * {@link dev.sentinel.mcp.streamable.ResponseChannel}. {@code sentinel http}'s Jetty handler is
 * such an adapter; the tests of this package use an in-memory one.
 */
@NullMarked
package dev.sentinel.mcp.streamable;

import org.jspecify.annotations.NullMarked;
