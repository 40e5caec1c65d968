package dev.sentinel.operator;

import dev.sentinel.api.Clock;
import dev.sentinel.core.bundle.BundleException;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.PublishedBundle;
import dev.sentinel.core.bundle.Rollout;
import dev.sentinel.core.operator.OperatorException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Rollouts of a channel's bundle to canary gateways: start one (a bundle published on the
 * channel, canaries chosen among the gateways that report), compare the canaries' error and
 * denial rates with the rest's since it started, promote it (its bundle becomes the head, for
 * everyone) or abort it (the canaries go back to the bundle they ran before).
 *
 * <p>The rollout lives in the store ({@code sentinel_rollout}): each gateway reads it and decides
 * for itself, verifying the bundle it selects exactly as any other, so a rollout can only choose
 * among bundles the gateways trust. The automatic abort ({@code --abort-on-error-rate}) is not
 * here: every gateway of the channel runs it after its heartbeat ({@link
 * BundleStore#abortIfCanariesFail}), so it needs no operator; any of them may end the rollout,
 * once (the store decides races).
 *
 * <p>Thread-safe.
 */
public final class RolloutOperations {
  private static final Pattern COUNT = Pattern.compile("([1-9][0-9]{0,5})(%?)");

  private final BundleStore store;
  private final Clock clock;

  RolloutOperations(BundleStore store, Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * What to start.
   *
   * @param channel the channel
   * @param digest the bundle the canaries apply: published on the channel (staged, usually)
   * @param canary how many canaries: a count ({@code 1}) or a percentage of the live gateways
   *     ({@code 25%}, rounded up); ignored when {@code instances} names them, and may be {@code
   *     null} then (refused otherwise)
   * @param instances the canaries by instance, or empty to choose {@code canary} of them
   * @param abortOnErrorRate the canaries' error rate that aborts the rollout, or {@code null}
   * @param staleAfter how long without a heartbeat makes a gateway not live
   */
  public record Start(String channel, String digest, @Nullable String canary,
      List<String> instances,
      @Nullable Double abortOnErrorRate, Duration staleAfter) {
    /** Validates and copies. */
    public Start {
      Objects.requireNonNull(digest, "digest");
      instances = List.copyOf(instances);
      Objects.requireNonNull(staleAfter, "staleAfter");
    }
  }

  /**
   * Starts a rollout: the canaries are chosen among the channel's live gateways (those that
   * reported within {@code staleAfter}), by instance name, those in sync with the head first.
   *
   * @param actor who starts it
   * @throws OperatorException ({@code INVALID}) for a bundle not published on the channel, the
   *     head itself, a canary count or rate out of range, or a named instance that is not a live
   *     gateway of the channel; ({@code CONFLICT}) when the channel has a started rollout or no
   *     live gateway; ({@code UNAVAILABLE}) if the store cannot be used
   */
  public Rollout start(Start start, String actor) {
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(actor, "actor");
    String channel = checkChannel(start.channel());
    if (start.staleAfter().isNegative() || start.staleAfter().isZero()) {
      throw OperatorException.invalid("the stale period must be positive, got "
          + start.staleAfter());
    }
    Double rate = start.abortOnErrorRate();
    if (rate != null && !(rate > 0 && rate <= 1)) {
      throw OperatorException.invalid("--abort-on-error-rate must be above 0 and at most 1"
          + " (0.05 is 5%), got " + rate);
    }
    return call("start the rollout", () -> {
      PublishedBundle bundle = store.published(channel, start.digest()).orElseThrow(() ->
          OperatorException.invalid("bundle " + start.digest() + " is not published on channel '"
              + channel + "': publish it first with sentinel bundle publish FILE --channel "
              + channel + " --staged (the digest is what sentinel bundle inspect prints)"));
      Optional<PublishedBundle> head = store.head(channel);
      if (head.isPresent() && head.get().digest().equals(bundle.digest())) {
        throw OperatorException.invalid("bundle " + bundle.digest() + " is already the head of"
            + " channel '" + channel + "': every gateway runs it; nothing to roll out");
      }
      Optional<Rollout> current = store.rollout(channel).filter(Rollout::started);
      if (current.isPresent()) {
        throw OperatorException.conflict(current.get().describe() + " is started (by "
            + current.get().startedBy() + "): promote or abort it first");
      }
      Instant now = clock.instant();
      List<Heartbeat> live = live(channel, now.minus(start.staleAfter()));
      List<String> canaries = start.instances().isEmpty()
          ? choose(channel, start.canary(), live, head.map(PublishedBundle::digest).orElse(null))
          : named(channel, start.instances(), now.minus(start.staleAfter()));
      Map<String, Heartbeat.Counters> baseline = new HashMap<>();
      for (Heartbeat beat : live) {
        baseline.put(beat.instance(), beat.counters());
      }
      Rollout rollout = new Rollout(0, channel, bundle.digest(), bundle.sequence(), canaries,
          Rollout.State.STARTED, head.map(PublishedBundle::digest).orElse(null), rate, baseline,
          now, actor, null, null, null);
      return store.startRollout(rollout).orElseThrow(() -> OperatorException.conflict(
          "another rollout was started on channel '" + channel + "' meanwhile: see sentinel"
              + " rollout status"));
    });
  }

  /**
   * Promotes the channel's started rollout: its bundle becomes the channel's head, which every
   * gateway then applies (the canaries keep it).
   *
   * @throws OperatorException ({@code NOT_FOUND}) when no rollout is started on the channel,
   *     ({@code CONFLICT}) when it was ended meanwhile, ({@code UNAVAILABLE}) if the store
   *     cannot be used
   */
  public Rollout promote(String channel, String actor) {
    return end(channel, Rollout.State.PROMOTED, actor, null);
  }

  /**
   * Aborts the channel's started rollout: the canaries go back to the bundle each ran before
   * (a rollback that this abort authorises, which each gateway audits); the others never left
   * the head.
   *
   * @param reason why, for the record, or {@code null}
   * @throws OperatorException as {@link #promote}
   */
  public Rollout abort(String channel, String actor, @Nullable String reason) {
    return end(channel, Rollout.State.ABORTED, actor, reason);
  }

  private Rollout end(String channel, Rollout.State to, String actor, @Nullable String reason) {
    Objects.requireNonNull(actor, "actor");
    checkChannel(channel);
    String verb = to == Rollout.State.PROMOTED ? "promote" : "abort";
    return call(verb + " the rollout", () -> {
      Rollout current = store.rollout(channel).filter(Rollout::started).orElseThrow(() ->
          OperatorException.notFound("no rollout is started on channel '" + channel + "': nothing"
              + " to " + verb + " (sentinel rollout status shows the last one)"));
      return store.endRollout(channel, current.id(), to, actor, clock.instant(), reason)
          .orElseThrow(() -> {
            Rollout now = store.rollout(channel).orElse(current);
            return OperatorException.conflict(current.describe() + " was "
                + now.state().name().toLowerCase(java.util.Locale.ROOT) + " by " + now.endedBy()
                + " meanwhile: nothing changed");
          });
    });
  }

  /**
   * The calls of a group of gateways since the rollout started.
   *
   * @param instances how many gateways are in it
   * @param counters their calls, denials and errors since the start
   */
  public record Rates(int instances, Heartbeat.Counters counters) {
    /** Validates. */
    public Rates {
      Objects.requireNonNull(counters, "counters");
    }

    /** Errors per call, or 0 without calls. */
    public double errorRate() {
      return counters.calls() == 0 ? 0 : (double) counters.errors() / counters.calls();
    }

    /** Denials per call, or 0 without calls. */
    public double denialRate() {
      return counters.calls() == 0 ? 0 : (double) counters.denied() / counters.calls();
    }
  }

  /**
   * One gateway of the channel during a rollout.
   *
   * @param heartbeat its last heartbeat
   * @param canary whether the rollout names it
   * @param applied whether it runs what the rollout wants of it (the rollout's bundle for a
   *     canary while started, the head otherwise)
   * @param stale whether it stopped reporting
   */
  public record Member(Heartbeat heartbeat, boolean canary, boolean applied, boolean stale) {}

  /**
   * A rollout and how its canaries fare against the rest.
   *
   * @param rollout the channel's latest rollout
   * @param canaries the canaries' calls since it started
   * @param rest the other gateways' calls since it started
   * @param members the channel's gateways
   */
  public record Status(Rollout rollout, Rates canaries, Rates rest, List<Member> members) {
    /** Validates and copies. */
    public Status {
      Objects.requireNonNull(rollout, "rollout");
      members = List.copyOf(members);
    }
  }

  /**
   * The channel's latest rollout, with the canaries' error and denial rates against the rest's,
   * computed from the heartbeats' counters less their values when it started.
   *
   * @throws OperatorException ({@code NOT_FOUND}) when the channel never had a rollout,
   *     ({@code UNAVAILABLE}) if the store cannot be read
   */
  public Status status(String channel, Duration staleAfter) {
    checkChannel(channel);
    Objects.requireNonNull(staleAfter, "staleAfter");
    return call("read the rollout", () -> {
      Rollout rollout = store.rollout(channel).orElseThrow(() -> OperatorException.notFound(
          "channel '" + channel + "' never had a rollout: start one with sentinel rollout start"
              + " --channel " + channel + " --bundle DIGEST --canary 1"));
      Optional<String> head = store.headDigest(channel);
      return status(rollout, head.orElse(null), store.heartbeats(),
          clock.instant().minus(staleAfter));
    });
  }

  static Status status(
      Rollout rollout, @Nullable String head, List<Heartbeat> beats, Instant staleBefore) {
    Heartbeat.Counters canary = rollout.countersSince(beats, true);
    Heartbeat.Counters rest = rollout.countersSince(beats, false);
    int canaries = 0;
    int others = 0;
    List<Member> members = new ArrayList<>();
    for (Heartbeat beat : beats) {
      if (!rollout.channel().equals(beat.channel())) {
        continue;
      }
      boolean isCanary = rollout.canaries().contains(beat.instance());
      if (isCanary) {
        canaries++;
      } else {
        others++;
      }
      String wanted = isCanary && rollout.started() ? rollout.digest() : head;
      members.add(new Member(beat, isCanary, beat.digest().equals(wanted),
          beat.seenAt().isBefore(staleBefore)));
    }
    members.sort(Comparator.comparing((Member m) -> !m.canary())
        .thenComparing(m -> m.heartbeat().instance()));
    return new Status(rollout, new Rates(canaries, canary), new Rates(others, rest), members);
  }

  private List<Heartbeat> live(String channel, Instant staleBefore) {
    List<Heartbeat> live = new ArrayList<>();
    for (Heartbeat beat : store.heartbeats()) {
      if (channel.equals(beat.channel()) && !beat.seenAt().isBefore(staleBefore)) {
        live.add(beat);
      }
    }
    return live;
  }

  private static List<String> choose(String channel, @Nullable String canary, List<Heartbeat> live,
      @Nullable String head) {
    if (canary == null) {
      throw OperatorException.invalid("name the canaries: --canary N (a count), --canary N%"
          + " (a percentage of the live gateways), or --canary-instance ID");
    }
    Matcher m = COUNT.matcher(canary.strip());
    if (!m.matches()) {
      throw OperatorException.invalid("--canary must be a count such as 1 or a percentage such"
          + " as 25%, got '" + canary + "'");
    }
    int n = Integer.parseInt(m.group(1));
    boolean percent = !m.group(2).isEmpty();
    if (percent && n > 100) {
      throw OperatorException.invalid("--canary " + canary + " is above 100%");
    }
    if (live.isEmpty()) {
      throw OperatorException.conflict("no gateway of channel '" + channel + "' reports: a"
          + " rollout needs live gateways to choose canaries from (see sentinel fleet status)");
    }
    int count = percent ? (int) Math.ceil(live.size() * n / 100.0) : n;
    if (count >= live.size()) {
      throw OperatorException.invalid("--canary " + canary + " would make " + count + " of the "
          + live.size() + " live gateways of channel '" + channel + "' canaries: leave at least"
          + " one on the head to compare with, or publish the bundle as the head");
    }
    List<Heartbeat> order = new ArrayList<>(live);
    // Gateways that run the head first: a gateway already drifting says little about a bundle.
    order.sort(Comparator.comparing((Heartbeat b) -> !b.digest().equals(head))
        .thenComparing(Heartbeat::instance));
    List<String> chosen = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      chosen.add(order.get(i).instance());
    }
    return chosen;
  }

  private List<String> named(String channel, List<String> instances, Instant staleBefore) {
    Map<String, Heartbeat> beats = new HashMap<>();
    for (Heartbeat beat : store.heartbeats()) {
      beats.put(beat.instance(), beat);
    }
    Set<String> chosen = new LinkedHashSet<>();
    for (String instance : instances) {
      Heartbeat beat = beats.get(instance);
      if (beat == null || !channel.equals(beat.channel())) {
        throw OperatorException.invalid("instance '" + instance + "' is not a gateway of channel '"
            + channel + "': name instances as sentinel fleet status lists them");
      }
      if (beat.seenAt().isBefore(staleBefore)) {
        throw OperatorException.invalid("instance '" + instance + "' is stale (last heartbeat "
            + beat.seenAt() + "): a canary must be a live gateway, or the rollout would never"
            + " reach it");
      }
      chosen.add(instance);
    }
    return List.copyOf(chosen);
  }

  private static String checkChannel(String channel) {
    try {
      return PublishedBundle.checkChannel(channel);
    } catch (BundleException e) {
      throw OperatorException.invalid(Objects.requireNonNullElse(e.getMessage(), e.toString()));
    }
  }

  private static <T> T call(String what, Supplier<T> operation) {
    try {
      return operation.get();
    } catch (OperatorException e) {
      throw e;
    } catch (BundleException e) {
      throw new OperatorException(OperatorException.Kind.INVALID,
          Objects.requireNonNullElse(e.getMessage(), e.toString()));
    } catch (UnsupportedOperationException e) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "rollouts need a bundle"
          + " store that keeps them (the fleet's database)");
    } catch (RuntimeException e) {
      // The cause stays with the exception, for the log: a database's error is not the client's.
      throw new OperatorException(OperatorException.Kind.UNAVAILABLE, "could not " + what
          + ": the bundle store is unavailable; try again", e);
    }
  }
}
