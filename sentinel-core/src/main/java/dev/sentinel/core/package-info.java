/**
 * The front door: {@link dev.sentinel.core.Sentinel#builder()} assembles an immutable,
 * thread-safe pipeline that governs calls in-process: authenticate, kill switch, policy, rate
 * limits, confirmation, invoke, audit.
 *
 * <p>Sub-packages hold the stock parts: {@code policy} (YAML policies), {@code limit} (Bucket4j
 * limits), {@code auth} (API keys), {@code killswitch}, {@code audit} (redaction, dispatch,
 * sinks), {@code config} (the gateway's config file and its reading). Types in {@code internal}
 * are not API. The MCP engine, the transports and the gateway runtime are in the module
 * sentinel-mcp, so that an embedder of the pipeline gets no web stack.
 */
@NullMarked
package dev.sentinel.core;

import org.jspecify.annotations.NullMarked;
