/**
 * The front door: {@link dev.sentinel.core.Sentinel#builder()} assembles an immutable,
 * thread-safe pipeline that governs calls in-process: authenticate, kill switch, policy, rate
 * limits, confirmation, invoke, audit.
 *
 * <p>Sub-packages hold the stock parts: {@code policy} (YAML policies), {@code limit} (Bucket4j
 * limits), {@code auth} (API keys), {@code killswitch}, {@code audit} (redaction, dispatch,
 * sinks), {@code transport}. Types in {@code internal} are not API.
 */
package dev.sentinel.core;
