/**
 * State that gateways on one database share for the protocol: the signing key and the
 * redemptions of the {@code requestState} of MCP 2026-07-28 multi round-trip requests ({@link
 * dev.sentinel.core.state.RequestStateLedger}).
 */
@NullMarked
package dev.sentinel.core.state;

import org.jspecify.annotations.NullMarked;
