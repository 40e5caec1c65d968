/**
 * The gateway runtime: {@link dev.sentinel.mcp.gateway.GatewayRuntime} assembles a running
 * gateway (the pipeline, the MCP engine, a transport per backend, audit sinks, the kill switch and
 * its stores) from a loaded {@link dev.sentinel.core.config.GatewayConfig}, and swaps a new config
 * in on reload. {@link dev.sentinel.mcp.gateway.ConfigReloader} loads and applies a changed file,
 * {@link dev.sentinel.mcp.gateway.ConfigWatcher} does so when the file changes on disk, and
 * {@link dev.sentinel.mcp.gateway.ToolReport} lists the backends' tools with the problems their
 * schemas have.
 *
 * <p>The runners ({@code sentinel stdio}, {@code sentinel http}) serve a runtime; what a database
 * brings comes in through core's {@link dev.sentinel.core.config.Stores}, which sentinel-jdbc
 * implements. The config's records and reading are in sentinel-core
 * ({@link dev.sentinel.core.config}), so that reading a config needs no engine.
 *
 * <p>Every type here is thread-safe: the reloader serializes reloads, and a tool report is
 * immutable.
 */
@NullMarked
package dev.sentinel.mcp.gateway;

import org.jspecify.annotations.NullMarked;
