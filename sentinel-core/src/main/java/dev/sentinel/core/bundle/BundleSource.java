package dev.sentinel.core.bundle;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

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
   * The bundle this gateway should load now, given its state file: {@link #fetch} by default; a
   * channel's rollout may select its bundle for a canary, or let a canary of an aborted rollout
   * go back to the bundle it ran before ({@link #channel(BundleStore, String, String, String)}).
   *
   * @throws BundleException as {@link #fetch}, or when a rollout names a bundle that is not
   *     published on the channel
   */
  default Selected select(Optional<BundleState> state) {
    return Selected.of(fetch());
  }

  /**
   * What {@link #select} would select now, cheaply: the digest, and for a canary {@code
   * #rollout-<id>}, compared with {@link RunningBundle#selectionKey()}; empty when there is
   * nothing. The default {@link #peek}s.
   *
   * @param canary the running bundle's canary mark, or {@code null}
   * @throws RuntimeException if the source cannot be read
   */
  default Optional<String> peekSelection(BundleState.@Nullable Canary canary) {
    return peek();
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
    return channel(store, channel, where, null);
  }

  /**
   * A channel of a store as one gateway of the fleet reads it: its head, unless a started rollout
   * names this gateway (or its state file's canary mark) as a canary, which selects the
   * rollout's bundle; a canary of an aborted rollout selects the head when that is the bundle its
   * mark says it ran before (the abort authorises that one rollback, and no other).
   *
   * @param member the gateway's instance as its heartbeats name it, or {@code null} when it is
   *     not known yet (a gateway starting: only its state file's mark makes it a canary)
   */
  static BundleSource channel(BundleStore store, String channel, String where, @Nullable String member) {
    Objects.requireNonNull(store, "store");
    PublishedBundle.checkChannel(channel);
    Objects.requireNonNull(where, "where");
    return new BundleSource() {
      private boolean canary(Rollout rollout, BundleState.@Nullable Canary mark) {
        return rollout.started() && ((member != null && rollout.canaries().contains(member))
            || (mark != null && mark.rollout() == rollout.id()));
      }

      @Override
      public Selected select(Optional<BundleState> state) {
        BundleState.Canary mark = state.map(BundleState::canary).orElse(null);
        Optional<Rollout> rollout;
        try {
          rollout = store.rollout(channel);
        } catch (RuntimeException e) {
          throw new BundleException("cannot read the rollout of channel '" + channel + "' from "
              + where + ": " + e.getMessage(), e);
        }
        if (rollout.isPresent() && canary(rollout.get(), mark)) {
          Rollout r = rollout.get();
          PublishedBundle staged = store.published(channel, r.digest()).orElseThrow(() ->
              new BundleException(r.describe() + " names a bundle that is not published on"
                  + " the channel in " + where + ": publish it with sentinel bundle publish FILE"
                  + " --channel " + channel + " --staged, or abort the rollout"));
          try {
            return new Selected(Bundle.parse(staged.bytes()), rollout, Optional.empty());
          } catch (BundleException e) {
            throw new BundleException("the bundle of " + r.describe() + " is not a bundle this"
                + " gateway reads: " + e.getMessage(), e);
          }
        }
        Bundle head = fetch();
        if (rollout.isPresent() && rollout.get().state() == Rollout.State.ABORTED && mark != null
            && mark.rollout() == rollout.get().id()
            && head.digest().equals(mark.previousDigest())) {
          return new Selected(head, Optional.empty(), rollout);
        }
        return Selected.of(head);
      }

      @Override
      public Optional<String> peekSelection(BundleState.@Nullable Canary mark) {
        Optional<Rollout> rollout = store.rollout(channel);
        if (rollout.isPresent() && canary(rollout.get(), mark)) {
          return Optional.of(rollout.get().digest() + "#rollout-" + rollout.get().id());
        }
        return peek();
      }

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
