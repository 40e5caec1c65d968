/**
 * Reading configuration files with their locations: a YAML loader that remembers the line and
 * column of every node ({@link dev.sentinel.core.config.YamlDocument}), a checker that validates
 * keys and values while collecting every problem ({@link dev.sentinel.core.config.ConfigReader}),
 * and the exception that reports them ({@link dev.sentinel.core.config.ConfigException}).
 *
 * <p>Shared by the policy compiler and the gateway's config loader, so that every bad line in any
 * Sentinel file is reported the same way: {@code file:line:column: subject: message}.
 */
package dev.sentinel.core.config;
