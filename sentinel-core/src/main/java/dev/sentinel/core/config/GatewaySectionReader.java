package dev.sentinel.core.config;

import java.time.Duration;
import java.util.List;

/**
 * Reads the config's {@code gateway:} section (name, namespacing, timeouts and message limits)
 * into {@link Gateway}, recording every problem in the shared reader. Not thread-safe: one per
 * load.
 */
final class GatewaySectionReader {
  static final List<String> GATEWAY_KEYS =
      List.of("name", "namespacing", "request_timeout", "start_timeout", "max_pending_requests",
          "max_message_bytes", "max_depth", "max_in_flight_per_principal", "max_tasks_per_principal",
          "max_tasks");
  static final List<String> NAMESPACING_KEYS = List.of("separator", "prefix_single_backend");

  private final ConfigReader in;
  private final Expander expander;

  GatewaySectionReader(ConfigReader in, Expander expander) {
    this.in = in;
    this.expander = expander;
  }

  /** The section, or {@link Gateway#DEFAULTS} when absent; problems are recorded. */
  Gateway read() {
    String p = "/gateway";
    if (!in.section(p, null, GATEWAY_KEYS)) {
      return Gateway.DEFAULTS;
    }
    String name = Gateway.DEFAULT_NAME;
    if (in.present(p + "/name", null, false)) {
      String text = in.string(p + "/name", null, "the gateway's name");
      if (text != null && text.isBlank()) {
        in.error(p + "/name", null, "the gateway's name must not be blank");
      } else if (text != null) {
        name = text;
      }
    }
    Gateway.Namespacing namespacing = namespacing(p + "/namespacing");
    Duration requestTimeout = in.duration(p + "/request_timeout", null, Gateway.DEFAULT_REQUEST_TIMEOUT);
    Duration startTimeout = in.duration(p + "/start_timeout", null, Gateway.DEFAULT_START_TIMEOUT);
    int pending = in.integer(p + "/max_pending_requests", null, "max_pending_requests",
        Gateway.DEFAULT_MAX_PENDING_REQUESTS, 1_000_000);
    long bytes = in.size(p + "/max_message_bytes", null, Gateway.DEFAULT_MAX_MESSAGE_BYTES,
        Gateway.MAX_MESSAGE_BYTES_LIMIT);
    int depth = in.integer(p + "/max_depth", null, "max_depth", Gateway.DEFAULT_MAX_DEPTH,
        Gateway.MAX_DEPTH_LIMIT);
    int inFlight = in.integer(p + "/max_in_flight_per_principal", null, "max_in_flight_per_principal",
        Gateway.DEFAULT_MAX_IN_FLIGHT_PER_PRINCIPAL, 1_000_000);
    int tasks = in.integer(p + "/max_tasks", null, "max_tasks", Gateway.DEFAULT_MAX_TASKS,
        Gateway.MAX_TASKS_LIMIT);
    int tasksEach = in.integer(p + "/max_tasks_per_principal", null, "max_tasks_per_principal",
        Math.min(Gateway.DEFAULT_MAX_TASKS_PER_PRINCIPAL, tasks), tasks);
    return new Gateway(name, namespacing, requestTimeout, startTimeout, pending, bytes, depth, inFlight,
        tasksEach, tasks);
  }

  private Gateway.Namespacing namespacing(String p) {
    if (!in.section(p, null, NAMESPACING_KEYS)) {
      return Gateway.Namespacing.DEFAULTS;
    }
    String separator = Gateway.Namespacing.DEFAULTS.separator();
    if (in.present(p + "/separator", null, false)) {
      String text = in.string(p + "/separator", null, "a separator such as \"__\"");
      if (text != null) {
        if (text.isEmpty() || text.chars().anyMatch(Character::isWhitespace)) {
          in.error(p + "/separator", null,
              "the separator must be non-empty and contain no whitespace, such as \"__\"");
        } else {
          separator = text;
        }
      }
    }
    boolean prefix = in.bool(p + "/prefix_single_backend", null,
        Gateway.Namespacing.DEFAULTS.prefixSingleBackend());
    return new Gateway.Namespacing(separator, prefix);
  }
}
