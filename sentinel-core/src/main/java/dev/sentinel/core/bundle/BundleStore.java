package dev.sentinel.core.bundle;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

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
