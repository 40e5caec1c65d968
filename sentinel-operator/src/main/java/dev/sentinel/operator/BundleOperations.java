package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.api.Clock;
import dev.sentinel.core.bundle.BundleException;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.PublishedBundle;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Signed bundles as operators ship them to a fleet: publish a bundle on a channel, read a
 * channel's head. Publishing checks that the bytes are a bundle and the channel name is valid,
 * and nothing more: whether a bundle is trusted is each gateway's decision, against its own
 * trust roots and the sequence it runs, so a publish cannot make a gateway accept what it would
 * not. Thread-safe.
 */
public final class BundleOperations {
  private final BundleStore store;
  private final Clock clock;

  BundleOperations(BundleStore store, Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Publishes a bundle's bytes as the channel's new head, atomically: gateways following the
   * channel see it whole or not at all.
   *
   * @param actor who publishes, recorded beside the bundle
   * @throws OperatorException ({@code INVALID}) if the bytes are not a bundle or the channel
   *     name is invalid, ({@code UNAVAILABLE}) if the store cannot be written; nothing was
   *     published then
   */
  public PublishedBundle publish(String channel, byte[] bundle, String actor) {
    Objects.requireNonNull(bundle, "bundle");
    Objects.requireNonNull(actor, "actor");
    return call("publish the bundle", () -> store.publish(channel, bundle, actor, clock.instant()));
  }

  /**
   * Stores a bundle's bytes on the channel without making it the head: what a rollout then
   * gives its canaries ({@link RolloutOperations#start}).
   *
   * @throws OperatorException as {@link #publish}, and ({@code UNSUPPORTED}) for a store
   *     without rollouts
   */
  public PublishedBundle publishStaged(String channel, byte[] bundle, String actor) {
    Objects.requireNonNull(bundle, "bundle");
    Objects.requireNonNull(actor, "actor");
    return call("stage the bundle",
        () -> store.publishStaged(channel, bundle, actor, clock.instant()));
  }

  /**
   * The bundle published on the channel last, or empty when none was.
   *
   * @throws OperatorException ({@code INVALID}) for an invalid channel name, ({@code
   *     UNAVAILABLE}) if the store cannot be read
   */
  public Optional<PublishedBundle> head(String channel) {
    return call("read the channel", () -> store.head(channel));
  }

  private static <T> T call(String what, Supplier<T> operation) {
    try {
      return operation.get();
    } catch (BundleException e) {
      throw new OperatorException(OperatorException.Kind.INVALID,
          Objects.requireNonNullElse(e.getMessage(), e.toString()));
    } catch (OperatorException e) {
      throw e;
    } catch (UnsupportedOperationException e) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "staging a bundle needs a"
          + " bundle store that keeps rollouts (the fleet's database)");
    } catch (RuntimeException e) {
      // The cause stays with the exception, for the log: a database's error is not the client's.
      throw new OperatorException(OperatorException.Kind.UNAVAILABLE, "could not " + what
          + ": the bundle store is unavailable; nothing changed: try again", e);
    }
  }
}
