package dev.sentinel.jdbc;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.PublishedBundle;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;

/**
 * Signed bundles published for a fleet, in the database's {@code sentinel_bundle} table (schema
 * 8): one row per publish, a channel's head being its row with the highest id; and the gateways'
 * heartbeats in {@code sentinel_heartbeat}, one row per instance.
 *
 * <p>A publish is one transaction: the row is visible whole or not at all, so a gateway never
 * reads half a bundle, even when the database goes away mid-publish. On PostgreSQL it also sends
 * {@code NOTIFY} {@value #CHANNEL} (delivered at commit), and {@link #watch} listens on a
 * connection of its own; SQLite has no such signal: gateways poll.
 *
 * <p>Thread-safe: each call is one transaction.
 */
public final class JdbcBundleStore implements BundleStore {
  /** The PostgreSQL notification channel of publishes. */
  public static final String CHANNEL = "sentinel_bundle";

  private static final String COLUMNS = "channel, digest, sequence, bytes, published_at,"
      + " published_by";
  private static final RowMapper<PublishedBundle> ROW = (rs, ctx) -> new PublishedBundle(
      rs.getString("channel"), rs.getString("digest"), rs.getLong("sequence"),
      rs.getBytes("bytes"), Micros.toInstant(rs.getLong("published_at")),
      rs.getString("published_by"));

  private static final String BEAT_COLUMNS = "instance, host, version, channel, digest, sequence,"
      + " revision, last_error, started_at, seen_at";
  private static final RowMapper<Heartbeat> BEAT = (rs, ctx) -> new Heartbeat(
      rs.getString("instance"), rs.getString("host"), rs.getString("version"),
      rs.getString("channel"), rs.getString("digest"), rs.getLong("sequence"),
      rs.getString("revision"), rs.getString("last_error"),
      Micros.toInstant(rs.getLong("started_at")), Micros.toInstant(rs.getLong("seen_at")));

  private final Database database;
  private final Consumer<Handle> beforeCommit;

  private JdbcBundleStore(Database database, Consumer<Handle> beforeCommit) {
    this.database = database;
    this.beforeCommit = beforeCommit;
  }

  /** A store on the database. */
  public static JdbcBundleStore create(Database database) {
    return new JdbcBundleStore(Objects.requireNonNull(database, "database"), h -> { });
  }

  /** A store that runs {@code beforeCommit} inside each publish's transaction: for fault tests. */
  static JdbcBundleStore withFault(Database database, Consumer<Handle> beforeCommit) {
    return new JdbcBundleStore(database, beforeCommit);
  }

  /**
   * {@inheritDoc} The bytes are parsed ({@link Bundle#parse}) before anything is written.
   */
  @Override
  public PublishedBundle publish(String channel, byte[] bundle, String publishedBy, Instant at) {
    PublishedBundle.checkChannel(channel);
    Objects.requireNonNull(bundle, "bundle");
    Objects.requireNonNull(publishedBy, "publishedBy");
    Objects.requireNonNull(at, "at");
    Bundle parsed = Bundle.parse(bundle);
    PublishedBundle published = new PublishedBundle(channel, parsed.digest(), parsed.sequence(),
        bundle, at, publishedBy);
    database.jdbi().useTransaction(h -> {
      h.createUpdate("INSERT INTO sentinel_bundle (" + COLUMNS + ") VALUES (:channel, :digest,"
              + " :sequence, :bytes, :publishedAt, :publishedBy)")
          .bind("channel", channel)
          .bind("digest", published.digest())
          .bind("sequence", published.sequence())
          .bind("bytes", bundle)
          .bind("publishedAt", Micros.of(at))
          .bind("publishedBy", publishedBy)
          .execute();
      if (database.dialect() == Dialect.POSTGRESQL) {
        // The channel names are checked: letters, digits, '.', '_' and '-' only.
        h.execute("NOTIFY " + CHANNEL + ", '" + channel + "'");
      }
      beforeCommit.accept(h);
    });
    return published;
  }

  @Override
  public Optional<PublishedBundle> head(String channel) {
    PublishedBundle.checkChannel(channel);
    return database.jdbi().withHandle(h -> h.createQuery("SELECT " + COLUMNS
            + " FROM sentinel_bundle WHERE channel = :channel ORDER BY id DESC LIMIT 1")
        .bind("channel", channel)
        .map(ROW)
        .findOne());
  }

  @Override
  public Optional<String> headDigest(String channel) {
    PublishedBundle.checkChannel(channel);
    return database.jdbi().withHandle(h -> h.createQuery("SELECT digest FROM sentinel_bundle"
            + " WHERE channel = :channel ORDER BY id DESC LIMIT 1")
        .bind("channel", channel)
        .mapTo(String.class)
        .findOne());
  }

  /** {@inheritDoc} One upsert: the instance's row is replaced whole. */
  @Override
  public void heartbeat(Heartbeat beat) {
    Objects.requireNonNull(beat, "beat");
    database.jdbi().useHandle(h -> h.createUpdate("INSERT INTO sentinel_heartbeat ("
            + BEAT_COLUMNS + ") VALUES (:instance, :host, :version, :channel, :digest, :sequence,"
            + " :revision, :lastError, :startedAt, :seenAt) ON CONFLICT (instance) DO UPDATE SET"
            + " host = excluded.host, version = excluded.version, channel = excluded.channel,"
            + " digest = excluded.digest, sequence = excluded.sequence,"
            + " revision = excluded.revision, last_error = excluded.last_error,"
            + " started_at = excluded.started_at, seen_at = excluded.seen_at")
        .bind("instance", beat.instance())
        .bind("host", beat.host())
        .bind("version", beat.version())
        .bind("channel", beat.channel())
        .bind("digest", beat.digest())
        .bind("sequence", beat.sequence())
        .bind("revision", beat.revision())
        .bind("lastError", beat.lastError())
        .bind("startedAt", Micros.of(beat.startedAt()))
        .bind("seenAt", Micros.of(beat.seenAt()))
        .execute());
  }

  @Override
  public List<Heartbeat> heartbeats() {
    return database.jdbi().withHandle(h -> h.createQuery("SELECT " + BEAT_COLUMNS
            + " FROM sentinel_heartbeat ORDER BY instance")
        .map(BEAT)
        .list());
  }

  /**
   * {@inheritDoc} On PostgreSQL, a daemon thread {@code LISTEN}s on {@value #CHANNEL} on a
   * connection of its own; on SQLite, nothing (gateways poll).
   */
  @Override
  public Watch watch(Runnable onPublish) {
    Objects.requireNonNull(onPublish, "onPublish");
    if (database.dialect() != Dialect.POSTGRESQL) {
      return () -> { };
    }
    PgListener listener = PgListener.start(database, CHANNEL, onPublish);
    return listener::close;
  }
}
