package dev.sentinel.jdbc;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleException;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.PublishedBundle;
import dev.sentinel.core.bundle.Rollout;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/**
 * Signed bundles published for a fleet, in the database's {@code sentinel_bundle} table (schema
 * 8): one row per publish, a channel's head being its unstaged row with the highest id; the
 * gateways' heartbeats in {@code sentinel_heartbeat}, one row per instance; and rollouts in
 * {@code sentinel_rollout} (schema 10), one row per rollout, at most one started per channel.
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
      + " revision, last_error, started_at, seen_at, calls, denied, errors";
  private static final RowMapper<Heartbeat> BEAT = (rs, ctx) -> new Heartbeat(
      rs.getString("instance"), rs.getString("host"), rs.getString("version"),
      rs.getString("channel"), rs.getString("digest"), rs.getLong("sequence"),
      rs.getString("revision"), rs.getString("last_error"),
      Micros.toInstant(rs.getLong("started_at")), Micros.toInstant(rs.getLong("seen_at")),
      new Heartbeat.Counters(rs.getLong("calls"), rs.getLong("denied"), rs.getLong("errors")));

  private static final String ROLLOUT_COLUMNS = "id, channel, digest, sequence, canaries, state,"
      + " previous_digest, abort_on_error_rate, baseline, started_at, started_by, ended_at,"
      + " ended_by, reason";
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final RowMapper<Rollout> ROLLOUT = (rs, ctx) -> {
    double rate = rs.getDouble("abort_on_error_rate");
    Double threshold = rs.wasNull() ? null : rate;
    long endedAt = rs.getLong("ended_at");
    Instant ended = rs.wasNull() ? null : Micros.toInstant(endedAt);
    String canaries = rs.getString("canaries");
    return new Rollout(rs.getLong("id"), rs.getString("channel"), rs.getString("digest"),
        rs.getLong("sequence"),
        canaries.isEmpty() ? List.of() : List.of(canaries.split("\n")),
        Rollout.State.valueOf(rs.getString("state").toUpperCase(Locale.ROOT)),
        rs.getString("previous_digest"), threshold, baseline(rs.getString("baseline")),
        Micros.toInstant(rs.getLong("started_at")), rs.getString("started_by"), ended,
        rs.getString("ended_by"), rs.getString("reason"));
  };

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
    return store(channel, bundle, publishedBy, at, false);
  }

  /**
   * {@inheritDoc} As {@link #publish}, in one transaction, with no notification: the head does
   * not change.
   */
  @Override
  public PublishedBundle publishStaged(String channel, byte[] bundle, String publishedBy,
      Instant at) {
    return store(channel, bundle, publishedBy, at, true);
  }

  private PublishedBundle store(String channel, byte[] bundle, String publishedBy, Instant at,
      boolean staged) {
    PublishedBundle.checkChannel(channel);
    Objects.requireNonNull(bundle, "bundle");
    Objects.requireNonNull(publishedBy, "publishedBy");
    Objects.requireNonNull(at, "at");
    Bundle parsed = Bundle.parse(bundle);
    PublishedBundle published = new PublishedBundle(channel, parsed.digest(), parsed.sequence(),
        bundle, at, publishedBy);
    database.jdbi().useTransaction(h -> {
      insert(h, published, staged);
      if (!staged) {
        notify(h, channel);
      }
      beforeCommit.accept(h);
    });
    return published;
  }

  private static void insert(Handle h, PublishedBundle published, boolean staged) {
    h.createUpdate("INSERT INTO sentinel_bundle (" + COLUMNS + ", staged) VALUES (:channel,"
            + " :digest, :sequence, :bytes, :publishedAt, :publishedBy, :staged)")
        .bind("channel", published.channel())
        .bind("digest", published.digest())
        .bind("sequence", published.sequence())
        .bind("bytes", published.bytes())
        .bind("publishedAt", Micros.of(published.publishedAt()))
        .bind("publishedBy", published.publishedBy())
        .bind("staged", staged)
        .execute();
  }

  private void notify(Handle h, String channel) {
    if (database.dialect() == Dialect.POSTGRESQL) {
      // The channel names are checked: letters, digits, '.', '_' and '-' only.
      h.execute("NOTIFY " + CHANNEL + ", '" + channel + "'");
    }
  }

  @Override
  public Optional<PublishedBundle> published(String channel, String digest) {
    PublishedBundle.checkChannel(channel);
    Objects.requireNonNull(digest, "digest");
    return database.jdbi().withHandle(h -> h.createQuery("SELECT " + COLUMNS
            + " FROM sentinel_bundle WHERE channel = :channel AND digest = :digest"
            + " ORDER BY id DESC LIMIT 1")
        .bind("channel", channel)
        .bind("digest", digest)
        .map(ROW)
        .findOne());
  }

  /**
   * {@inheritDoc} One transaction; the partial unique index on started rollouts keeps a second
   * one out even when two operators start at once. Sends {@code NOTIFY} on PostgreSQL.
   */
  @Override
  public Optional<Rollout> startRollout(Rollout rollout) {
    Objects.requireNonNull(rollout, "rollout");
    try {
      return database.jdbi().inTransaction(h -> {
        if (started(h, rollout.channel()).isPresent()) {
          return Optional.<Rollout>empty();
        }
        long id = h.createUpdate("INSERT INTO sentinel_rollout (channel, digest, sequence,"
                + " canaries, state, previous_digest, abort_on_error_rate, baseline, started_at,"
                + " started_by) VALUES (:channel, :digest, :sequence, :canaries, 'started',"
                + " :previous, :rate, :baseline, :startedAt, :startedBy)")
            .bind("channel", rollout.channel())
            .bind("digest", rollout.digest())
            .bind("sequence", rollout.sequence())
            .bind("canaries", String.join("\n", rollout.canaries()))
            .bind("previous", rollout.previousDigest())
            .bind("rate", rollout.abortOnErrorRate())
            .bind("baseline", baselineJson(rollout.baseline()))
            .bind("startedAt", Micros.of(rollout.startedAt()))
            .bind("startedBy", rollout.startedBy())
            .executeAndReturnGeneratedKeys("id")
            .mapTo(Long.class)
            .one();
        notify(h, rollout.channel());
        return Optional.of(rollout(h, id));
      });
    } catch (RuntimeException e) {
      // Lost a race on the unique index: the other start won.
      if (rollout(rollout.channel()).filter(Rollout::started).isPresent()) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public Optional<Rollout> rollout(String channel) {
    PublishedBundle.checkChannel(channel);
    return database.jdbi().withHandle(h -> h.createQuery("SELECT " + ROLLOUT_COLUMNS
            + " FROM sentinel_rollout WHERE channel = :channel ORDER BY id DESC LIMIT 1")
        .bind("channel", channel)
        .map(ROLLOUT)
        .findOne());
  }

  /**
   * {@inheritDoc} One transaction: the conditional update ({@code WHERE state = 'started'}) is
   * what decides a race, and a promote's new head is inserted in the same transaction. Sends
   * {@code NOTIFY} on PostgreSQL.
   */
  @Override
  public Optional<Rollout> endRollout(String channel, long id, Rollout.State to, String by,
      Instant at, @Nullable String reason) {
    PublishedBundle.checkChannel(channel);
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(by, "by");
    Objects.requireNonNull(at, "at");
    if (to == Rollout.State.STARTED) {
      throw new IllegalArgumentException("a rollout ends promoted or aborted");
    }
    return database.jdbi().inTransaction(h -> {
      int ended = h.createUpdate("UPDATE sentinel_rollout SET state = :state, ended_at = :at,"
              + " ended_by = :by, reason = :reason WHERE id = :id AND channel = :channel"
              + " AND state = 'started'")
          .bind("state", to.name().toLowerCase(Locale.ROOT))
          .bind("at", Micros.of(at))
          .bind("by", by)
          .bind("reason", reason)
          .bind("id", id)
          .bind("channel", channel)
          .execute();
      if (ended == 0) {
        return Optional.<Rollout>empty();
      }
      Rollout rollout = rollout(h, id);
      if (to == Rollout.State.PROMOTED) {
        PublishedBundle bundle = h.createQuery("SELECT " + COLUMNS + " FROM sentinel_bundle"
                + " WHERE channel = :channel AND digest = :digest ORDER BY id DESC LIMIT 1")
            .bind("channel", channel)
            .bind("digest", rollout.digest())
            .map(ROW)
            .findOne()
            .orElseThrow(() -> new BundleException(rollout.describe() + " names a bundle that"
                + " is no longer published on the channel: nothing changed"));
        insert(h, new PublishedBundle(channel, bundle.digest(), bundle.sequence(),
            bundle.bytes(), at, by), false);
      }
      notify(h, channel);
      return Optional.of(rollout);
    });
  }

  private static Optional<Rollout> started(Handle h, String channel) {
    return h.createQuery("SELECT " + ROLLOUT_COLUMNS + " FROM sentinel_rollout WHERE channel ="
            + " :channel AND state = 'started'")
        .bind("channel", channel)
        .map(ROLLOUT)
        .findOne();
  }

  private static Rollout rollout(Handle h, long id) {
    return h.createQuery("SELECT " + ROLLOUT_COLUMNS + " FROM sentinel_rollout WHERE id = :id")
        .bind("id", id)
        .map(ROLLOUT)
        .one();
  }

  private static String baselineJson(Map<String, Heartbeat.Counters> baseline) {
    ObjectNode root = JSON.createObjectNode();
    new TreeMap<>(baseline).forEach((instance, c) -> root.putArray(instance)
        .add(c.calls()).add(c.denied()).add(c.errors()));
    return root.toString();
  }

  private static Map<String, Heartbeat.Counters> baseline(String json) {
    Map<String, Heartbeat.Counters> baseline = new HashMap<>();
    JsonNode root = JSON.readTree(json);
    for (Map.Entry<String, JsonNode> each : root.properties()) {
      JsonNode c = each.getValue();
      baseline.put(each.getKey(), new Heartbeat.Counters(c.path(0).asLong(), c.path(1).asLong(),
          c.path(2).asLong()));
    }
    return baseline;
  }

  @Override
  public int purgeHeartbeats(Instant before) {
    Objects.requireNonNull(before, "before");
    return database.jdbi().withHandle(h -> h.createUpdate("DELETE FROM sentinel_heartbeat WHERE"
            + " seen_at < :before")
        .bind("before", Micros.of(before))
        .execute());
  }

  @Override
  public Optional<PublishedBundle> head(String channel) {
    PublishedBundle.checkChannel(channel);
    return database.jdbi().withHandle(h -> h.createQuery("SELECT " + COLUMNS
            + " FROM sentinel_bundle WHERE channel = :channel AND NOT staged ORDER BY id DESC"
            + " LIMIT 1")
        .bind("channel", channel)
        .map(ROW)
        .findOne());
  }

  @Override
  public Optional<String> headDigest(String channel) {
    PublishedBundle.checkChannel(channel);
    return database.jdbi().withHandle(h -> h.createQuery("SELECT digest FROM sentinel_bundle"
            + " WHERE channel = :channel AND NOT staged ORDER BY id DESC LIMIT 1")
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
            + " :revision, :lastError, :startedAt, :seenAt, :calls, :denied, :errors)"
            + " ON CONFLICT (instance) DO UPDATE SET"
            + " host = excluded.host, version = excluded.version, channel = excluded.channel,"
            + " digest = excluded.digest, sequence = excluded.sequence,"
            + " revision = excluded.revision, last_error = excluded.last_error,"
            + " started_at = excluded.started_at, seen_at = excluded.seen_at,"
            + " calls = excluded.calls, denied = excluded.denied, errors = excluded.errors")
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
        .bind("calls", beat.counters().calls())
        .bind("denied", beat.counters().denied())
        .bind("errors", beat.counters().errors())
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
