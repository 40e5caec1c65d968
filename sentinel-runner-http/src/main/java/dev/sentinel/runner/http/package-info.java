/**
 * {@code sentinel http}: a {@link dev.sentinel.mcp.gateway.GatewayRuntime} served to MCP clients
 * over the Streamable HTTP transport on Jetty 12, with authentication on every request, sessions
 * bound to their principal, Origin and Host validation against DNS rebinding, body limits, SSE
 * keep-alive, health endpoints, Prometheus metrics and a graceful drain.
 * {@link dev.sentinel.runner.http.HttpGateway} is the one public type here (its metrics are
 * sentinel-metrics' {@code dev.sentinel.metrics}, its JWT verification sentinel-jwt's {@code
 * dev.sentinel.jwt}); everything else is an implementation detail.
 */
@NullMarked
package dev.sentinel.runner.http;

import org.jspecify.annotations.NullMarked;
