package dev.sentinel.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads the config's {@code database:} section (a SQLite or PostgreSQL JDBC URL and its
 * credentials) into {@link DatabaseSettings}, recording every problem in the shared reader.
 * Not thread-safe: one per load.
 */
final class DatabaseSectionReader {
  static final List<String> DATABASE_KEYS = List.of("url", "user", "password", "sync_interval");

  private final ConfigReader in;
  private final Expander expander;
  private final Path baseDir;

  DatabaseSectionReader(ConfigReader in, Expander expander, Path baseDir) {
    this.in = in;
    this.expander = expander;
    this.baseDir = baseDir;
  }

  /**
   * The section, or the embedded SQLite database beside the config when absent or after
   * recording problems.
   */
  DatabaseSettings read() {
    String p = "/database";
    DatabaseSettings fallback = DatabaseSettings.embeddedDefault(baseDir);
    if (!in.section(p, null, DATABASE_KEYS)) {
      return fallback;
    }
    String url = null;
    if (in.present(p + "/url", null, true)) {
      String raw = in.secretText(p + "/url", null,
          "a JDBC URL such as jdbc:sqlite:sentinel.db or jdbc:postgresql://host:5432/sentinel");
      String text = raw == null ? null : expander.expand(raw, p + "/url", null);
      if (raw != null && text != null) {
        url = jdbcUrl(text.strip(), raw, p + "/url");
      }
    }
    String user = expander.optionalSecret(p + "/user", "a user name");
    String password = expander.optionalSecret(p + "/password", "a password reference such as "
        + "\"${env:PGPASSWORD}\"");
    Duration syncInterval =
        in.duration(p + "/sync_interval", null, DatabaseSettings.DEFAULT_SYNC_INTERVAL);
    if (url != null && (user != null || password != null) && url.startsWith("jdbc:sqlite:")) {
      in.error(p, null, "a SQLite database has no user or password; remove them, or use a "
          + "jdbc:postgresql: url");
      return fallback;
    }
    return url == null ? fallback : new DatabaseSettings(url, user, password, true, syncInterval);
  }

  /** A checked JDBC URL with a relative SQLite path resolved, or {@code null} (recorded). */
  private @Nullable String jdbcUrl(String text, String raw, String p) {
    String shown = DatabaseSettings.redact(raw);
    if (text.startsWith("jdbc:postgresql:")) {
      if (!text.startsWith("jdbc:postgresql://")) {
        in.error(p, null, "the url '" + shown + "' is not a PostgreSQL JDBC URL; expected "
            + "jdbc:postgresql://host:5432/database");
        return null;
      }
      return text;
    }
    if (!text.startsWith("jdbc:sqlite:")) {
      in.error(p, null, "unsupported database url '" + shown + "': expected "
          + "jdbc:sqlite:<file> (such as jdbc:sqlite:sentinel.db) or "
          + "jdbc:postgresql://host:5432/database");
      return null;
    }
    String rest = text.substring("jdbc:sqlite:".length());
    String prefix = "jdbc:sqlite:";
    String query = "";
    if (rest.startsWith("file:")) {
      prefix = "jdbc:sqlite:file:";
      rest = rest.substring("file:".length());
      int q = rest.indexOf('?');
      if (q >= 0) {
        query = rest.substring(q);
        rest = rest.substring(0, q);
      }
    }
    if (rest.isBlank() || rest.startsWith(":memory:") || rest.startsWith(":resource:")) {
      in.error(p, null, "the url '" + shown + "' is not a SQLite file: in-memory databases "
          + "are not supported (every connection would see a different one); give a file, "
          + "such as jdbc:sqlite:sentinel.db");
      return null;
    }
    Path file = expander.resolve(rest);
    if (file == null) {
      in.error(p, null, "'" + rest + "' in the url is not a valid path");
      return null;
    }
    return prefix + file + query;
  }
}
