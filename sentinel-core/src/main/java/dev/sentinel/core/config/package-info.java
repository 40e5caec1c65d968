/**
 * Configuration: the gateway's config file and the reading of every Sentinel file with its
 * locations.
 *
 * <p>The gateway's config file is one YAML format for the stdio and HTTP runners, loaded by
 * {@link dev.sentinel.core.config.GatewayConfig#load} into immutable records
 * ({@link dev.sentinel.core.config.Gateway}, {@link dev.sentinel.core.config.Identity},
 * {@link dev.sentinel.core.config.Backend} with its {@link dev.sentinel.core.config.Connections},
 * {@link dev.sentinel.core.config.Audit}, {@link dev.sentinel.core.config.DatabaseSettings},
 * {@link dev.sentinel.core.config.Server}) with the policy compiled and the kill switch's state
 * ready to apply. {@link dev.sentinel.core.config.Units} parses its durations and sizes;
 * {@link dev.sentinel.core.config.BackendOptions} (with {@link dev.sentinel.core.config.Isolation}
 * and {@link dev.sentinel.core.config.Validation}) is what a backend's settings resolve to for
 * the MCP engine. Reading a config needs no engine: the runtime that serves one
 * ({@code GatewayRuntime}) is in the module sentinel-mcp.
 *
 * <p>What a database brings to a gateway (the key store, the {@code database} audit sink, shared
 * limits and kill switch) comes in through the {@link dev.sentinel.core.config.Stores} SPI, which
 * sentinel-jdbc implements, so that core does not depend on it.
 *
 * <p>A JSON Schema of the format (draft 2020-12), for editors, ships with the command line
 * ({@code sentinel config schema} prints it), not in this library: embedders do not carry it.
 *
 * <p>Underneath, shared by the policy compiler and the config loader so that every bad line in
 * any Sentinel file is reported the same way ({@code file:line:column: subject: message}): a YAML
 * loader that remembers the line and column of every node
 * ({@link dev.sentinel.core.config.YamlDocument}), a checker that validates keys and values while
 * collecting every problem ({@link dev.sentinel.core.config.ConfigReader}), and the exception that
 * reports them ({@link dev.sentinel.core.config.ConfigException}). The loader itself only reads
 * the file and assembles the result: each top-level section has its own package-private reader
 * ({@code GatewaySectionReader}, {@code BackendsSectionReader}, {@code AuditSectionReader}, ...)
 * over that one checker, so every problem of every section is still reported together.
 *
 * <p>Every public record here is immutable and thread-safe; none shows a secret in
 * {@code toString()}.
 */
@NullMarked
package dev.sentinel.core.config;

import org.jspecify.annotations.NullMarked;
