package dev.sentinel.core.bundle;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a gateway reads the signed bundle it runs: a file ({@link #file}) or a channel of a
 * {@link BundleStore} ({@link #channel}). A source only reads; what it reads is verified the same
 * way whatever the source (the config loader checks signatures, threshold and sequence).
 *
 * <p>Implementations are thread-safe.
 */
public interface BundleSource {

  /**
   * Reads the bundle, checked as {@link Bundle#parse} checks it; its signatures are not verified
   * yet.
   *
   * @throws BundleException saying what to check: no bundle there, not a bundle, unreadable
   */
  Bundle fetch();

  /** Where the bundle is read, for messages: {@code bundle file /etc/prod.bundle}. */
  String describe();

  /**
   * The digest of the bundle {@link #fetch} would read now, cheaply where the source can tell,
   * or empty when there is none: what a watcher compares with the running bundle. The default
   * fetches.
   *
   * @throws RuntimeException if the source cannot be read
   */
  default Optional<String> peek() {
    return Optional.of(fetch().digest());
  }

  /**
   * Calls {@code onChange} soon after the source may hold another bundle, when it can tell (a
   * store's {@link BundleStore#watch}). The default watches nothing: watchers poll.
   */
  default BundleStore.Watch watch(Runnable onChange) {
    return () -> {};
  }

  /** A bundle file, read whole at each {@link #fetch}. */
  static BundleSource file(Path file) {
    Objects.requireNonNull(file, "file");
    return new BundleSource() {
      @Override
      public Bundle fetch() {
        return Bundle.read(file);
      }

      @Override
      public String describe() {
        return "bundle file " + file;
      }
    };
  }

  /**
   * The head of a channel of a store: the bundle published there last.
   *
   * @param where the store's location for messages, such as its database URL without password
   */
  static BundleSource channel(BundleStore store, String channel, String where) {
    Objects.requireNonNull(store, "store");
    PublishedBundle.checkChannel(channel);
    Objects.requireNonNull(where, "where");
    return new BundleSource() {
      @Override
      public Bundle fetch() {
        PublishedBundle head;
        try {
          head = store.head(channel).orElse(null);
        } catch (BundleException e) {
          throw e;
        } catch (RuntimeException e) {
          throw new BundleException("cannot read channel '" + channel + "' from " + where + ": "
              + e.getMessage(), e);
        }
        if (head == null) {
          throw new BundleException("no bundle is published on channel '" + channel + "' in "
              + where + ": check the channel's name, or publish one with sentinel bundle publish"
              + " FILE --channel " + channel);
        }
        try {
          return Bundle.parse(head.bytes());
        } catch (BundleException e) {
          throw new BundleException("the head of channel '" + channel + "' (published "
              + head.publishedAt() + " by " + head.publishedBy() + ") is not a bundle this"
              + " gateway reads: " + e.getMessage(), e);
        }
      }

      @Override
      public Optional<String> peek() {
        return store.headDigest(channel);
      }

      @Override
      public BundleStore.Watch watch(Runnable onChange) {
        return store.watch(onChange);
      }

      @Override
      public String describe() {
        return "channel '" + channel + "' in " + where;
      }
    };
  }
}
