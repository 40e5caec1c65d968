package dev.sentinel.core.bundle;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A staged change of a channel: a bundle that only the canary gateways apply while the others
 * keep the channel's head, until an operator promotes it (it becomes the head, for everyone) or
 * aborts it (the canaries go back to the bundle they ran before). A channel has at most one
 * started rollout; its rollouts are kept, the latest being the channel's current one.
 *
 * <p>A rollout only selects which published bundle a gateway loads: the gateway verifies it
 * (signatures, threshold, sequence) exactly as it verifies the head, so a rollout, even one
 * written straight into the database, can never make a gateway run what it does not trust.
 *
 * @param id the rollout's number, increasing across the store
 * @param channel the channel it stages a bundle on
 * @param digest the digest of the bundle the canaries apply (published on the channel, {@link
 *     BundleStore#publishStaged staged} or once its head)
 * @param sequence that bundle's sequence number, as parsed when it was published
 * @param canaries the instances (as their heartbeats name them) that apply it
 * @param state where it stands
 * @param previousDigest the channel's head when it started (what the canaries go back to), or
 *     {@code null} when the channel had none
 * @param abortOnErrorRate the canaries' error rate above which any gateway of the channel aborts
 *     it, or {@code null} for none
 * @param baseline the counters of each live gateway when it started, by instance: rates are
 *     computed from the calls since
 * @param startedAt when it started
 * @param startedBy who started it
 * @param endedAt when it was promoted or aborted, or {@code null} while started
 * @param endedBy who promoted or aborted it, or {@code null} while started
 * @param reason why it was aborted (an automatic abort names the rate), or {@code null}
 */
public record Rollout(long id, String channel, String digest, long sequence,
    List<String> canaries, State state, @Nullable String previousDigest,
    @Nullable Double abortOnErrorRate,
    Map<String, Heartbeat.Counters> baseline, Instant startedAt, String startedBy,
    @Nullable Instant endedAt, @Nullable String endedBy, @Nullable String reason) {

  /** Where a rollout stands. */
  public enum State {
    /** The canaries run its bundle; the others the head. */
    STARTED,
    /** Its bundle became the channel's head. */
    PROMOTED,
    /** The canaries went back to the bundle they ran before. */
    ABORTED
  }

  /** Validates and copies. */
  public Rollout {
    PublishedBundle.checkChannel(channel);
    Objects.requireNonNull(digest, "digest");
    canaries = List.copyOf(canaries);
    Objects.requireNonNull(state, "state");
    baseline = Map.copyOf(baseline);
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(startedBy, "startedBy");
    if (abortOnErrorRate != null && !(abortOnErrorRate > 0 && abortOnErrorRate <= 1)) {
      throw new IllegalArgumentException("the abort error rate must be above 0 and at most 1,"
          + " got " + abortOnErrorRate);
    }
  }

  /** The fewest calls of the canaries since the start before an automatic abort may judge. */
  public static final long MIN_CALLS_TO_JUDGE = 20;

  /** Who an automatic abort is recorded as. */
  public static final String AUTOMATIC = "sentinel (automatic abort)";

  /**
   * The calls the gateways ended since this rollout started: each heartbeat's counters of this
   * channel less its {@link #baseline} (a gateway that started since counts from zero).
   *
   * @param canaries whether to count the canaries, or the rest
   */
  public Heartbeat.Counters countersSince(List<Heartbeat> beats, boolean canaries) {
    Heartbeat.Counters sum = Heartbeat.Counters.ZERO;
    for (Heartbeat beat : beats) {
      if (channel.equals(beat.channel()) && this.canaries.contains(beat.instance()) == canaries) {
        sum = sum.plus(beat.counters().since(
            baseline.getOrDefault(beat.instance(), Heartbeat.Counters.ZERO)));
      }
    }
    return sum;
  }

  /**
   * Why this started rollout must be aborted automatically, or empty: it has a threshold and its
   * canaries' error rate since the start is above it, over at least {@value #MIN_CALLS_TO_JUDGE}
   * calls.
   */
  public Optional<String> failing(List<Heartbeat> beats) {
    if (!started() || abortOnErrorRate == null) {
      return Optional.empty();
    }
    Heartbeat.Counters c = countersSince(beats, true);
    if (c.calls() < MIN_CALLS_TO_JUDGE || (double) c.errors() / c.calls() <= abortOnErrorRate) {
      return Optional.empty();
    }
    return Optional.of(String.format(java.util.Locale.ROOT, "the canaries' error rate %.4f (%d of"
        + " %d calls since the start) is above %s", (double) c.errors() / c.calls(), c.errors(),
        c.calls(), abortOnErrorRate));
  }

  /** The automatic abort's threshold, if any. */
  public Optional<Double> abortThreshold() {
    return Optional.ofNullable(abortOnErrorRate);
  }

  /** Whether it is started (neither promoted nor aborted). */
  public boolean started() {
    return state == State.STARTED;
  }

  /** One line for logs and the audit trail. */
  public String describe() {
    return "rollout " + id + " of bundle " + digest + " (sequence " + sequence + ") on channel '"
        + channel + "'";
  }
}
