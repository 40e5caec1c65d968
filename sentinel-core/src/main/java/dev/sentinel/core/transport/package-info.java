/**
 * Stock {@link dev.sentinel.api.Transport} implementations. The stdio and Streamable HTTP
 * transports arrive with the gateways; {@link dev.sentinel.core.transport.InProcessTransport}
 * connects an embedded client and server without serialization.
 */
package dev.sentinel.core.transport;
