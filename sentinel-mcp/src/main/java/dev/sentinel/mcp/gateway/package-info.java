/**
 * The gateway's configuration file: one YAML format for the stdio and HTTP runners, loaded by
 * {@link dev.sentinel.core.config.GatewayConfig#load} into immutable records
 * ({@link dev.sentinel.core.config.Gateway}, {@link dev.sentinel.core.config.Identity},
 * {@link dev.sentinel.core.config.Backend}, {@link dev.sentinel.core.config.Audit}, {@link
 * dev.sentinel.core.config.DatabaseSettings}) with the policy compiled and the kill switch's
 * state ready to apply. {@link dev.sentinel.core.config.Units} parses its durations and sizes.
 *
 * <p>{@link dev.sentinel.mcp.gateway.GatewayRuntime} assembles a gateway from a config; what a
 * database brings (the key store, the {@code database} audit sink) comes in through the {@link
 * dev.sentinel.core.config.Stores} SPI, which sentinel-jdbc implements, so that core does not
 * depend on it.
 *
 * <p>A JSON Schema of the format (draft 2020-12) ships as the class-path resource
 * {@value dev.sentinel.core.config.GatewayConfig#SCHEMA_RESOURCE}, for editors.
 *
 * <p>Every public type here is immutable and thread-safe; none shows a secret in
 * {@code toString()}.
 */
package dev.sentinel.mcp.gateway;
