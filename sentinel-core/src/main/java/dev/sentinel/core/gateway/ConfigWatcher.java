package dev.sentinel.core.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads a gateway when its config file, or the policy file it names, changes on disk. It
 * watches the files' directories (editors often replace a file by renaming a new one over it)
 * and waits for a quiet {@code debounce} after the last change before reloading, so that a save
 * in several writes reloads once. A bad edit is refused and logged with its located problems
 * ({@link ConfigReloader}); the old config keeps serving.
 *
 * <pre>{@code
 * try (ConfigWatcher watcher = ConfigWatcher.start(reloader, Duration.ofMillis(250), r -> {})) {
 *   ...
 * }
 * }</pre>
 *
 * <p>Thread-safe. Runs on two daemon threads (the watch loop and the debounce timer) until
 * {@link #close()}.
 */
public final class ConfigWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);

  private final ConfigReloader reloader;
  private final Duration debounce;
  private final Consumer<ConfigReloader.Result> listener;
  private final WatchService watch;
  private final ScheduledExecutorService timer;
  private final Thread loop;
  private final Set<Path> directories = new HashSet<>();
  private volatile Set<Path> files = Set.of();
  private ScheduledFuture<?> pending;
  private volatile boolean closed;

  private ConfigWatcher(ConfigReloader reloader, Duration debounce,
      Consumer<ConfigReloader.Result> listener) throws IOException {
    this.reloader = reloader;
    this.debounce = debounce;
    this.listener = listener;
    this.watch = FileSystems.getDefault().newWatchService();
    this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "sentinel-config-reload");
      thread.setDaemon(true);
      return thread;
    });
    this.loop = new Thread(this::run, "sentinel-config-watch");
    this.loop.setDaemon(true);
  }

  /**
   * Starts watching the reloader's config file and the policy file the running config names.
   *
   * @param debounce how long no change must be seen before reloading; positive
   * @param listener told each reload's result, on the reload thread (for tests and metrics);
   *     what it throws is logged and ignored
   * @throws UncheckedIOException if the directories cannot be watched
   */
  public static ConfigWatcher start(ConfigReloader reloader, Duration debounce,
      Consumer<ConfigReloader.Result> listener) {
    Objects.requireNonNull(reloader, "reloader");
    Objects.requireNonNull(debounce, "debounce");
    Objects.requireNonNull(listener, "listener");
    if (debounce.isNegative() || debounce.isZero()) {
      throw new IllegalArgumentException("debounce must be positive, was " + debounce);
    }
    ConfigWatcher watcher;
    try {
      watcher = new ConfigWatcher(reloader, debounce, listener);
      watcher.register();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot watch " + reloader.file() + ": " + e.getMessage(), e);
    }
    watcher.loop.start();
    return watcher;
  }

  /** Stops watching. Idempotent. */
  @Override
  public void close() {
    closed = true;
    try {
      watch.close();
    } catch (IOException e) {
      log.debug("closing the watch service failed", e);
    }
    timer.shutdownNow();
  }

  /** Watches the directories of the config file and of the policy file the config names. */
  private synchronized void register() throws IOException {
    Path config = reloader.file().toAbsolutePath().normalize();
    Set<Path> watched = new HashSet<>();
    watched.add(config);
    GatewayConfig running = reloader.runtime().config();
    if (!running.policy().source().equals(running.source())) {
      watched.add(Path.of(running.policy().source()).toAbsolutePath().normalize());
    }
    for (Path file : watched) {
      Path directory = file.getParent();
      if (directory != null && directories.add(directory)) {
        directory.register(watch, StandardWatchEventKinds.ENTRY_CREATE,
            StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
      }
    }
    files = Set.copyOf(watched);
  }

  private void run() {
    while (!closed) {
      WatchKey key;
      try {
        key = watch.take();
      } catch (InterruptedException | ClosedWatchServiceException e) {
        return;
      }
      Path directory = (Path) key.watchable();
      boolean relevant = false;
      for (WatchEvent<?> event : key.pollEvents()) {
        if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
          relevant = true;
        } else if (files.contains(directory.resolve((Path) event.context()).normalize())) {
          relevant = true;
        }
      }
      key.reset();
      if (relevant) {
        schedule();
      }
    }
  }

  private synchronized void schedule() {
    if (closed) {
      return;
    }
    if (pending != null) {
      pending.cancel(false);
    }
    try {
      pending = timer.schedule(this::reload, debounce.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  private void reload() {
    if (closed) {
      return;
    }
    ConfigReloader.Result result = reloader.reload();
    if (result.applied()) {
      try {
        register(); // the policy may now be another file
      } catch (IOException e) {
        log.warn("cannot watch the new policy file's directory: {}", e.getMessage());
      }
    }
    try {
      listener.accept(result);
    } catch (RuntimeException e) {
      log.warn("a config reload listener threw {}", e.getClass().getName(), e);
    }
  }
}
