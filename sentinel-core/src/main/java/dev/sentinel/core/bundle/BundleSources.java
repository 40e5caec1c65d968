package dev.sentinel.core.bundle;

import dev.sentinel.core.config.DatabaseSettings;
import java.util.Objects;

/**
 * How a config loader reaches the {@link BundleSource} that a {@code bundle:} section names: a
 * file it reads itself; a database channel through the {@link BundleStore} on that database,
 * which only a database module can open (sentinel-jdbc's {@code JdbcBundleSources}, which the
 * runners pass in). {@link #files()} serves files and refuses databases.
 *
 * <p>Implementations are thread-safe.
 */
@FunctionalInterface
public interface BundleSources {

  /**
   * The bundle store on a database, kept open by this object for as long as it lives.
   *
   * @throws BundleException if this program cannot read bundles from a database, or the
   *     database cannot be opened (the message names it without its password)
   */
  BundleStore store(DatabaseSettings database);

  /**
   * The source a {@code bundle:} section names.
   *
   * @throws BundleException as {@link #store}
   */
  default BundleSource open(BundleSettings settings) {
    Objects.requireNonNull(settings, "settings");
    if (settings.source() == BundleSettings.Source.FILE) {
      return BundleSource.file(Objects.requireNonNull(settings.file(), "file"));
    }
    DatabaseSettings database = Objects.requireNonNull(settings.database(), "database");
    return BundleSource.channel(store(database), Objects.requireNonNull(settings.channel(), "channel"),
        database.safeUrl());
  }

  /**
   * These sources as one gateway of the fleet reads them: a channel selects a rollout's bundle
   * when the rollout names {@code member} as a canary ({@link BundleSource#channel(BundleStore,
   * String, String, String)}). The gateway's channel watcher reloads through these.
   *
   * @param member the gateway's instance, as its heartbeats name it
   */
  default BundleSources asMember(String member) {
    Objects.requireNonNull(member, "member");
    BundleSources all = this;
    return new BundleSources() {
      @Override
      public BundleStore store(DatabaseSettings database) {
        return all.store(database);
      }

      @Override
      public BundleSource open(BundleSettings settings) {
        Objects.requireNonNull(settings, "settings");
        if (settings.source() == BundleSettings.Source.FILE) {
          return all.open(settings);
        }
        DatabaseSettings database = Objects.requireNonNull(settings.database(), "database");
        return BundleSource.channel(store(database), Objects.requireNonNull(settings.channel(), "channel"),
            database.safeUrl(), member);
      }
    };
  }

  /** Bundle files only: a {@code source: database} section is refused, saying what to use. */
  static BundleSources files() {
    return database -> {
      throw new BundleException("bundle.source: database needs the database module"
          + " (sentinel-jdbc), which sentinel stdio and sentinel http bring; this program reads"
          + " bundle files only");
    };
  }
}
