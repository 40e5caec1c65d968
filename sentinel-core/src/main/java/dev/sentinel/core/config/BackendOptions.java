package dev.sentinel.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How the gateway connects to one backend: the {@link Isolation} of its connections, how many it
 * may hold, and which resource URIs it serves.
 *
 * @param isolation who a connection serves
 * @param maxConnections the most connections (processes, HTTP sessions) open at once for an
 *     isolated backend, counting a spare started ahead; a session that needs one more is refused
 *     with {@code -32014} naming the bound. Ignored for {@link Isolation#SHARED}.
 * @param maxConnectionsPerPrincipal the most of them one principal may hold (with {@link
 *     Isolation#PER_SESSION}, one per session), so that one principal cannot take them all; 0
 *     means a quarter of {@code maxConnections}, at least 1
 * @param idleTimeout how long a {@link Isolation#PER_PRINCIPAL} connection stays open after its
 *     last request once the principal has no session open
 * @param resourcePrefixes URI prefixes this backend serves; when set, a resource URI under one of
 *     them is routed here (the longest prefix of all backends wins), and the backend is never
 *     routed a URI outside them. Empty: routed by what the backend lists.
 * @param validation what a {@code tools/call} whose arguments do not match the tool's listed
 *     {@code inputSchema} gets: refused ({@link Validation#ENFORCE}, the default), forwarded and
 *     recorded ({@link Validation#WARN}), or not checked ({@link Validation#OFF})
 * @param pinning what a tool whose listed definition differs from the pinned one gets
 */
public record BackendOptions(
    Isolation isolation,
    int maxConnections,
    int maxConnectionsPerPrincipal,
    Duration idleTimeout,
    List<String> resourcePrefixes,
    Validation validation,
    Pinning pinning) {

  /**
   * The defaults: per-session isolation, 64 connections, 16 per principal, 10 minutes idle,
   * arguments validated and refused when invalid, tool definitions not pinned (the runners pin
   * them: see {@link Connections#options}).
   */
  public static final BackendOptions DEFAULTS = new BackendOptions(
      Isolation.PER_SESSION, 64, 0, Duration.ofMinutes(10), List.of(), Validation.ENFORCE,
      Pinning.OFF);

  /** Validates and copies. */
  public BackendOptions {
    Objects.requireNonNull(isolation, "isolation");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(validation, "validation");
    Objects.requireNonNull(pinning, "pinning");
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be at least 1, was " + maxConnections);
    }
    if (maxConnectionsPerPrincipal < 0 || maxConnectionsPerPrincipal > maxConnections) {
      throw new IllegalArgumentException("maxConnectionsPerPrincipal must be between 0 and maxConnections ("
          + maxConnections + "), was " + maxConnectionsPerPrincipal);
    }
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idleTimeout must be positive, was " + idleTimeout);
    }
    resourcePrefixes = List.copyOf(resourcePrefixes);
    for (String prefix : resourcePrefixes) {
      if (prefix.isEmpty()) {
        throw new IllegalArgumentException("a resource prefix must not be empty");
      }
    }
  }

  /** The defaults with another isolation. */
  public static BackendOptions of(Isolation isolation) {
    return DEFAULTS.withIsolation(isolation);
  }

  /** A copy with another isolation. */
  public BackendOptions withIsolation(Isolation value) {
    return new BackendOptions(value, maxConnections, maxConnectionsPerPrincipal, idleTimeout, resourcePrefixes, validation,
        pinning);
  }

  /** A copy with other connection bounds ({@code perPrincipal} 0 for a quarter of {@code max}). */
  public BackendOptions withMaxConnections(int max, int perPrincipal) {
    return new BackendOptions(isolation, max, perPrincipal, idleTimeout, resourcePrefixes, validation,
        pinning);
  }

  /** A copy with another idle timeout. */
  public BackendOptions withIdleTimeout(Duration value) {
    return new BackendOptions(isolation, maxConnections, maxConnectionsPerPrincipal, value, resourcePrefixes, validation,
        pinning);
  }

  /** A copy with other resource URI prefixes. */
  public BackendOptions withResourcePrefixes(List<String> value) {
    return new BackendOptions(isolation, maxConnections, maxConnectionsPerPrincipal, idleTimeout, value, validation,
        pinning);
  }

  /** A copy with another argument validation. */
  public BackendOptions withValidation(Validation value) {
    return new BackendOptions(isolation, maxConnections, maxConnectionsPerPrincipal, idleTimeout, resourcePrefixes,
        value, pinning);
  }

  /** A copy with another tool-definition pinning. */
  public BackendOptions withPinning(Pinning value) {
    return new BackendOptions(isolation, maxConnections, maxConnectionsPerPrincipal, idleTimeout, resourcePrefixes,
        validation, value);
  }

  /** The per-principal bound in force: the configured one, or a quarter of the total, at least 1. */
  public int effectiveMaxPerPrincipal() {
    return maxConnectionsPerPrincipal > 0 ? maxConnectionsPerPrincipal : Math.max(1, maxConnections / 4);
  }
}
