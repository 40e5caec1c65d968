package dev.sentinel.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The {@code shared_state.redis:} section: a Redis or Valkey server that holds the shared rate
 * limits and carries kill-switch announcements (sentinel-redis's {@code RedisStores} opens it).
 *
 * <p>Immutable. {@link #toString()} never shows the password, nor a password inside the URL.
 *
 * @param url {@code redis://host:port/db} or {@code rediss://host:port/db} (TLS)
 * @param username the ACL user name, or {@code null} for the URL's (or {@code default})
 * @param password the password (AUTH), or {@code null} for the URL's (or none)
 * @param caFile a PEM file of the certificates to trust for {@code rediss://}, or {@code null}
 *     for the JVM's
 * @param timeout how long one command may take before it counts as a failure of the store
 * @param killSwitch whether kill-switch changes are announced on Redis (pub/sub) as well as in
 *     the database
 */
public record RedisSettings(
    String url,
    @Nullable String username,
    @Nullable String password,
    @Nullable Path caFile,
    Duration timeout,
    boolean killSwitch) {

  /** The default {@link #timeout()}: 1 second. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);

  private static final Pattern USERINFO = Pattern.compile("(//)[^/@?#]*@");

  /** Validates. */
  public RedisSettings {
    Objects.requireNonNull(url, "url");
    String lower = url.toLowerCase(Locale.ROOT);
    if (!lower.startsWith("redis://") && !lower.startsWith("rediss://")) {
      throw new IllegalArgumentException(
          "a Redis url starts with redis:// or rediss:// (TLS), got " + redact(url));
    }
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
  }

  /** Whether the connection uses TLS ({@code rediss://}). */
  public boolean tls() {
    return url.toLowerCase(Locale.ROOT).startsWith("rediss://");
  }

  /** The URL without its user information (where a password may be written). */
  public String safeUrl() {
    return redact(url);
  }

  static String redact(String url) {
    return USERINFO.matcher(url).replaceAll("$1");
  }

  @Override
  public String toString() {
    return "RedisSettings[url=" + safeUrl() + (username == null ? "" : ", username=" + username)
        + (password == null ? "" : ", password=<redacted>")
        + (caFile == null ? "" : ", ca_file=" + caFile)
        + ", timeout=" + timeout + ", kill_switch=" + killSwitch + "]";
  }
}
