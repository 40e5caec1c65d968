/**
 * {@code sentinel stdio}: one MCP client on stdin/stdout, fronting the configured backends
 * through the governance pipeline. Wiring only; everything reusable is in sentinel-core.
 */
@NullMarked
package dev.sentinel.runner.stdio;

import org.jspecify.annotations.NullMarked;
