package dev.sentinel.mcp.transport;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * How to reach a backend MCP server over Streamable HTTP.
 *
 * @param name the backend's name, for logs and errors; not blank
 * @param url the MCP endpoint, {@code http} or {@code https}
 * @param headers headers sent on every request, such as the backend's own credentials (from the
 *     gateway's configuration, never from a client); may not set the headers the transport owns
 *     ({@code Content-Type}, {@code Accept}, {@code Mcp-Session-Id}, {@code
 *     MCP-Protocol-Version}, {@code Last-Event-ID}) or those of the HTTP connection itself
 *     ({@code Connection}, {@code Content-Length}, {@code Expect}, {@code Host}, {@code
 *     Upgrade})
 * @param connectTimeout the bound on opening a connection; positive
 * @param requestTimeout the bound on waiting for each response's status and headers (a stream
 *     that then stays open is not cut off); positive
 * @param limits bounds on each incoming message
 */
public record HttpSpec(
    String name,
    URI url,
    Map<String, String> headers,
    Duration connectTimeout,
    Duration requestTimeout,
    FrameLimits limits) {

  /** The default connect timeout: 10 seconds. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** The default request timeout: 60 seconds. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

  private static final Set<String> RESERVED =
      Set.of(
          "content-type", "accept", "mcp-session-id", "mcp-protocol-version", "last-event-id",
          "connection", "content-length", "expect", "host", "upgrade");

  /** Validates and copies. */
  public HttpSpec {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("backend name must not be blank");
    }
    Objects.requireNonNull(url, "url of backend '" + name + "'");
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          "url of backend '" + name + "' must be http or https, was " + url);
    }
    if (url.getHost() == null) {
      throw new IllegalArgumentException("url of backend '" + name + "' has no host: " + url);
    }
    Objects.requireNonNull(headers, "headers of backend '" + name + "'");
    Map<String, String> copy = new LinkedHashMap<>();
    for (Map.Entry<String, String> header : headers.entrySet()) {
      String key = header.getKey();
      if (key == null || !isToken(key)) {
        throw new IllegalArgumentException(
            "header name '" + key + "' of backend '" + name + "' is not a valid HTTP header name");
      }
      if (RESERVED.contains(key.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException(
            "header '" + key + "' of backend '" + name + "' is set by the transport itself");
      }
      String value = header.getValue();
      if (value == null || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        throw new IllegalArgumentException(
            "header '" + key + "' of backend '" + name + "' must have a single-line value");
      }
      copy.put(key, value);
    }
    headers = java.util.Collections.unmodifiableMap(copy);
    requirePositive(connectTimeout, "connectTimeout", name);
    requirePositive(requestTimeout, "requestTimeout", name);
    Objects.requireNonNull(limits, "limits of backend '" + name + "'");
  }

  /** A spec with no extra headers, the default timeouts and limits. */
  public static HttpSpec of(String name, URI url) {
    return new HttpSpec(
        name, url, Map.of(), DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, FrameLimits.defaults());
  }

  /** A copy with other headers. */
  public HttpSpec withHeaders(Map<String, String> newHeaders) {
    return new HttpSpec(name, url, newHeaders, connectTimeout, requestTimeout, limits);
  }

  /** A copy with another request timeout. */
  public HttpSpec withRequestTimeout(Duration timeout) {
    return new HttpSpec(name, url, headers, connectTimeout, timeout, limits);
  }

  /** A copy with other message limits. */
  public HttpSpec withLimits(FrameLimits newLimits) {
    return new HttpSpec(name, url, headers, connectTimeout, requestTimeout, newLimits);
  }

  /** Shows the header names but never their values, which are often secrets. */
  @Override
  public String toString() {
    Map<String, String> shown = new TreeMap<>();
    headers.keySet().forEach(k -> shown.put(k, "***"));
    return "HttpSpec[name=" + name + ", url=" + url + ", headers=" + shown
        + ", connectTimeout=" + connectTimeout + ", requestTimeout=" + requestTimeout
        + ", limits=" + limits + "]";
  }

  private static void requirePositive(Duration d, String what, String name) {
    Objects.requireNonNull(d, what + " of backend '" + name + "'");
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(
          what + " of backend '" + name + "' must be positive, was " + d);
    }
  }

  private static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
