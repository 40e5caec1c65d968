package dev.sentinel.mcp.gateway;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.GatewayConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads a gateway when its config file, or the policy file it names (or the signed bundle it
 * runs), changes on disk (and, for a bundle from a database channel, when a new one is published
 * there: see {@link BundleChannelWatcher}), once
 * the change is complete. It watches the files' directories for files created, renamed or
 * deleted (editors often replace a file by renaming a new one over it), and polls the files
 * themselves for writes in place: their size, times and file key on every check of the timer,
 * and their content's digest about once a second (a same-size rewrite within one tick of a
 * coarse file-system clock changes no time). It does not ask the directories for every write:
 * the audit trail ({@code sentinel.db} or a JSON Lines file) usually lives beside the config,
 * and each of its writes would wake two threads here, several times per call served. It
 * reloads only files that have settled:
 *
 * <ol>
 *   <li>no change was seen for the {@code settle} period;
 *   <li>then the files are read (size, modification time, SHA-256 of the content), and read
 *       again a {@code settle} later: both reads must agree, with no change seen in between;
 *   <li>then the config is loaded and checked whole ({@link ConfigReloader}), and swapped in
 *       only if the files still read the same afterwards and no change was seen meanwhile.
 * </ol>
 *
 * <p>A file saved in several writes is thus never applied half-written as long as its writes
 * are less than about two {@code settle} periods apart; a half-written policy can be valid YAML
 * with fewer rules (its deny rules missing), which checking cannot catch. Saving with an atomic
 * rename (write a temporary file, then rename it over the old one) removes the window entirely.
 * A bad edit is refused and logged with its located problems; the old config keeps serving.
 *
 * <pre>{@code
 * try (ConfigWatcher watcher = ConfigWatcher.start(reloader, ConfigWatcher.DEFAULT_SETTLE, r -> {})) {
 *   ...
 * }
 * }</pre>
 *
 * <p>Thread-safe. Runs on two daemon threads (the watch loop and the settling timer) until
 * {@link #close()}.
 */
public final class ConfigWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);

  /**
   * The default settle period: 1 s. A reload follows about 2 s after the last write, and writes
   * up to about 2 s apart are seen as one save.
   */
  public static final Duration DEFAULT_SETTLE = Duration.ofSeconds(1);

  private final ConfigReloader reloader;
  private final Duration settle;
  private final Clock clock;
  private final Consumer<ConfigReloader.Result> listener;
  private final WatchService watch;
  private final ScheduledExecutorService timer;
  private final Thread loop;
  private final Set<Path> directories = new HashSet<>();
  private volatile Set<Path> files = Set.of();
  private volatile boolean closed;
  /** Timer checks between digest reads of the files: about one second's worth. */
  private final int checksPerDigest;
  // Guarded by this: what the watched files looked like when last polled (writtenInPlace).
  private Map<Path, String> stamps = Map.of();
  private Map<Path, String> digests = Map.of();
  private int checksSinceDigest;
  // Guarded by this: the settling of the change seen last.
  private boolean dirty;
  private long lastChange;
  private @Nullable Snapshot firstRead;
  private long changesSeen;
  // Guarded by this: events received per file name of the watched directories, for tests (at
  // most 64 names).
  private final Map<String, Long> eventsByName = new java.util.HashMap<>();
  /** The follower of the database channel the running bundle comes from, if it does. */
  private volatile @Nullable BundleChannelWatcher channel;

  private ConfigWatcher(ConfigReloader reloader, Duration settle, Clock clock,
      Consumer<ConfigReloader.Result> listener) throws IOException {
    this.reloader = reloader;
    this.settle = settle;
    this.clock = clock;
    this.listener = listener;
    this.checksPerDigest = (int) Math.max(1, 1_000 / pollMillis(settle));
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
   * Starts watching the reloader's config file and the policy file the running config names,
   * timing the settle period on the system clock. A file that no longer holds the text the
   * running config was read from (saved between that load and this call) is a change seen now.
   *
   * @param settle how long the files must go unchanged, and read the same twice that far
   *     apart, before they are reloaded; positive ({@link #DEFAULT_SETTLE} for the CLI's)
   * @param listener told each reload's result, on the reload thread (for tests and metrics);
   *     what it throws is logged and ignored
   * @throws UncheckedIOException if the directories cannot be watched
   */
  public static ConfigWatcher start(ConfigReloader reloader, Duration settle,
      Consumer<ConfigReloader.Result> listener) {
    return start(reloader, settle, Clock.system(), listener);
  }

  /**
   * As {@link #start(ConfigReloader, Duration, Consumer)}, timing the settle period on
   * {@code clock}'s monotonic time (tests advance a manual clock instead of waiting).
   */
  public static ConfigWatcher start(ConfigReloader reloader, Duration settle, Clock clock,
      Consumer<ConfigReloader.Result> listener) {
    Objects.requireNonNull(reloader, "reloader");
    Objects.requireNonNull(settle, "settle");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(listener, "listener");
    if (settle.isNegative() || settle.isZero()) {
      throw new IllegalArgumentException("settle must be positive, was " + settle);
    }
    ConfigWatcher watcher;
    try {
      watcher = new ConfigWatcher(reloader, settle, clock, listener);
      watcher.register();
      if (watcher.savedSinceLoad()) {
        // Saved between the running config's load and this watch: a change like any other.
        watcher.changed();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot watch " + reloader.file() + ": " + e.getMessage(), e);
    }
    try {
      // A gateway on a database channel follows it too: publishes are its changes. One on a
      // bundle file reports it (drift, heartbeats); the file itself is watched here.
      watcher.channel = BundleChannelWatcher.startIfBundle(reloader, listener).orElse(null);
    } catch (RuntimeException e) {
      watcher.close();
      throw e;
    }
    watcher.loop.start();
    // Settling is checked often against the clock; the check is cheap while nothing changed.
    long poll = pollMillis(settle);
    watcher.timer.scheduleWithFixedDelay(watcher::check, poll, poll, TimeUnit.MILLISECONDS);
    return watcher;
  }

  /** The follower of the running bundle's database channel, if the gateway has one. */
  public Optional<BundleChannelWatcher> channel() {
    return Optional.ofNullable(channel);
  }

  /** Stops watching. Idempotent. */
  @Override
  public void close() {
    closed = true;
    BundleChannelWatcher following = channel;
    if (following != null) {
      following.close();
    }
    try {
      watch.close();
    } catch (IOException e) {
      log.debug("closing the watch service failed", e);
    }
    timer.shutdownNow();
  }

  private static long pollMillis(Duration settle) {
    return Math.max(10, Math.min(250, settle.toMillis() / 10));
  }

  /** How many changes of the watched files have been seen: for tests, to know one arrived. */
  synchronized long changesSeen() {
    return changesSeen;
  }

  /**
   * How many events the directories' watch delivered for files of this name: for tests, to show
   * which writes wake the watcher.
   */
  synchronized long eventsReceived(String fileName) {
    return eventsByName.getOrDefault(fileName, 0L);
  }

  private synchronized void received(Path name) {
    String key = name.toString();
    if (eventsByName.containsKey(key) || eventsByName.size() < 64) {
      eventsByName.merge(key, 1L, Long::sum);
    }
  }

  /**
   * Whether the files, quiet for the settle period, have been read once and wait for their
   * second read: for tests, to know the watcher reached that point.
   */
  synchronized boolean readOnce() {
    return dirty && firstRead != null;
  }

  /** Watches the directories of the config file and of the policy file the config names. */
  private synchronized void register() throws IOException {
    Path config = reloader.file().toAbsolutePath().normalize();
    Set<Path> watched = new HashSet<>();
    watched.add(config);
    GatewayConfig running = reloader.runtime().config();
    if (running.fromBundle().isPresent()) {
      // Its policy is in the bundle: a new bundle file is the change to apply (a database
      // channel is watched by a BundleWatcher).
      Path file = running.fromBundle().get().settings().file();
      if (file != null) {
        watched.add(file.toAbsolutePath().normalize());
      }
    } else if (!running.policy().source().equals(running.source())) {
      watched.add(Path.of(running.policy().source()).toAbsolutePath().normalize());
    }
    for (Path file : watched) {
      Path directory = file.getParent();
      if (directory != null && directories.add(directory)) {
        // Not ENTRY_MODIFY: every write to any file of the directory would wake the watch
        // threads; writes in place to the watched files are found by polling them (check).
        directory.register(watch, StandardWatchEventKinds.ENTRY_CREATE,
            StandardWatchEventKinds.ENTRY_DELETE);
      }
    }
    files = Set.copyOf(watched);
    // A file watched already keeps what it was last polled as, so that a write between a reload
    // and this call is still seen; a file watched from now on starts from its present state.
    stamps = polled(files, stamps, ConfigWatcher::stamp);
    digests = polled(files, digests, Snapshot::state);
  }

  /**
   * Whether the config file, or the policy file it names, no longer holds the text the running
   * config was read from (by their revisions; not asked of a config that runs a signed bundle,
   * whose revision is not its file's).
   */
  private synchronized boolean savedSinceLoad() {
    GatewayConfig running = reloader.runtime().config();
    if (running.fromBundle().isPresent()) {
      return false;
    }
    Path config = reloader.file().toAbsolutePath().normalize();
    if (!Snapshot.holds(digests.get(config), running.revision())) {
      return true;
    }
    if (running.policy().source().equals(running.source())) {
      return false;
    }
    Path policy = Path.of(running.policy().source()).toAbsolutePath().normalize();
    return !Snapshot.holds(digests.get(policy), running.policy().revision());
  }

  private static Map<Path, String> polled(Set<Path> paths, Map<Path, String> known,
      java.util.function.Function<Path, String> read) {
    Map<Path, String> states = new TreeMap<>();
    for (Path path : paths) {
      String state = known.get(path);
      states.put(path, state != null ? state : read.apply(path));
    }
    return states;
  }

  /**
   * Whether the files were written since the last look: their stamps (size, times, file key)
   * on every call, their digests every {@link #checksPerDigest} calls. On the timer thread.
   */
  private synchronized boolean writtenInPlace() {
    boolean written = false;
    Map<Path, String> now = polled(files, Map.of(), ConfigWatcher::stamp);
    if (!now.equals(stamps)) {
      stamps = now;
      written = true;
    }
    if (++checksSinceDigest >= checksPerDigest) {
      checksSinceDigest = 0;
      Map<Path, String> read = polled(files, Map.of(), Snapshot::state);
      if (!read.equals(digests)) {
        digests = read;
        written = true;
      }
    }
    return written;
  }

  /** Size, modification and change times and file key (device and inode) of a file. */
  private static String stamp(Path path) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
      Object changed;
      try {
        // The change time moves on every write, even one that sets the modification time back.
        changed = Files.getAttribute(path, "unix:ctime");
      } catch (UnsupportedOperationException | IllegalArgumentException e) {
        changed = "";
      }
      return attributes.size() + " " + attributes.lastModifiedTime() + " " + changed + " "
          + attributes.fileKey();
    } catch (NoSuchFileException missing) {
      return "absent";
    } catch (IOException e) {
      return "unreadable: " + e.getClass().getSimpleName();
    }
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
        } else {
          received((Path) event.context());
          relevant |= files.contains(directory.resolve((Path) event.context()).normalize());
        }
      }
      key.reset();
      if (relevant) {
        changed();
      }
    }
  }

  /** A change was seen: settling starts over. */
  private synchronized void changed() {
    dirty = true;
    lastChange = clock.nanoTime();
    firstRead = null;
    changesSeen++;
  }

  /** On the timer: notes writes in place, and reloads once the change seen last has settled. */
  private void check() {
    if (!closed && writtenInPlace()) {
      changed();
    }
    Snapshot settled;
    synchronized (this) {
      if (closed || !dirty || clock.nanoTime() - lastChange < settle.toNanos()) {
        return;
      }
      Snapshot read = Snapshot.read(files);
      if (firstRead == null || !firstRead.equals(read)) {
        // Quiet for a settle period: read the files, and again a settle period later.
        firstRead = read;
        lastChange = clock.nanoTime();
        return;
      }
      settled = read;
      dirty = false;
      firstRead = null;
    }
    try {
      reload(settled);
    } catch (RuntimeException e) {
      log.warn("reloading config {} failed", reloader.file(), e);
    }
  }

  private void reload(Snapshot settled) {
    Optional<ConfigReloader.Result> outcome = reloader.reloadIf(() -> stillSettled(settled));
    if (outcome.isEmpty()) {
      log.debug("config {} changed while it was read; waiting for it to settle", reloader.file());
      changed();
      return;
    }
    ConfigReloader.Result result = outcome.get();
    BundleChannelWatcher reporting = channel;
    if (reporting != null) {
      // A bundle file applied or refused: the drift gauge and the heartbeat say so at once.
      reporting.checkSoon();
    }
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

  /** Whether no change was seen since the files settled, and they still read the same. */
  private synchronized boolean stillSettled(Snapshot settled) {
    return !dirty && settled.equals(Snapshot.read(files));
  }

  /** What the watched files hold at one moment: per file, its size, time and content digest. */
  private record Snapshot(Map<Path, String> files) {
    static Snapshot read(Set<Path> paths) {
      Map<Path, String> states = new TreeMap<>();
      for (Path path : paths) {
        states.put(path, state(path));
      }
      return new Snapshot(states);
    }

    /**
     * Whether a file's {@link #state} (null when it is not watched) says it holds the text of
     * the given revision.
     */
    static boolean holds(@Nullable String state, String revision) {
      return state != null && state.endsWith(" " + revision);
    }

    static String state(Path path) {
      try {
        FileTime modified = Files.getLastModifiedTime(path);
        long size = Files.size(path);
        String digest = GatewayConfig.revisionOf(new String(Files.readAllBytes(path), StandardCharsets.UTF_8));
        return size + " " + modified + " " + digest;
      } catch (NoSuchFileException missing) {
        return "absent";
      } catch (IOException e) {
        // Unreadable now: a state of its own, so that reading it again later must agree.
        return "unreadable: " + e.getClass().getSimpleName();
      }
    }
  }
}
