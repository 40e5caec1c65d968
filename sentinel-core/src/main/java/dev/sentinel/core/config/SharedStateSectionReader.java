package dev.sentinel.core.config;

import dev.sentinel.core.limit.LimitSync;
import dev.sentinel.core.limit.SharedLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code shared_state:} section (how limits are shared, and the Redis they
 * are shared through) into {@link SharedState}, recording every problem in the shared reader.
 * Not thread-safe: one per load.
 */
final class SharedStateSectionReader {
  static final List<String> SHARED_STATE_KEYS = List.of("limits", "redis");
  static final List<String> SHARED_LIMITS_KEYS = List.of("sync", "on_unavailable");
  static final List<String> REDIS_KEYS =
      List.of("url", "username", "password", "ca_file", "timeout", "kill_switch");

  private final ConfigReader in;
  private final Expander expander;

  SharedStateSectionReader(ConfigReader in, Expander expander) {
    this.in = in;
    this.expander = expander;
  }

  /** The section, or {@link SharedState#DEFAULTS} when absent; problems are recorded. */
  SharedState read() {
    String p = "/shared_state";
    if (!in.section(p, null, SHARED_STATE_KEYS)) {
      return SharedState.DEFAULTS;
    }
    SharedLimits limits = SharedLimits.DEFAULTS;
    if (in.section(p + "/limits", null, SHARED_LIMITS_KEYS)) {
      limits = new SharedLimits(limitSync(p + "/limits/sync"),
          in.choice(p + "/limits/on_unavailable", SharedLimits.OnUnavailable.class,
              SharedLimits.OnUnavailable.DENY));
    }
    RedisSettings redis = null;
    String r = p + "/redis";
    if (in.section(r, null, REDIS_KEYS) && in.present(r + "/url", null, true)) {
      String raw = in.secretText(r + "/url", null, "a Redis URL such as redis://127.0.0.1:6379/0");
      String url = raw == null ? null : expander.expand(raw, r + "/url", null);
      String username = expander.optionalSecret(r + "/username", "a user name");
      String password = expander.optionalSecret(r + "/password", "a password reference such as "
          + "\"${env:REDIS_PASSWORD}\"");
      Path caFile = null;
      if (in.present(r + "/ca_file", null, false)) {
        String file = in.string(r + "/ca_file", null, "a PEM file of CA certificates");
        if (file != null) {
          // Refused, not dropped: without its CA file, rediss:// would trust the JVM's CAs.
          caFile = expander.resolve(file);
          if (caFile == null || file.isBlank()) {
            in.error(r + "/ca_file", null, "'" + file + "' is not a valid path");
            caFile = null;
          }
        }
      }
      Duration timeout = in.duration(r + "/timeout", null, RedisSettings.DEFAULT_TIMEOUT);
      boolean killSwitch = in.bool(r + "/kill_switch", null, true);
      if (raw != null && url != null) {
        String lower = url.strip().toLowerCase(Locale.ROOT);
        if (!lower.startsWith("redis://") && !lower.startsWith("rediss://")) {
          in.error(r + "/url", null, "unsupported Redis url " + ConfigReader.describeSecret(raw)
              + ": expected redis://host:6379/0, or rediss://host:6380/0 for TLS");
        } else if (caFile != null && !lower.startsWith("rediss://")) {
          in.error(r + "/ca_file", null, "ca_file is for TLS, but the url is not rediss://; "
              + "use rediss://, or remove ca_file");
        } else {
          redis = new RedisSettings(url.strip(), username, password, caFile, timeout, killSwitch);
        }
      }
    }
    return new SharedState(limits, redis);
  }

  /** {@code exact}, {@code batched(N)} or {@code delayed(interval)}; exact when absent. */
  private LimitSync limitSync(String p) {
    if (!in.present(p, null, false)) {
      return LimitSync.exact();
    }
    JsonNode node = in.node(p);
    if (!node.isString()) {
      in.error(p, null, LimitSync.EXPECTED + ", got " + ConfigReader.describe(node));
      return LimitSync.exact();
    }
    try {
      return LimitSync.parse(node.stringValue());
    } catch (IllegalArgumentException e) {
      in.error(p, null, "sync: " + e.getMessage() + ", got " + ConfigReader.describe(node));
      return LimitSync.exact();
    }
  }
}
