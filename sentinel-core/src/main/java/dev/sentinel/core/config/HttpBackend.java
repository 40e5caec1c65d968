package dev.sentinel.core.config;

import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A backend reached over Streamable HTTP. Immutable; {@link #toString()} shows header names,
 * never values, and the URL without user info, query or fragment (see {@link #safeUrl()}).
 *
 * @param name the backend's name
 * @param url the MCP endpoint, an absolute {@code http} or {@code https} URL with a host
 * @param headers headers sent with every request, such as {@code Authorization}; in file order
 * @param connectTimeout how long to wait for a connection
 * @param requestTimeout how long to wait for a reply
 * @param connections how the gateway connects to it
 */
public record HttpBackend(
    String name, URI url, Map<String, String> headers, Duration connectTimeout,
    Duration requestTimeout, Connections connections) implements Backend {

  /** A backend with the default connection settings. */
  public HttpBackend(String name, URI url, Map<String, String> headers, Duration connectTimeout,
      Duration requestTimeout) {
    this(name, url, headers, connectTimeout, requestTimeout, Connections.DEFAULTS);
  }

  /** The default connect timeout: 5 seconds. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

  /** Validates and copies. */
  public HttpBackend {
    Backend.checkName(name);
    Objects.requireNonNull(url, "url");
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!url.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))
        || url.getHost() == null) {
      throw new IllegalArgumentException(
          "backend '" + name + "': url must be an absolute http or https URL with a host");
    }
    Map<String, String> copy = new LinkedHashMap<>();
    headers.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "header name"),
        Objects.requireNonNull(v, "value of header " + k)));
    headers = Collections.unmodifiableMap(copy);
    Gateway.requirePositive(connectTimeout, "connect_timeout");
    Gateway.requirePositive(requestTimeout, "request_timeout");
    Objects.requireNonNull(connections, "connections");
  }

  @Override
  public String kind() {
    return "http";
  }

  /**
   * The URL as safe to show: scheme, host, port and path; user info, query and fragment (where
   * tokens hide) become {@code …}.
   */
  public String safeUrl() {
    StringBuilder out = new StringBuilder(url.getScheme()).append("://");
    if (url.getRawUserInfo() != null) {
      out.append("…@");
    }
    out.append(url.getHost());
    if (url.getPort() >= 0) {
      out.append(':').append(url.getPort());
    }
    out.append(url.getRawPath() == null ? "" : url.getRawPath());
    if (url.getRawQuery() != null) {
      out.append("?…");
    }
    if (url.getRawFragment() != null) {
      out.append("#…");
    }
    return out.toString();
  }

  @Override
  public String toString() {
    return "HttpBackend[name=" + name + ", url=" + safeUrl() + ", headers=" + headers.keySet()
        + ", connectTimeout=" + Units.formatDuration(connectTimeout)
        + ", requestTimeout=" + Units.formatDuration(requestTimeout) + ", connections=" + connections + "]";
  }
}
