package dev.sentinel.core.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code gateway:} section: the gateway's name, how backend names qualify tool names, and
 * the limits on time, pending requests and message size and depth. Immutable.
 *
 * @param name the gateway's name, reported to clients as the server name
 * @param namespacing how tool, prompt and resource names are qualified by their backend
 * @param requestTimeout how long a request may wait for its backend's reply
 * @param startTimeout how long a backend may take to start and answer {@code initialize}
 * @param maxPendingRequests the most requests one client may have in flight
 * @param maxMessageBytes the largest JSON-RPC message accepted, in bytes
 * @param maxDepth the deepest nesting of JSON arrays and objects accepted in a message
 * @param maxInFlightPerPrincipal the most requests one principal may have in flight across all
 *     its sessions
 * @param maxTasksPerPrincipal the most live tasks (MCP's Tasks extension) one principal may hold
 *     through the gateway
 * @param maxTasks the most tasks the gateway holds, of every principal together; at least {@code
 *     maxTasksPerPrincipal}
 */
public record Gateway(
    String name,
    Namespacing namespacing,
    Duration requestTimeout,
    Duration startTimeout,
    int maxPendingRequests,
    long maxMessageBytes,
    int maxDepth,
    int maxInFlightPerPrincipal,
    int maxTasksPerPrincipal,
    int maxTasks) {

  /** The default name. */
  public static final String DEFAULT_NAME = "sentinel";
  /** The default request timeout: 60 seconds. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);
  /** The default start timeout: 30 seconds. */
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(30);
  /** The default bound on pending requests: 256. */
  public static final int DEFAULT_MAX_PENDING_REQUESTS = 256;
  /** The default largest message: 4 MiB. */
  public static final long DEFAULT_MAX_MESSAGE_BYTES = 4L * 1024 * 1024;
  /** The largest {@code max_message_bytes} accepted: 1 GiB. */
  public static final long MAX_MESSAGE_BYTES_LIMIT = 1024L * 1024 * 1024;
  /** The default nesting bound: 64. */
  public static final int DEFAULT_MAX_DEPTH = 64;
  /** The largest {@code max_depth} accepted: 1000. */
  public static final int MAX_DEPTH_LIMIT = 1000;
  /** The default bound on one principal's requests in flight: 32, an eighth of the workers. */
  public static final int DEFAULT_MAX_IN_FLIGHT_PER_PRINCIPAL = 32;
  /** The default bound on one principal's live tasks: 32. */
  public static final int DEFAULT_MAX_TASKS_PER_PRINCIPAL = 32;
  /** The default bound on the gateway's tasks: 10,000. */
  public static final int DEFAULT_MAX_TASKS = 10_000;
  /** The largest {@code max_tasks} accepted: 1,000,000. */
  public static final int MAX_TASKS_LIMIT = 1_000_000;

  /** Every setting at its default. */
  public static final Gateway DEFAULTS = new Gateway(DEFAULT_NAME, Namespacing.DEFAULTS,
      DEFAULT_REQUEST_TIMEOUT, DEFAULT_START_TIMEOUT, DEFAULT_MAX_PENDING_REQUESTS,
      DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_IN_FLIGHT_PER_PRINCIPAL,
      DEFAULT_MAX_TASKS_PER_PRINCIPAL, DEFAULT_MAX_TASKS);

  /** Validates. */
  public Gateway {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("gateway name must not be blank");
    }
    Objects.requireNonNull(namespacing, "namespacing");
    requirePositive(requestTimeout, "request_timeout");
    requirePositive(startTimeout, "start_timeout");
    if (maxPendingRequests <= 0) {
      throw new IllegalArgumentException("max_pending_requests must be positive");
    }
    if (maxMessageBytes <= 0 || maxMessageBytes > MAX_MESSAGE_BYTES_LIMIT) {
      throw new IllegalArgumentException("max_message_bytes must be between 1 and 1GiB");
    }
    if (maxDepth <= 0 || maxDepth > MAX_DEPTH_LIMIT) {
      throw new IllegalArgumentException("max_depth must be between 1 and " + MAX_DEPTH_LIMIT);
    }
    if (maxInFlightPerPrincipal <= 0) {
      throw new IllegalArgumentException("max_in_flight_per_principal must be positive");
    }
    if (maxTasks < 1 || maxTasks > MAX_TASKS_LIMIT) {
      throw new IllegalArgumentException("max_tasks must be between 1 and " + MAX_TASKS_LIMIT);
    }
    if (maxTasksPerPrincipal < 1 || maxTasksPerPrincipal > maxTasks) {
      throw new IllegalArgumentException("max_tasks_per_principal must be 1 to max_tasks (" + maxTasks
          + "), was " + maxTasksPerPrincipal);
    }
  }

  /** The settings of a config without the tasks' bounds, which take their defaults. */
  public Gateway(String name, Namespacing namespacing, Duration requestTimeout, Duration startTimeout,
      int maxPendingRequests, long maxMessageBytes, int maxDepth, int maxInFlightPerPrincipal) {
    this(name, namespacing, requestTimeout, startTimeout, maxPendingRequests, maxMessageBytes, maxDepth,
        maxInFlightPerPrincipal, DEFAULT_MAX_TASKS_PER_PRINCIPAL, DEFAULT_MAX_TASKS);
  }

  static Duration requirePositive(Duration duration, String what) {
    Objects.requireNonNull(duration, what);
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(what + " must be positive");
    }
    return duration;
  }

  /**
   * How names from several backends are kept apart: a tool {@code read_file} of backend
   * {@code fs} is shown as {@code fs__read_file}.
   *
   * @param separator what joins the backend name and the name; not blank, no whitespace
   * @param prefixSingleBackend whether names are prefixed even when there is only one backend
   */
  public record Namespacing(String separator, boolean prefixSingleBackend) {

    /** The default: separator {@code __}, prefix always. */
    public static final Namespacing DEFAULTS = new Namespacing("__", true);

    /** Validates. */
    public Namespacing {
      Objects.requireNonNull(separator, "separator");
      if (separator.isEmpty() || !separator.strip().equals(separator)
          || separator.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException("separator must be non-empty without whitespace");
      }
    }

    /** Whether names are prefixed, given the number of backends. */
    public boolean prefixes(int backendCount) {
      return prefixSingleBackend || backendCount != 1;
    }

    /** The qualified name of a backend's tool, prompt or resource template name. */
    public String qualify(String backend, String name) {
      return backend + separator + name;
    }
  }
}
