/**
 * Tool-definition pinning: each backend tool's definition is pinned as the SHA-256 of its
 * canonical JSON ({@link dev.sentinel.core.pinning.ToolDefinitions}); a definition that differs
 * from the pinned one is held until an operator approves it. The pins live in a {@link
 * dev.sentinel.core.pinning.PinStore} (in memory, or sentinel-jdbc's table that every gateway on
 * the database shares); {@link dev.sentinel.core.pinning.Pins} holds the one rule for what a new
 * sighting does to a pin.
 */
@NullMarked
package dev.sentinel.core.pinning;

import org.jspecify.annotations.NullMarked;
