package dev.sentinel.mcp.gateway;

import dev.sentinel.core.bundle.BundleSettings;
import dev.sentinel.core.bundle.BundleSource;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.RunningBundle;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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
 * <p>After each read it sends the gateway's {@link Heartbeat} to the store (instance, host,
 * version, the bundle it runs, the config revision, the last apply error), which {@code sentinel
 * fleet status} compares with the channel's head.
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
  private final BundleStore fleet; // null: no heartbeats
  private final String host;
  private final String run;
  private final Instant started;
  private volatile BundleStore.Watch watch;
  // Guarded by this.
  private String tried;
  private String lastError;

  private BundleChannelWatcher(ConfigReloader reloader, BundleSource source,
      Consumer<ConfigReloader.Result> listener, BundleStore fleet) {
    this.reloader = reloader;
    this.source = source;
    this.listener = listener;
    this.fleet = fleet;
    this.host = hostName();
    // The audit's instance (gateway name and pid) repeats across hosts and containers (pid 1):
    // the heartbeat's key adds the host and a token of this run.
    this.run = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 32);
    this.started = reloader.runtime().clock().instant();
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
    BundleStore store = reloader.bundleSources().store(settings.database());
    BundleSource source =
        BundleSource.channel(store, settings.channel(), settings.database().safeUrl());
    return Optional.of(start(reloader, source, settings.pollInterval(), listener, store));
  }

  /**
   * Starts following a source: checks now, on each change it tells of, and every {@code
   * interval}.
   */
  public static BundleChannelWatcher start(ConfigReloader reloader, BundleSource source,
      Duration interval, Consumer<ConfigReloader.Result> listener) {
    return start(reloader, source, interval, listener, null);
  }

  private static BundleChannelWatcher start(ConfigReloader reloader, BundleSource source,
      Duration interval, Consumer<ConfigReloader.Result> listener, BundleStore fleet) {
    Objects.requireNonNull(reloader, "reloader");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(listener, "listener");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("the poll interval must be positive, was " + interval);
    }
    BundleChannelWatcher watcher = new BundleChannelWatcher(reloader, source, listener, fleet);
    watcher.executor.scheduleWithFixedDelay(watcher::checkQuietly, 0, interval.toMillis(),
        TimeUnit.MILLISECONDS);
    watcher.watch = source.watch(() -> {
      try {
        watcher.executor.execute(watcher::checkQuietly);
      } catch (RejectedExecutionException e) {
        // Closing: nothing left to follow.
      }
    });
    log.info("following {} (every {} and on notification where the database sends them)",
        source.describe(), interval);
    return watcher;
  }

  /**
   * Reads the head and applies it if it is new: what the timer and notifications run.
   *
   * @return the reload's result, or empty when there was nothing new to apply
   * @throws RuntimeException if the source cannot be read
   */
  synchronized Optional<ConfigReloader.Result> check() {
    Optional<String> head = source.peek();
    if (head.isEmpty()) {
      return Optional.empty();
    }
    String running = reloader.runtime().config().fromBundle().map(RunningBundle::digest)
        .orElse(null);
    if (head.get().equals(running)) {
      lastError = null;
      return Optional.empty();
    }
    if (head.get().equals(tried)) {
      return Optional.empty();
    }
    tried = head.get();
    ConfigReloader.Result result = reloader.reload();
    lastError = result.applied() ? null : result.problems().toString();
    return Optional.of(result);
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
    if (running == null || running.settings().channel() == null) {
      return;
    }
    String error;
    synchronized (this) {
      error = lastError;
    }
    try {
      fleet.heartbeat(new Heartbeat(runtime.sentinel().instance() + "@" + host + "/" + run, host,
          GatewayRuntime.version(),
          running.settings().channel(), running.digest(), running.sequence(),
          runtime.sentinel().revision(), error, started, runtime.clock().instant()));
    } catch (RuntimeException e) {
      log.warn("cannot send the heartbeat to {}: {}", source.describe(), e.toString());
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
    executor.shutdownNow();
    try {
      // A reload in progress finishes before the runtime it swaps into is closed.
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
