package dev.sentinel.core.bundle;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Where signed bundles are published for a fleet of gateways, and where the gateways report what
 * they run ({@link #heartbeat}): each channel ({@code prod},
 * {@code canary}) has a head, the bundle published on it last, which every gateway following the
 * channel loads, verifies and applies ({@code bundle: { source: database, channel: prod }}).
 * sentinel-jdbc's {@code JdbcBundleStore} keeps them in the database's {@code sentinel_bundle}
 * table; {@link #inMemory()} in this process.
 *
 * <p>A store checks only that what is published is a bundle ({@link Bundle#parse}): trust is each
 * gateway's to decide, against its own trust roots and the sequence it runs. A publish is atomic:
 * a reader sees the new head whole, or the old one.
 *
 * <p>Implementations are thread-safe.
 */
public interface BundleStore {

  /**
   * Publishes a bundle's bytes on a channel, as its new head.
   *
   * @param publishedBy who publishes, recorded beside it
   * @return what was stored
   * @throws BundleException if the bytes are not a bundle or the channel name is invalid;
   *     nothing was stored
   * @throws RuntimeException if the store cannot be written; nothing was stored
   */
  PublishedBundle publish(String channel, byte[] bundle, String publishedBy, Instant at);

  /**
   * The bundle published on the channel last, or empty when none was.
   *
   * @throws RuntimeException if the store cannot be read
   */
  Optional<PublishedBundle> head(String channel);

  /**
   * The digest of the channel's head, or empty when none was published: what a gateway polls,
   * cheaper than {@link #head}. The default reads the head.
   *
   * @throws RuntimeException if the store cannot be read
   */
  default Optional<String> headDigest(String channel) {
    return head(channel).map(PublishedBundle::digest);
  }

  /**
   * Calls {@code onPublish} soon after any process publishes on the store (PostgreSQL: on a
   * {@code NOTIFY}), when the store can tell; gateways poll as well, so a watch only makes a new
   * bundle seen sooner. The callback runs on a thread of the store's and must return quickly.
   * The default watches nothing.
   *
   * @return the watch; close it to stop
   */
  default Watch watch(Runnable onPublish) {
    return () -> {};
  }

  /**
   * Records a gateway's heartbeat, replacing the one it sent before (same instance).
   *
   * @throws RuntimeException if the store cannot be written
   */
  void heartbeat(Heartbeat beat);

  /**
   * The last heartbeat of every gateway that ever sent one, by instance.
   *
   * @throws RuntimeException if the store cannot be read
   */
  List<Heartbeat> heartbeats();

  /**
   * Stores a bundle's bytes on a channel without making it the head: what a rollout stages for
   * its canaries ({@code sentinel bundle publish FILE --channel prod --staged}).
   *
   * @throws BundleException as {@link #publish}
   * @throws UnsupportedOperationException if this store has no rollouts
   */
  default PublishedBundle publishStaged(String channel, byte[] bundle, String publishedBy,
      Instant at) {
    throw new UnsupportedOperationException("this bundle store has no rollouts");
  }

  /**
   * The bundle with this digest published on the channel (staged, or once its head), the latest
   * such, or empty.
   *
   * @throws RuntimeException if the store cannot be read
   */
  default Optional<PublishedBundle> published(String channel, String digest) {
    return head(channel).filter(h -> h.digest().equals(digest));
  }

  /**
   * Starts a rollout on its channel, unless one is started there already.
   *
   * @param rollout the rollout to store; its {@code id} is ignored (the store numbers it) and its
   *     state must be {@link Rollout.State#STARTED}
   * @return the rollout stored, or empty when the channel has a started rollout
   * @throws UnsupportedOperationException if this store has no rollouts
   * @throws RuntimeException if the store cannot be written
   */
  default Optional<Rollout> startRollout(Rollout rollout) {
    throw new UnsupportedOperationException("this bundle store has no rollouts");
  }

  /**
   * The channel's latest rollout (started, promoted or aborted), or empty when it never had one.
   *
   * @throws RuntimeException if the store cannot be read
   */
  default Optional<Rollout> rollout(String channel) {
    return Optional.empty();
  }

  /**
   * Ends a started rollout, atomically: to {@link Rollout.State#PROMOTED}, publishing its bundle
   * as the channel's head in the same transaction, or to {@link Rollout.State#ABORTED}. Of two
   * operators (or gateways) ending it at once, one wins; the other's answer is empty.
   *
   * @param id the rollout to end, which must still be started
   * @param reason why (for an abort), or {@code null}
   * @return the ended rollout, or empty when it is no longer started (or never was)
   * @throws UnsupportedOperationException if this store has no rollouts
   * @throws RuntimeException if the store cannot be written; nothing changed then
   */
  default Optional<Rollout> endRollout(String channel, long id, Rollout.State to, String by,
      Instant at, @Nullable String reason) {
    throw new UnsupportedOperationException("this bundle store has no rollouts");
  }

  /**
   * The automatic abort: when the channel's started rollout is {@linkplain Rollout#failing
   * failing}, aborts it as {@value Rollout#AUTOMATIC}. Every gateway of the channel runs this
   * after its heartbeat, so the abort needs no operator and no particular gateway; it is
   * idempotent ({@link #endRollout} lets one abort win, the others find nothing to do).
   *
   * @return the rollout this call aborted, or empty
   * @throws RuntimeException if the store cannot be used
   */
  default Optional<Rollout> abortIfCanariesFail(String channel, Instant now) {
    Optional<Rollout> current = rollout(channel).filter(Rollout::started);
    if (current.isEmpty() || current.get().abortThreshold().isEmpty()) {
      return Optional.empty();
    }
    Optional<String> failing = current.get().failing(heartbeats());
    if (failing.isEmpty()) {
      return Optional.empty();
    }
    return endRollout(channel, current.get().id(), Rollout.State.ABORTED, Rollout.AUTOMATIC, now,
        failing.get());
  }

  /**
   * Deletes the heartbeats last seen before {@code before}: old runs' rows, off the request path.
   *
   * @return how many were deleted
   * @throws RuntimeException if the store cannot be written
   */
  default int purgeHeartbeats(Instant before) {
    return 0;
  }

  /** A running {@link #watch}. */
  @FunctionalInterface
  interface Watch extends AutoCloseable {
    /** Stops watching. Idempotent. */
    @Override
    void close();
  }

  /** A store in this process's memory, for tests and embedders: it lasts as long as it runs. */
  static BundleStore inMemory() {
    return new InMemoryBundleStore();
  }
}
