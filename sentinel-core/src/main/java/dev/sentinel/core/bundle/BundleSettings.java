package dev.sentinel.core.bundle;

import dev.sentinel.core.config.DatabaseSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A gateway's {@code bundle:} section: it runs the config of a signed bundle, read from a file or
 * from a channel of the fleet's database, applying only a bundle that its trust roots signed,
 * never one older than it ran before.
 *
 * <pre>{@code
 * bundle:
 *   file: /etc/sentinel/prod.bundle
 *   trust: [keys/alice.pub, keys/bob.pub]
 *   min_signers: 2
 *   state: /var/lib/sentinel/bundle-state.json
 *
 * bundle: { source: database, channel: prod, trust: [keys/alice.pub], poll_interval: 10s }
 * database: { url: "jdbc:postgresql://db:5432/sentinel", password: "${env:PGPASSWORD}" }
 * }</pre>
 *
 * @param source where the bundle is read
 * @param file the bundle file, watched like a config file; {@code null} for a database source
 * @param channel the channel whose head is applied; {@code null} for a file source
 * @param database the database a database source reads ({@code database:} beside {@code
 *     bundle:}); {@code null} for a file source
 * @param trust the PEM files of the trusted signers' Ed25519 public keys
 * @param minSigners how many distinct trusted keys must have signed
 * @param state the file that keeps the sequence and digest of the bundle last applied, so that a
 *     restart cannot roll back either; it must be writable by the gateway
 * @param pollInterval how often a gateway on a database source reads the channel's head (on
 *     PostgreSQL a publish also arrives at once by {@code LISTEN/NOTIFY}; this is the fallback)
 */
public record BundleSettings(Source source, @Nullable Path file, @Nullable String channel,
    @Nullable DatabaseSettings database,
    List<Path> trust, int minSigners, Path state, Duration pollInterval) {

  /** The state file's name in the config's directory when {@code state} is not given. */
  public static final String DEFAULT_STATE = "bundle-state.json";

  /** The default {@link #pollInterval()}: 10 seconds. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(10);

  /** Where a gateway reads its bundle. */
  public enum Source {
    /** A bundle file ({@code bundle.file}). */
    FILE,
    /** The head of a channel in the database ({@code bundle.channel}, {@code database:}). */
    DATABASE
  }

  /** Validates and copies. */
  public BundleSettings {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(pollInterval, "pollInterval");
    if (source == Source.FILE) {
      Objects.requireNonNull(file, "file");
      if (channel != null || database != null) {
        throw new IllegalArgumentException("a file source has no channel and no database");
      }
    } else {
      PublishedBundle.checkChannel(channel);
      Objects.requireNonNull(database, "database");
      if (file != null) {
        throw new IllegalArgumentException("a database source has no file");
      }
    }
    trust = List.copyOf(trust);
    if (trust.isEmpty()) {
      throw new IllegalArgumentException("at least one trusted key is required");
    }
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("poll_interval must be positive, got " + pollInterval);
    }
  }

  /** A file source. */
  public BundleSettings(Path file, List<Path> trust, int minSigners, Path state) {
    this(Source.FILE, file, null, null, trust, minSigners, state, DEFAULT_POLL_INTERVAL);
  }

  /** Where the bundle comes from, for messages and the audit trail: the file, or the channel. */
  public String location() {
    return source == Source.FILE ? String.valueOf(file)
        : "channel " + channel + " in " + Objects.requireNonNull(database, "database").safeUrl();
  }
}
