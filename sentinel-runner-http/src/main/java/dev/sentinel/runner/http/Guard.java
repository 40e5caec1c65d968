package dev.sentinel.runner.http;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Origin and Host validation against DNS rebinding.
 *
 * <p>Origins are {@code scheme://host[:port]} as browsers send them; an entry ending in
 * {@code :*} allows any port of that scheme and host, and {@code *} allows every origin. Hosts
 * are {@code host:port} (that port only) or {@code host} (any port), IPv6 literals in brackets;
 * {@code *} turns the check off. Matching ignores case.
 *
 * <p>Immutable and thread-safe.
 */
final class Guard {
  private final Set<String> origins;
  private final Set<String> hosts;
  private final boolean anyOrigin;
  private final boolean anyHost;

  private Guard(Set<String> origins, Set<String> hosts) {
    this.origins = lower(origins);
    this.hosts = lower(hosts);
    this.anyOrigin = this.origins.contains("*");
    this.anyHost = this.hosts.contains("*");
  }

  /**
   * The guard for a gateway bound to {@code bindHost:port}; {@code null} sets take the defaults:
   * loopback origins on any port, and loopback host names (plus a specific bind address) with
   * the bound port.
   */
  static Guard of(@Nullable Set<String> origins, @Nullable Set<String> hosts, String bindHost,
      int port) {
    return new Guard(origins != null ? origins : defaultOrigins(), hosts != null ? hosts : defaultHosts(bindHost, port));
  }

  /** The default origins: local software on this machine, any port. */
  static Set<String> defaultOrigins() {
    return Set.of("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*",
        "https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*");
  }

  /** The default hosts: the loopback names with the bound port, and the bound address if specific. */
  static Set<String> defaultHosts(String bindHost, int port) {
    Set<String> hosts = new LinkedHashSet<>();
    hosts.add("localhost:" + port);
    hosts.add("127.0.0.1:" + port);
    hosts.add("[::1]:" + port);
    String bind = bindHost.toLowerCase(Locale.ROOT);
    if (!bind.equals("0.0.0.0") && !bind.equals("::") && !bind.equals("[::]") && !bind.isEmpty()) {
      hosts.add((bind.contains(":") && !bind.startsWith("[") ? "[" + bind + "]" : bind) + ":" + port);
    }
    return hosts;
  }

  /** Whether a {@code Host} header value is allowed; a missing one is not. */
  boolean hostAllowed(@Nullable String host) {
    if (anyHost) {
      return true;
    }
    if (host == null || host.isEmpty()) {
      return false;
    }
    String value = host.trim().toLowerCase(Locale.ROOT);
    if (hosts.contains(value)) {
      return true;
    }
    String name = hostName(value);
    return name != null && hosts.contains(name);
  }

  /** Whether an {@code Origin} header value is allowed; call only when the header is present. */
  boolean originAllowed(String origin) {
    if (anyOrigin) {
      return true;
    }
    String value = origin.trim().toLowerCase(Locale.ROOT);
    // an entry "scheme://host:*" is a pattern, not an origin a client may send as it is
    if (origins.contains(value) && !value.endsWith(":*")) {
      return true;
    }
    int scheme = value.indexOf("://");
    if (scheme < 0) {
      return false;
    }
    String name = hostName(value.substring(scheme + 3));
    return name != null && origins.contains(value.substring(0, scheme + 3) + name + ":*");
  }

  /** The host part of {@code host[:port]}, or {@code null} if malformed. */
  private static @Nullable String hostName(String hostAndPort) {
    if (hostAndPort.startsWith("[")) {
      int end = hostAndPort.indexOf(']');
      if (end < 0) {
        return null;
      }
      String rest = hostAndPort.substring(end + 1);
      return rest.isEmpty() || rest.matches(":[0-9]{1,5}") ? hostAndPort.substring(0, end + 1) : null;
    }
    int colon = hostAndPort.indexOf(':');
    if (colon < 0) {
      return hostAndPort;
    }
    return hostAndPort.substring(colon + 1).matches("[0-9]{1,5}") ? hostAndPort.substring(0, colon) : null;
  }

  private static Set<String> lower(Set<String> values) {
    Set<String> result = new LinkedHashSet<>();
    for (String value : values) {
      result.add(value.trim().toLowerCase(Locale.ROOT));
    }
    return Set.copyOf(result);
  }
}
