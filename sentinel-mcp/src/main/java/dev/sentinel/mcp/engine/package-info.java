/**
 * The MCP gateway engine: {@link dev.sentinel.mcp.engine.McpGateway} serves MCP clients over any
 * {@link dev.sentinel.api.Transport}, aggregates backend MCP servers, and passes every routed
 * request through {@link dev.sentinel.core.Sentinel}.
 *
 * <p>Version handling lives in {@link dev.sentinel.mcp.engine.McpRevision}; error codes in
 * {@link dev.sentinel.mcp.jsonrpc.ErrorCode}. Everything else here is package-private: the
 * backend connections, the router and the namespacing rules.
 *
 * <h2>Governance of list methods</h2>
 *
 * <p>{@code tools/list}, {@code prompts/list}, {@code resources/list} and
 * {@code resources/templates/list} pass through {@code Sentinel.call} with no backend and no
 * name, so they are audited and a policy must allow them (for example a rule with
 * {@code methods: ["*&#47;list"]}). Their items are then filtered one by one with
 * {@code Sentinel.visible}, asking about the method that would use the item.
 *
 * <h2>Argument validation</h2>
 *
 * <p>A {@code tools/call}'s arguments are validated against the tool's listed
 * {@code inputSchema} ({@link dev.sentinel.mcp.engine.ToolSchema}) before {@code Sentinel.call}
 * decides it; {@link dev.sentinel.core.config.Validation} says what an invalid call gets.
 */
@NullMarked
package dev.sentinel.mcp.engine;

import org.jspecify.annotations.NullMarked;
