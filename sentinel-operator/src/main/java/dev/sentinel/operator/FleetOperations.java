package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.api.Clock;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.PublishedBundle;
import dev.sentinel.core.bundle.Rollout;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The fleet as operators watch it: each gateway that follows a channel, what it runs against
 * what its channel's head says it should (desired), and whether it still reports. Thread-safe.
 */
public final class FleetOperations {
  /** How long a gateway may go without a heartbeat before it shows as stale, by default. */
  public static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(1);

  private final BundleStore store;
  private final Clock clock;

  FleetOperations(BundleStore store, Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Where a gateway stands. */
  public enum State {
    /** It runs its desired bundle: its channel's head, or its rollout's for a canary. */
    IN_SYNC,
    /** It runs another bundle than its desired one (see its last error for why). */
    DRIFT,
    /** It has not reported for longer than the stale period: it may be down or cut off. */
    STALE
  }

  /**
   * One gateway of the fleet.
   *
   * @param heartbeat its last heartbeat
   * @param desired its channel's head (for a canary of a started rollout, the rollout's bundle),
   *     or empty when the channel has none or the gateway runs a bundle file (whose heartbeat's
   *     error says when the file holds another bundle)
   * @param state where it stands
   */
  public record Member(Heartbeat heartbeat, Optional<PublishedBundle> desired, State state) {
    /** Validates. */
    public Member {
      Objects.requireNonNull(heartbeat, "heartbeat");
      Objects.requireNonNull(desired, "desired");
      Objects.requireNonNull(state, "state");
    }
  }

  /**
   * Every gateway that ever reported, by channel then instance, with where it stands.
   *
   * @param staleAfter how long without a heartbeat makes a gateway stale; positive
   * @throws OperatorException ({@code INVALID}) for a stale period that is not positive,
   *     ({@code UNAVAILABLE}) if the store cannot be read
   */
  public List<Member> status(Duration staleAfter) {
    Objects.requireNonNull(staleAfter, "staleAfter");
    if (staleAfter.isNegative() || staleAfter.isZero()) {
      throw OperatorException.invalid("the stale period must be positive, got " + staleAfter);
    }
    List<Heartbeat> beats;
    Map<String, Optional<PublishedBundle>> heads = new HashMap<>();
    Map<String, Optional<PublishedBundle>> canaryBundles = new HashMap<>();
    Map<String, Optional<Rollout>> rollouts = new HashMap<>();
    try {
      beats = store.heartbeats();
      for (Heartbeat beat : beats) {
        if (beat.channel() != null) {
          heads.computeIfAbsent(beat.channel(), store::head);
          Optional<Rollout> rollout = rollouts.computeIfAbsent(beat.channel(),
              c -> store.rollout(c).filter(Rollout::started));
          rollout.ifPresent(r -> canaryBundles.computeIfAbsent(beat.channel(),
              c -> store.published(c, r.digest())));
        }
      }
    } catch (RuntimeException e) {
      // The cause stays with the exception, for the log: a database's error is not the client's.
      throw new OperatorException(OperatorException.Kind.UNAVAILABLE, "the fleet's heartbeats"
          + " could not be read: try again", e);
    }
    Instant staleBefore = clock.instant().minus(staleAfter);
    List<Member> members = new ArrayList<>();
    for (Heartbeat beat : beats) {
      // Every channel of these heartbeats was read above, and a started rollout's bundle.
      Optional<PublishedBundle> desired = beat.channel() == null ? Optional.empty()
          : Objects.requireNonNull(heads.get(beat.channel()), "head read");
      Optional<Rollout> rollout = beat.channel() == null ? Optional.empty()
          : Objects.requireNonNull(rollouts.get(beat.channel()), "rollout read");
      if (rollout.isPresent() && rollout.get().canaries().contains(beat.instance())) {
        // A canary's desired bundle is its rollout's.
        desired = Objects.requireNonNull(canaryBundles.get(beat.channel()), "canary bundle read");
      }
      State state;
      if (beat.seenAt().isBefore(staleBefore)) {
        state = State.STALE;
      } else if (beat.channel() == null) {
        // A bundle file's gateway reports its own drift: the file holds another bundle.
        state = beat.lastError() == null ? State.IN_SYNC : State.DRIFT;
      } else if (desired.isPresent() && desired.get().digest().equals(beat.digest())) {
        state = State.IN_SYNC;
      } else {
        state = State.DRIFT;
      }
      members.add(new Member(beat, desired, state));
    }
    members.sort(Comparator.comparing((Member m) -> m.heartbeat().channel(),
            Comparator.nullsLast(Comparator.<String>naturalOrder()))
        .thenComparing(m -> m.heartbeat().instance()));
    return members;
  }
}
