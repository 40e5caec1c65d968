package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.NotifySettings;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.jdbc.JdbcBundleSources;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.mcp.gateway.WebhookNotifier;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Which database a {@code keys} or {@code audit} command works on: a gateway config's (its
 * {@code database:} section, or the embedded default beside it) or a JDBC URL. The password of a
 * URL comes from the environment variable {@value #PASSWORD_VARIABLE}, never from a flag (flags
 * show in process lists and shell history). A picocli mixin; not thread-safe.
 */
final class DatabaseOptions {
  /** The environment variable holding the password for {@code --db}. */
  static final String PASSWORD_VARIABLE = "SENTINEL_DB_PASSWORD";

  @Option(names = {"-c", "--config"}, paramLabel = "FILE",
      description = "use the database of this gateway config (its database: section, or "
          + "sentinel.db beside it)")
  @Nullable Path config;

  @Option(names = "--db", paramLabel = "URL",
      description = {"use this database: jdbc:sqlite:<file> or",
          "jdbc:postgresql://host:port/database (password from $" + PASSWORD_VARIABLE + ")"})
  @Nullable String url;

  @Option(names = "--db-user", paramLabel = "USER", description = "the user for --db")
  @Nullable String user;

  /**
   * Opens the database.
   *
   * @param mustExist whether a missing SQLite file is an error (commands that read), rather than
   *     created (commands that write the first key)
   * @throws CommandLine.ParameterException when neither or both of --config and --db are given
   */
  JdbcStores open(CommandLine line, Map<String, String> environment, Clock clock,
      boolean mustExist) {
    DatabaseSettings settings = settings(line, environment);
    return mustExist ? JdbcStores.openExisting(settings, clock) : JdbcStores.open(settings, clock);
  }

  /**
   * Where operators' events of the command go: with {@code --config}, its {@code notify:}
   * webhook, as a gateway's are (an operator's decision made here is announced like one made on
   * the admin API); else nowhere. The caller closes it (delivering what is queued).
   */
  Notifier notifier(Map<String, String> environment) {
    NotifySettings notify = NotifySettings.NONE;
    if (config != null) {
      try (JdbcBundleSources sources = JdbcBundleSources.create(Clock.system())) {
        notify = GatewayConfig.load(config, environment, Main.POLICY_OPTIONS, sources)
            .notifications();
      }
    }
    return notifier(notify);
  }

  /** The webhook of {@code notify}, started, or no notifier when it has none. */
  static Notifier notifier(NotifySettings notify) {
    URI webhook = notify.webhook();
    String secret = notify.secret();
    // NotifySettings has both or neither.
    return webhook != null && secret != null ? WebhookNotifier.start(webhook, secret)
        : Notifier.none();
  }

  private DatabaseSettings settings(CommandLine line, Map<String, String> environment) {
    if ((config == null) == (url == null)) {
      throw new CommandLine.ParameterException(line, config == null
          ? "give the database: --config FILE (a gateway config) or --db URL"
          : "give either --config or --db, not both");
    }
    if (config != null) {
      if (user != null) {
        throw new CommandLine.ParameterException(line,
            "--db-user goes with --db; with --config, the user is the config's database.user");
      }
      return GatewayConfig.loadDatabase(config, environment);
    }
    String text = Objects.requireNonNull(url, "checked above").strip();
    if (!text.startsWith("jdbc:sqlite:") && !text.startsWith("jdbc:postgresql:")) {
      throw new CommandLine.ParameterException(line, "--db: expected jdbc:sqlite:<file> or "
          + "jdbc:postgresql://host:port/database, got '" + redact(text) + "'");
    }
    return new DatabaseSettings(text, user, environment.get(PASSWORD_VARIABLE), true);
  }

  private static String redact(String url) {
    try {
      return new DatabaseSettings(url, null, null, true).safeUrl();
    } catch (IllegalArgumentException e) {
      return "(not a JDBC URL)";
    }
  }
}
