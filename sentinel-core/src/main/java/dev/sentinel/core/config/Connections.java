package dev.sentinel.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A backend's engine settings from the config ({@code isolation}, {@code max_connections},
 * {@code max_connections_per_principal}, {@code idle_timeout}, {@code resource_prefixes},
 * {@code validate}, {@code pinning}), each absent unless set; the runtime fills in the defaults for the backend's
 * kind and the runner.
 *
 * @param isolation who a connection serves, or {@code null} for the default
 * @param maxConnections the bound on an isolated backend's connections, or 0 for the default
 * @param maxConnectionsPerPrincipal the bound per principal, or 0 for a quarter of the total
 * @param idleTimeout how long an idle per-principal connection stays open, or {@code null}
 * @param resourcePrefixes the resource URI prefixes the backend serves; empty: routed by its lists
 * @param validation what calls whose arguments do not match the tool's input schema get, or
 *     {@code null} for the default ({@link Validation#ENFORCE}, in both runners)
 * @param pinningMode what a changed tool definition gets, or {@code null} for the default
 *     ({@link Pinning.Mode#ENFORCE} in {@code sentinel http}, {@link Pinning.Mode#WARN} in
 *     {@code sentinel stdio})
 * @param blockHiddenInstructions whether definitions carrying hidden instructions are held
 */
public record Connections(
    @Nullable Isolation isolation,
    int maxConnections,
    int maxConnectionsPerPrincipal,
    @Nullable Duration idleTimeout,
    List<String> resourcePrefixes,
    @Nullable Validation validation,
    Pinning.@Nullable Mode pinningMode,
    boolean blockHiddenInstructions) {

  /** Nothing set. */
  public static final Connections DEFAULTS =
      new Connections(null, 0, 0, null, List.of(), null, null, false);

  /** The default bound on a stdio backend's isolated connections (each is a process): 16. */
  public static final int DEFAULT_MAX_STDIO = 16;
  /** The default bound on an HTTP backend's isolated connections (each is a backend session): 256. */
  public static final int DEFAULT_MAX_HTTP = 256;

  /** Validates and copies. */
  public Connections {
    if (maxConnections < 0 || maxConnectionsPerPrincipal < 0) {
      throw new IllegalArgumentException("connection bounds must not be negative");
    }
    if (maxConnections > 0 && maxConnectionsPerPrincipal > maxConnections) {
      throw new IllegalArgumentException("max_connections_per_principal must not exceed max_connections");
    }
    resourcePrefixes = List.copyOf(Objects.requireNonNull(resourcePrefixes, "resourcePrefixes"));
  }

  /**
   * The engine's options for a backend of this kind: what is set here, else the defaults. The
   * default isolation is a connection per session for HTTP backends; for stdio backends, a
   * connection per session when the gateway serves one client ({@code sentinel stdio}) and one
   * shared connection when it serves many ({@code sentinel http}), where a process per session
   * would not scale; a shared connection never relays the server's requests or logs to a client.
   * Tool definitions are pinned and enforced by default where many clients are served, and
   * pinned with warnings where one person runs the gateway for themselves.
   *
   * @param backend the backend these settings belong to
   * @param manyClients whether the gateway serves many clients
   */
  public BackendOptions options(Backend backend, boolean manyClients) {
    boolean stdio = backend instanceof StdioBackend;
    Isolation chosen = isolation != null ? isolation
        : stdio && manyClients ? Isolation.SHARED : Isolation.PER_SESSION;
    int max = maxConnections > 0 ? maxConnections : stdio ? DEFAULT_MAX_STDIO : DEFAULT_MAX_HTTP;
    BackendOptions options = BackendOptions.of(chosen)
        .withMaxConnections(max, Math.min(maxConnectionsPerPrincipal, max))
        .withResourcePrefixes(resourcePrefixes)
        .withValidation(validation != null ? validation : Validation.ENFORCE)
        .withPinning(new Pinning(pinningMode != null ? pinningMode
            : manyClients ? Pinning.Mode.ENFORCE : Pinning.Mode.WARN, blockHiddenInstructions));
    return idleTimeout == null ? options : options.withIdleTimeout(idleTimeout);
  }
}
