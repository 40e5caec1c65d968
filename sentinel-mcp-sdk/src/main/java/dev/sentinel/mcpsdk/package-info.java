/**
 * Sentinel for the official MCP Java SDK: {@link dev.sentinel.mcpsdk.McpGovernance} governs a
 * server's tools, resources and prompts in-process; {@link dev.sentinel.mcpsdk.Caller} and {@link
 * dev.sentinel.mcpsdk.CallerResolver} say who is calling.
 */
@NullMarked
package dev.sentinel.mcpsdk;

import org.jspecify.annotations.NullMarked;
