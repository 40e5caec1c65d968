package dev.sentinel.core.config;

import dev.sentinel.api.Principal;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code server:} section: how {@code sentinel http} listens. {@code sentinel stdio}
 * ignores it. Immutable.
 *
 * @param host the address to bind; loopback by default
 * @param port the port to bind; 0 picks a free one
 * @param path the MCP endpoint's path
 * @param allowedOrigins the browser origins accepted; empty for the loopback defaults
 * @param allowedHosts the {@code Host} header values accepted; empty for the loopback defaults
 * @param maxSessions the most MCP sessions open at once
 * @param maxSessionsPerPrincipal the most MCP sessions one principal may hold at once, so that
 *     one caller cannot take every session; at most {@code maxSessions}
 * @param maxStreamsPerPrincipal the most SSE streams (GET streams and streamed POST answers) one
 *     principal may hold open at once; each holds a connection, so at most
 *     {@code maxConnections}
 * @param maxConnections the most TCP connections open at once; further connections wait to be
 *     accepted
 * @param headerTimeout how long a request's head (request line and headers) may take to arrive,
 *     from the connection's opening for its first request and from its first bytes for later
 *     ones; a connection over it is closed
 * @param keepAlive the interval of keep-alive comments on idle SSE streams
 * @param sessionIdleTimeout how long an unused session lives
 * @param drainTimeout how long a stop waits for requests in flight
 * @param anonymous the principal of requests that carry no credentials, when set; by default
 *     such requests are refused with 401
 * @param admin the operators' credentials; without them the admin endpoints are not served
 * @param jwt how bearer JSON Web Tokens are verified; without it only API keys are accepted
 * @param oauth the protected resource metadata served at
 *     {@code /.well-known/oauth-protected-resource}
 * @param publicMetrics whether {@code /metrics} is served without the admin token (for a
 *     scraper on a private network); by default it needs the token
 * @param tls the certificate and key to serve HTTPS with; plain HTTP without it
 */
public record Server(
    String host,
    int port,
    String path,
    Set<String> allowedOrigins,
    Set<String> allowedHosts,
    int maxSessions,
    int maxSessionsPerPrincipal,
    int maxStreamsPerPrincipal,
    int maxConnections,
    Duration headerTimeout,
    Duration keepAlive,
    Duration sessionIdleTimeout,
    Duration drainTimeout,
    Optional<Principal> anonymous,
    Optional<Admin> admin,
    Optional<Jwt> jwt,
    OAuth oauth,
    boolean publicMetrics,
    Optional<Tls> tls) {

  /** The default bind address: loopback only. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** The default port. */
  public static final int DEFAULT_PORT = 8080;
  /** The default endpoint path. */
  public static final String DEFAULT_PATH = "/mcp";
  /** The default bound on open sessions. */
  public static final int DEFAULT_MAX_SESSIONS = 1_000;
  /** The default bound on open connections. */
  public static final int DEFAULT_MAX_CONNECTIONS = 1_000;
  /** The default bound on one principal's sessions: a quarter of {@link #DEFAULT_MAX_SESSIONS}. */
  public static final int DEFAULT_MAX_SESSIONS_PER_PRINCIPAL = perPrincipal(DEFAULT_MAX_SESSIONS);
  /** The default bound on one principal's open streams: a quarter of {@link #DEFAULT_MAX_CONNECTIONS}. */
  public static final int DEFAULT_MAX_STREAMS_PER_PRINCIPAL = perPrincipal(DEFAULT_MAX_CONNECTIONS);
  /**
   * The default header timeout: 10 s, ample for any client that means to send a request, and
   * short enough that connections trickling a header line now and then cannot hold the
   * connection limit.
   */
  public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
  /** The default keep-alive interval: 25 s, below the 100 s after which proxies close streams. */
  public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(25);
  /** The default session idle timeout: 30 minutes. */
  public static final Duration DEFAULT_SESSION_IDLE_TIMEOUT = Duration.ofMinutes(30);
  /** The default drain timeout: 10 seconds. */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(10);

  /** Every setting at its default. */
  public static final Server DEFAULTS = new Server(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PATH,
      Set.of(), Set.of(), DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
      DEFAULT_MAX_STREAMS_PER_PRINCIPAL, DEFAULT_MAX_CONNECTIONS, DEFAULT_HEADER_TIMEOUT,
      DEFAULT_KEEP_ALIVE, DEFAULT_SESSION_IDLE_TIMEOUT, DEFAULT_DRAIN_TIMEOUT, Optional.empty(),
      Optional.empty(), Optional.empty(), OAuth.DEFAULTS, false, Optional.empty());

  /**
   * The default share of a limit one principal may take when the config names none: a quarter,
   * at least 1. A quarter leaves room for three others even when one caller takes all it may,
   * while a single user with several clients (an IDE, a CLI, agents in CI) stays far below it.
   */
  public static int perPrincipal(int limit) {
    return Math.max(1, limit / 4);
  }

  /** Validates and copies. */
  public Server {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0 to 65535, was " + port);
    }
    Objects.requireNonNull(path, "path");
    if (!path.startsWith("/") || path.length() < 2) {
      throw new IllegalArgumentException("path must start with '/' and name an endpoint");
    }
    allowedOrigins = Set.copyOf(allowedOrigins);
    allowedHosts = Set.copyOf(allowedHosts);
    if (maxSessions < 1 || maxConnections < 1) {
      throw new IllegalArgumentException("max_sessions and max_connections must be positive");
    }
    if (maxSessionsPerPrincipal < 1 || maxSessionsPerPrincipal > maxSessions) {
      throw new IllegalArgumentException("max_sessions_per_principal must be 1 to max_sessions ("
          + maxSessions + "), was " + maxSessionsPerPrincipal);
    }
    if (maxStreamsPerPrincipal < 1 || maxStreamsPerPrincipal > maxConnections) {
      throw new IllegalArgumentException("max_streams_per_principal must be 1 to max_connections ("
          + maxConnections + "), was " + maxStreamsPerPrincipal);
    }
    Gateway.requirePositive(headerTimeout, "header_timeout");
    Gateway.requirePositive(keepAlive, "keep_alive");
    Gateway.requirePositive(sessionIdleTimeout, "session_idle_timeout");
    Objects.requireNonNull(drainTimeout, "drain_timeout");
    if (drainTimeout.isNegative()) {
      throw new IllegalArgumentException("drain_timeout must not be negative");
    }
    Objects.requireNonNull(anonymous, "anonymous");
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(jwt, "jwt");
    Objects.requireNonNull(oauth, "oauth");
    Objects.requireNonNull(tls, "tls");
  }

  /** Settings that serve plain HTTP (no {@code tls}); the other parameters as the record's. */
  public Server(String host, int port, String path, Set<String> allowedOrigins,
      Set<String> allowedHosts, int maxSessions, int maxSessionsPerPrincipal,
      int maxStreamsPerPrincipal, int maxConnections, Duration headerTimeout, Duration keepAlive,
      Duration sessionIdleTimeout, Duration drainTimeout, Optional<Principal> anonymous,
      Optional<Admin> admin, Optional<Jwt> jwt, OAuth oauth, boolean publicMetrics) {
    this(host, port, path, allowedOrigins, allowedHosts, maxSessions, maxSessionsPerPrincipal,
        maxStreamsPerPrincipal, maxConnections, headerTimeout, keepAlive, sessionIdleTimeout,
        drainTimeout, anonymous, admin, jwt, oauth, publicMetrics, Optional.empty());
  }
}
