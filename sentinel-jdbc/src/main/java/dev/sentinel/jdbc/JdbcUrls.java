package dev.sentinel.jdbc;

import java.nio.file.Path;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** JDBC URL helpers: redaction for messages, and the file behind a SQLite URL. */
final class JdbcUrls {
  // password=..., sslpassword=..., in a query string (?, &) or a property list (;).
  private static final Pattern PASSWORD_PARAM =
      Pattern.compile("([?&;])[A-Za-z]*password=[^&;]*", Pattern.CASE_INSENSITIVE);
  // user:secret@ in an authority; keeps the user.
  private static final Pattern USERINFO_PASSWORD = Pattern.compile("(//[^/@:?#]*):[^/@?#]*@");

  private JdbcUrls() {}

  /** The URL with every password removed: {@code password=} parameters and {@code user:pass@}. */
  static String redact(String jdbcUrl) {
    String url = USERINFO_PASSWORD.matcher(jdbcUrl).replaceAll("$1@");
    url = PASSWORD_PARAM.matcher(url).replaceAll("$1");
    // Tidy what removal leaves behind: "?&a", "&&", a trailing "?" or "&".
    return url.replaceAll("([?&;])[&;]+", "$1").replaceAll("[?&;]+$", "");
  }

  /**
   * The file a {@code jdbc:sqlite:} URL names, or {@code null} for an in-memory database. Accepts
   * {@code jdbc:sqlite:/path}, {@code jdbc:sqlite:relative/path} and {@code
   * jdbc:sqlite:file:/path?params}.
   */
  static @Nullable Path sqliteFile(String jdbcUrl) {
    String rest = jdbcUrl.substring("jdbc:sqlite:".length());
    if (rest.startsWith("file:")) {
      rest = rest.substring("file:".length());
      int query = rest.indexOf('?');
      if (query >= 0) {
        rest = rest.substring(0, query);
      }
    }
    if (rest.isEmpty() || rest.startsWith(":memory:") || rest.startsWith(":resource:")) {
      return null;
    }
    return Path.of(rest);
  }
}
