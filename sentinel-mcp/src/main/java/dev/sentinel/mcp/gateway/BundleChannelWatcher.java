package dev.sentinel.mcp.gateway;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.core.SentinelListener;
import dev.sentinel.core.bundle.BundleSettings;
import dev.sentinel.core.bundle.BundleSource;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.RunningBundle;
import dev.sentinel.core.bundle.Rollout;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the bundles published on the channel a gateway follows ({@code bundle: { source:
 * database, channel: prod }}): it reads the channel's head digest every {@code poll_interval},
 * and at once when the store tells of a publish (PostgreSQL's {@code LISTEN/NOTIFY}); a head that
 * is neither the running bundle nor one already tried is loaded, verified and swapped in through
 * the {@link ConfigReloader} (the one path every reload takes), so a bundle that does not verify
 * or would roll back is refused, audited ({@code sentinel/bundle.refuse}) and the running config
 * keeps serving. A refused head is not tried again until another is published (or an operator
 * reloads by hand): a fleet does not re-audit one bad bundle every few seconds.
 *
 * <p>It reads the channel as this gateway's member of the fleet: a started rollout that names it
 * as a canary selects the rollout's bundle instead of the head, and an aborted one sends it back
 * to the bundle it ran before ({@link BundleSource#channel(BundleStore, String, String,
 * String)}); whatever is selected is verified as any bundle is.
 *
 * <p>After each read it sends the gateway's {@link Heartbeat} to the store (instance, host,
 * version, the bundle it runs, the config revision, the last apply error, and the counts of the
 * calls it governed), which {@code sentinel fleet status} and {@code sentinel rollout status}
 * read; then it checks whether the channel's rollout must be aborted automatically ({@link
 * BundleStore#abortIfCanariesFail}).
 *
 * <p>{@link ConfigWatcher} starts one for a gateway on a database channel; its {@code close}
 * stops it.
 *
 * <p>Thread-safe. Runs on one daemon thread (and the store's listener thread) until {@link
 * #close()}.
 */
public final class BundleChannelWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BundleChannelWatcher.class);

  private final ConfigReloader reloader;
  private final BundleSource source;
  private final Consumer<ConfigReloader.Result> listener;
  private final ScheduledExecutorService executor;
  private final @Nullable BundleStore fleet; // null: no heartbeats
  private final String host;
  private final String member; // null: no fleet, reload as anyone
  private final Instant started;
  private final CallCounter counter = new CallCounter();
  private final boolean reportOnly; // a bundle file: the ConfigWatcher applies, this reports
  private volatile BundleStore.@Nullable Watch watch;
  // Guarded by this.
  private @Nullable String tried;
  private @Nullable String lastError;
  private @Nullable Instant purged;

  /** How long a heartbeat row is kept after its gateway's last one: old runs' rows go. */
  public static final Duration HEARTBEAT_RETENTION = Duration.ofDays(7);
  private static final Duration PURGE_EVERY = Duration.ofHours(1);

  private BundleChannelWatcher(ConfigReloader reloader, @Nullable BundleSource given,
      Consumer<ConfigReloader.Result> listener, @Nullable BundleStore fleet, boolean reportOnly) {
    this.reloader = reloader;
    this.reportOnly = reportOnly;
    this.listener = listener;
    this.fleet = fleet;
    this.host = hostName();
    // The audit's instance (gateway name and pid) repeats across hosts and containers (pid 1):
    // the heartbeat's key adds the host and a token of this run.
    String run = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 32);
    this.member = reloader.runtime().sentinel().instance() + "@" + host + "/" + run;
    this.started = reloader.runtime().clock().instant();
    if (given != null) {
      this.source = given;
    } else if (reportOnly) {
      // startIfBundle: a bundle that is not from a database is from a file (BundleSettings says)
      this.source = BundleSource.file(Objects.requireNonNull(
          reloader.runtime().config().fromBundle().orElseThrow().settings().file(), "file"));
    } else {
      // This gateway's own view of the channel: a rollout naming it selects the rollout's bundle.
      // startIfChannel: a database source, whose settings have a channel and a database, and
      // the store of that database as the fleet.
      BundleSettings settings = reloader.runtime().config().fromBundle().orElseThrow().settings();
      this.source = BundleSource.channel(Objects.requireNonNull(fleet, "fleet"),
          Objects.requireNonNull(settings.channel(), "channel"),
          Objects.requireNonNull(settings.database(), "database").safeUrl(), member);
    }
    this.executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "sentinel-bundle-channel");
      thread.setDaemon(true);
      return thread;
    });
  }

  /**
   * Starts following the channel of the reloader's running config, if it runs a bundle from a
   * database channel; empty otherwise.
   *
   * @param listener told each reload's result, on the watcher's thread; what it throws is logged
   * @throws dev.sentinel.core.bundle.BundleException if the reloader's bundle sources cannot
   *     reach the channel's database (a gateway that could not follow its channel must not start
   *     as if it did)
   */
  public static Optional<BundleChannelWatcher> startIfChannel(ConfigReloader reloader,
      Consumer<ConfigReloader.Result> listener) {
    Objects.requireNonNull(reloader, "reloader");
    Objects.requireNonNull(listener, "listener");
    Optional<RunningBundle> running = reloader.runtime().config().fromBundle();
    if (running.isEmpty() || running.get().settings().source() != BundleSettings.Source.DATABASE) {
      return Optional.empty();
    }
    BundleSettings settings = running.get().settings();
    // a database source has a database (BundleSettings checks)
    BundleStore store = reloader.bundleSources().store(
        Objects.requireNonNull(settings.database(), "database"));
    return Optional.of(start(reloader, null, settings.pollInterval(), listener, store, false));
  }

  /**
   * As {@link #startIfChannel}, and for a gateway that runs a bundle file: a watcher that only
   * reports (the {@link ConfigWatcher} applies the file): it compares the file's bundle with the
   * running one every {@link BundleSettings#DEFAULT_POLL_INTERVAL} for the drift gauge, and
   * sends heartbeats (channel {@code null}) to the bundle store of the gateway's own database,
   * when its config has one.
   */
  public static Optional<BundleChannelWatcher> startIfBundle(ConfigReloader reloader,
      Consumer<ConfigReloader.Result> listener) {
    Optional<BundleChannelWatcher> channel = startIfChannel(reloader, listener);
    Optional<RunningBundle> running = reloader.runtime().config().fromBundle();
    if (channel.isPresent() || running.isEmpty()) {
      return channel;
    }
    BundleStore store = reloader.runtime().stores().bundleStore().orElse(null);
    return Optional.of(start(reloader, null, BundleSettings.DEFAULT_POLL_INTERVAL, listener,
        store, true));
  }

  /**
   * Starts following a source: checks now, on each change it tells of, and every {@code
   * interval}.
   */
  public static BundleChannelWatcher start(ConfigReloader reloader, BundleSource source,
      Duration interval, Consumer<ConfigReloader.Result> listener) {
    return start(reloader, source, interval, listener, null, false);
  }

  private static BundleChannelWatcher start(ConfigReloader reloader, @Nullable BundleSource given,
      Duration interval, Consumer<ConfigReloader.Result> listener, @Nullable BundleStore fleet,
      boolean reportOnly) {
    Objects.requireNonNull(reloader, "reloader");
    Objects.requireNonNull(listener, "listener");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("the poll interval must be positive, was " + interval);
    }
    BundleChannelWatcher watcher =
        new BundleChannelWatcher(reloader, given, listener, fleet, reportOnly);
    reloader.runtime().addListener(watcher.counter);
    watcher.executor.scheduleWithFixedDelay(watcher::checkQuietly, 0, interval.toMillis(),
        TimeUnit.MILLISECONDS);
    watcher.watch = watcher.source.watch(() -> {
      try {
        watcher.executor.execute(watcher::checkQuietly);
      } catch (RejectedExecutionException e) {
        // Closing: nothing left to follow.
      }
    });
    log.info("following {} (every {} and on notification where the database sends them)",
        watcher.source.describe(), interval);
    return watcher;
  }

  /**
   * Reads the head and applies it if it is new: what the timer and notifications run.
   *
   * @return the reload's result, or empty when there was nothing new to apply
   * @throws RuntimeException if the source cannot be read
   */
  synchronized Optional<ConfigReloader.Result> check() {
    GatewayRuntime runtime = reloader.runtime();
    RunningBundle runs = runtime.config().fromBundle().orElse(null);
    Optional<String> head = source.peekSelection(runs == null ? null : runs.canary());
    if (head.isEmpty()) {
      return Optional.empty();
    }
    String running = runs == null ? null : runs.selectionKey();
    Optional<ConfigReloader.Result> result = Optional.empty();
    if (head.get().equals(running)) {
      lastError = null;
    } else if (reportOnly) {
      // The ConfigWatcher applies the file, or refuses it (audited, notified): this reports.
      lastError = source.describe() + " holds " + head.get() + ", which is not applied";
    } else if (!head.get().equals(tried)) {
      tried = head.get();
      ConfigReloader.Result r = member == null || fleet == null ? reloader.reload()
          : reloader.reloadAsMember(member);
      lastError = r.applied() ? null : r.problems().toString();
      result = Optional.of(r);
    }
    String now = runtime.config().fromBundle().map(RunningBundle::selectionKey).orElse(null);
    runtime.configDrift(head.get().equals(now) ? null : lastError != null ? lastError
        : "runs " + now + ", not " + head.get() + " (" + source.describe() + ")", head.get());
    return result;
  }

  private void checkQuietly() {
    Optional<ConfigReloader.Result> result;
    try {
      result = check();
    } catch (RuntimeException e) {
      // A scheduled task that throws never runs again: log, and read again at the next tick.
      log.warn("cannot read {}; the running config keeps serving, reading again later: {}",
          source.describe(), e.toString());
      synchronized (this) {
        lastError = "cannot read " + source.describe();
      }
      beat();
      return;
    }
    beat();
    abortIfCanariesFail();
    result.ifPresent(r -> {
      try {
        listener.accept(r);
      } catch (RuntimeException e) {
        log.warn("a bundle channel listener failed", e);
      }
    });
  }

  /** Reports what the gateway runs now; a store that cannot be written is logged, not fatal. */
  private void beat() {
    if (fleet == null) {
      return;
    }
    GatewayRuntime runtime = reloader.runtime();
    RunningBundle running = runtime.config().fromBundle().orElse(null);
    if (running == null) {
      return;
    }
    String error;
    synchronized (this) {
      error = lastError;
    }
    Instant now = runtime.clock().instant();
    try {
      fleet.heartbeat(new Heartbeat(member, host, GatewayRuntime.version(),
          running.settings().channel(), running.digest(), running.sequence(),
          runtime.sentinel().revision(), error, started, now, counter.counters()));
    } catch (RuntimeException e) {
      log.warn("cannot send the heartbeat to {}: {}", source.describe(), e.toString());
      return;
    }
    purgeHeartbeats(fleet, now);
  }

  /**
   * Deletes heartbeat rows older than {@link #HEARTBEAT_RETENTION}, at most once an hour per
   * gateway, on this watcher's thread (never a call's). Every gateway does it: the delete is
   * idempotent, and the fleet needs no gateway in particular.
   */
  private void purgeHeartbeats(BundleStore fleet, Instant now) {
    synchronized (this) {
      if (purged != null && now.isBefore(purged.plus(PURGE_EVERY))) {
        return;
      }
      purged = now;
    }
    try {
      int deleted = fleet.purgeHeartbeats(now.minus(HEARTBEAT_RETENTION));
      if (deleted > 0) {
        log.info("deleted {} heartbeats older than {}", deleted, HEARTBEAT_RETENTION);
      }
    } catch (RuntimeException e) {
      log.warn("cannot purge old heartbeats from {}: {}", source.describe(), e.toString());
    }
  }

  /**
   * The automatic abort of the channel's rollout when its canaries fail: every gateway of the
   * channel checks after its heartbeat, so it happens even when no operator looks and whichever
   * gateways are down; the store lets one abort win. The gateway that aborts audits it.
   */
  private void abortIfCanariesFail() {
    if (fleet == null) {
      return;
    }
    GatewayRuntime runtime = reloader.runtime();
    RunningBundle running = runtime.config().fromBundle().orElse(null);
    if (running == null || running.settings().channel() == null) {
      return;
    }
    try {
      fleet.abortIfCanariesFail(running.settings().channel(), runtime.clock().instant())
          .ifPresent(aborted -> {
        String reason = "aborted " + aborted.describe() + ": " + aborted.reason();
        log.warn("{}", reason);
        runtime.sentinel().recordEvent(Rollout.AUTOMATIC, "sentinel/rollout.abort",
            aborted.digest(), Outcome.ALLOWED, reason);
      });
    } catch (RuntimeException e) {
      log.warn("cannot check the rollout of {}: {}", source.describe(), e.toString());
    }
  }

  /** Checks the source soon, on the watcher's thread: after a reload of a bundle file. */
  void checkSoon() {
    try {
      executor.execute(this::checkQuietly);
    } catch (RejectedExecutionException e) {
      // Closing: nothing left to report.
    }
  }

  /** The member this gateway is in the fleet: its heartbeats' instance. */
  public String member() {
    return member;
  }

  /** Counts the governed calls that end, for the heartbeat. */
  private static final class CallCounter implements SentinelListener {
    private final LongAdder calls = new LongAdder();
    private final LongAdder denied = new LongAdder();
    private final LongAdder errors = new LongAdder();

    @Override
    public void completed(AuditEvent event) {
      Outcome outcome = event.outcome();
      if (outcome == null || outcome == Outcome.PENDING) {
        return;
      }
      calls.increment();
      if (outcome == Outcome.DENIED) {
        denied.increment();
      } else if (outcome == Outcome.FAILED || outcome == Outcome.TIMED_OUT
          || outcome == Outcome.UNAVAILABLE) {
        errors.increment();
      }
    }

    Heartbeat.Counters counters() {
      // Read errors and denials before calls: a call counted in between only lowers a rate.
      long e = errors.sum();
      long d = denied.sum();
      return new Heartbeat.Counters(Math.max(calls.sum(), d + e), d, e);
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException | SecurityException e) {
      String name = System.getenv("HOSTNAME");
      return name == null || name.isBlank() ? "unknown" : name;
    }
  }

  /** Why the last head read or applied failed, or empty when it succeeded. */
  public synchronized Optional<String> lastError() {
    return Optional.ofNullable(lastError);
  }

  /** Stops following the channel. Idempotent. */
  @Override
  public void close() {
    BundleStore.Watch current = watch;
    if (current != null) {
      current.close();
    }
    reloader.runtime().removeListener(counter);
    executor.shutdownNow();
    try {
      // A reload in progress finishes before the runtime it swaps into is closed.
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
