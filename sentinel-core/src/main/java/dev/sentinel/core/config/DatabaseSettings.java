package dev.sentinel.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The {@code database:} section: the SQLite file or PostgreSQL database that holds the API keys
 * and the {@code database} audit sink's trail. Without the section, the database is the embedded
 * default: a SQLite file {@value #DEFAULT_FILE} beside the config file.
 *
 * <pre>
 * database: { url: "jdbc:sqlite:sentinel.db" }
 * database: { url: "jdbc:postgresql://db.internal:5432/sentinel", user: sentinel,
 *             password: "${env:PGPASSWORD}" }
 * </pre>
 *
 * <p>The gateway opens it only when something uses it (an {@code identity.api_key}, a
 * {@code database} audit sink). {@code sentinel-jdbc}'s {@code JdbcStores.open} turns these
 * settings into the {@link Stores} a {@code GatewayRuntime} (sentinel-mcp) takes.
 *
 * <p>Immutable. {@link #toString()} never shows the password, nor a password inside the URL.
 *
 * @param url the JDBC URL: {@code jdbc:sqlite:<absolute path>} (relative paths in the file are
 *     resolved against its directory) or {@code jdbc:postgresql://host:port/database}
 * @param user the user name, or {@code null} for the URL's (or none)
 * @param password the password, or {@code null} for the URL's (or none)
 * @param configured whether the config file has a {@code database:} section ({@code false}: the
 *     embedded default)
 * @param syncInterval how often a gateway reads the state that gateways share through the
 *     database (the operators' kill switch), {@code sync_interval}; on PostgreSQL changes also
 *     arrive at once by {@code LISTEN/NOTIFY}, and this is the fallback
 */
public record DatabaseSettings(
    String url,
    @Nullable String user,
    @Nullable String password,
    boolean configured,
    Duration syncInterval) {

  /** The file name of the embedded default database, beside the config file. */
  public static final String DEFAULT_FILE = "sentinel.db";

  /** The default {@link #syncInterval()}: 5 seconds. */
  public static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofSeconds(5);

  private static final Pattern PASSWORD_PARAM =
      Pattern.compile("([?&;])[A-Za-z]*password=[^&;]*", Pattern.CASE_INSENSITIVE);
  private static final Pattern USERINFO_PASSWORD = Pattern.compile("(//[^/@:?#]*):[^/@?#]*@");

  /** Validates. */
  public DatabaseSettings {
    Objects.requireNonNull(url, "url");
    if (!url.startsWith("jdbc:")) {
      throw new IllegalArgumentException("a database url starts with jdbc:, got " + redact(url));
    }
    Objects.requireNonNull(syncInterval, "syncInterval");
    if (syncInterval.isNegative() || syncInterval.isZero()) {
      throw new IllegalArgumentException("sync_interval must be positive, got " + syncInterval);
    }
  }

  /** Settings with the default {@link #DEFAULT_SYNC_INTERVAL sync interval}. */
  public DatabaseSettings(
      String url, @Nullable String user, @Nullable String password, boolean configured) {
    this(url, user, password, configured, DEFAULT_SYNC_INTERVAL);
  }

  /** The embedded default: SQLite at {@value #DEFAULT_FILE} in the directory. */
  public static DatabaseSettings embeddedDefault(Path directory) {
    Path file = directory.toAbsolutePath().normalize().resolve(DEFAULT_FILE);
    return new DatabaseSettings("jdbc:sqlite:" + file, null, null, false);
  }

  /** Settings for a JDBC URL given as it is, such as the CLI's {@code --db}. */
  public static DatabaseSettings of(String url, @Nullable String user, @Nullable String password) {
    return new DatabaseSettings(url, user, password, true);
  }

  /** Whether this is a SQLite database. */
  public boolean sqlite() {
    return url.toLowerCase(Locale.ROOT).startsWith("jdbc:sqlite:");
  }

  /** The URL with every password removed ({@code password=} parameters, {@code user:pass@}). */
  public String safeUrl() {
    return redact(url);
  }

  /** A URL with every password removed. */
  static String redact(String url) {
    String out = USERINFO_PASSWORD.matcher(url).replaceAll("$1@");
    out = PASSWORD_PARAM.matcher(out).replaceAll("$1");
    return out.replaceAll("([?&;])[&;]+", "$1").replaceAll("[?&;]+$", "");
  }

  @Override
  public String toString() {
    return "DatabaseSettings[url=" + safeUrl() + (user == null ? "" : ", user=" + user)
        + (password == null ? "" : ", password=<redacted>")
        + (configured ? "" : ", embedded default")
        + (syncInterval.equals(DEFAULT_SYNC_INTERVAL) ? "" : ", sync_interval=" + syncInterval)
        + "]";
  }
}
