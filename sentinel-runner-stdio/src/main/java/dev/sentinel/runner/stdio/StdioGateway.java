package dev.sentinel.runner.stdio;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Stores;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.mcp.engine.ClientSession;
import dev.sentinel.mcp.engine.InitializeAnswer;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.ConfigWatcher;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.mcp.gateway.RunOptions;
import dev.sentinel.otel.OtlpTracing;
import dev.sentinel.mcp.transport.FrameLimits;
import dev.sentinel.mcp.transport.StdioOpening;
import dev.sentinel.mcp.transport.StdioTransport;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one MCP client on a pair of streams (the process's stdin and stdout) until the client
 * closes its side, then stops the backends and flushes the audit trail.
 *
 * <p>The output stream carries protocol bytes only; everything else goes to the log (stderr).
 * Not thread-safe: one instance serves one client once.
 */
public final class StdioGateway {
  private static final Logger log = LoggerFactory.getLogger(StdioGateway.class);

  private StdioGateway() {}

  /**
   * As {@link #run(GatewayConfig, InputStream, OutputStream, RunOptions)} with only a clock: no
   * config file to reload, the database's stores as opened.
   */
  public static int run(GatewayConfig config, InputStream in, OutputStream out, Clock clock) {
    return run(config, in, out, RunOptions.builder().clock(clock).build());
  }

  /**
   * Starts the gateway, serves the client until end of input (or until the JVM shuts down),
   * and stops. The config's database is opened (and its schema brought up to date) when the
   * config uses it: an {@code identity.api_key} or a {@code database} audit sink, the default;
   * {@code options} may wrap its stores for shared state. With a config file in {@code
   * options}, the gateway reloads it when it (or its policy file) changes on disk, as {@code
   * sentinel http} does: a refused config is logged and the running one keeps serving.
   *
   * <p>Whether it ends by end of input or by the JVM shutting down (SIGTERM, SIGINT, SIGHUP),
   * even while the backends are still starting, every backend process it started, and their
   * descendants, has ended before this method returns or the JVM exits: stdin closed, the stop
   * grace, SIGTERM, the grace again, SIGKILL (see {@code McpGateway#close()}).
   *
   * @return the exit code: 0 after a normal end of input
   * @throws dev.sentinel.api.SentinelException if the gateway cannot start, such as a database
   *     that cannot be opened (the message names it without its password)
   */
  public static int run(GatewayConfig config, InputStream in, OutputStream out,
      RunOptions options) {
    Objects.requireNonNull(in, "in");
    return run(config, () -> new StdioOpening.Opened(in, null), out, options);
  }

  /**
   * As {@link #run(GatewayConfig, InputStream, OutputStream, RunOptions)}, for a client whose
   * first line an opening has been reading meanwhile: before anything else, the opening is told
   * to answer it if it is an {@code initialize} ({@link InitializeAnswer#ahead}), and the
   * session then starts initialized with it. Everything after that line waits, unread, until the
   * gateway is ready; then this waits for the opening to have read the client's first line.
   *
   * @param opening started on the client's input and on {@code out}
   */
  public static int run(GatewayConfig config, StdioOpening opening, OutputStream out,
      RunOptions options) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(opening, "opening");
    opening.answer(FrameLimits.of(config.gateway()), InitializeAnswer.ahead(config));
    return run(config, opening::await, out, options);
  }

  private static int run(GatewayConfig config, Supplier<StdioOpening.Opened> input, OutputStream out,
      RunOptions options) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(options, "options");
    Stopper stopper = new Stopper();
    Thread hook = new Thread(stopper::stop, "sentinel-stdio-shutdown");
    // Registered before the backends start: a client that gives up while they start (SIGTERM)
    // must not leave them running.
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      GatewayRuntime runtime;
      try {
        // Backends come up in the background: the client's initialize is answered at once.
        runtime = GatewayRuntime.startInBackground(config, options.clock(),
            options.sharedState(stores(config, options.clock())));
      } catch (RuntimeException | Error e) {
        stopper.started(null, null);
        throw e;
      }
      OtlpTracing tracing;
      try {
        // Loaded only when configured: start-up matters to a stdio gateway.
        tracing = config.telemetry().enabled() ? OtlpTracing.bind(runtime) : null;
      } catch (RuntimeException | Error e) {
        stopper.started(runtime, null);
        throw e;
      }
      if (!stopper.started(runtime, tracing)) {
        log.info("the gateway was asked to stop while it started; stopping");
        return 0;
      }
      ClientSession session;
      try {
        // Everything after an initialize answered ahead has waited, unread, for this moment.
        StdioOpening.Opened opened = input.get();
        session = runtime.serve(StdioTransport.of(opened.input(), out, runtime.frameLimits()), "stdio",
            opened.answered());
      } catch (IllegalStateException e) {
        if (stopper.stopping()) {
          return 0; // the JVM is shutting down and the hook closed the gateway under us
        }
        throw e;
      }
      log.info("serving MCP on stdio; backends {} start in the background", runtime.backends().keySet());
      // Watched from now on, while the client's initialize is being answered on the session's
      // threads: setting up the watch is not on the way to the answer. A change saved before
      // this point is still applied: the watcher compares the files with the config it runs.
      ConfigWatcher watcher;
      try {
        watcher = watch(runtime, options);
      } catch (RuntimeException e) {
        if (stopper.stopping()) {
          return 0; // the hook closed the gateway under us
        }
        throw e;
      }
      if (watcher != null && !stopper.watching(watcher)) {
        return 0; // the hook stopped the gateway meanwhile (and the watcher is closed)
      }
      session.closed().join();
      log.info("the client closed its input; stopping");
      return 0;
    } finally {
      stopper.stop();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // Already shutting down: the hook runs (and finds the work done).
      }
    }
  }

  /**
   * Stops the gateway once, whoever asks first: the main thread at end of input, or the
   * shutdown hook (a client closes stdin, then sends SIGTERM). A second caller waits for the
   * first, or the JVM halts when the hook returns and the backends outlive the gateway; the hook
   * called while the gateway starts waits for the start to end (at most the start timeout) and
   * then stops what started. Thread-safe.
   */
  private static final class Stopper {
    private final CountDownLatch started = new CountDownLatch(1);
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile @Nullable GatewayRuntime runtime;
    private @Nullable ConfigWatcher watcher; // guarded by this
    private volatile @Nullable OtlpTracing tracing;

    /**
     * The start ended, with what it started (nulls for what failed to start); answers whether
     * the gateway may serve (false when a stop was asked for meanwhile).
     */
    boolean started(@Nullable GatewayRuntime runtime, @Nullable OtlpTracing tracing) {
      this.runtime = runtime;
      this.tracing = tracing;
      started.countDown();
      return !stopping.get();
    }

    /**
     * The config watcher, started once the gateway serves; answers false, having closed it,
     * when a stop was asked for meanwhile (the stop may have passed the watcher by).
     */
    synchronized boolean watching(ConfigWatcher watcher) {
      if (stopping.get()) {
        watcher.close();
        return false;
      }
      this.watcher = watcher;
      return true;
    }

    boolean stopping() {
      return stopping.get();
    }

    void stop() {
      if (!stopping.compareAndSet(false, true)) {
        stopped.join();
        return;
      }
      try {
        awaitStarted();
        ConfigWatcher watching;
        synchronized (this) {
          watching = watcher;
        }
        try {
          if (watching != null) {
            watching.close();
          }
        } finally {
          try {
            if (runtime != null) {
              // Returns once every backend process (and its descendants) has ended.
              runtime.close();
            }
          } finally {
            if (tracing != null) {
              tracing.close(); // after the runtime: the last calls' spans go out too
            }
          }
        }
      } finally {
        stopped.complete(null);
      }
    }

    private void awaitStarted() {
      boolean interrupted = false;
      while (true) {
        try {
          started.await();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Watches the config file when the options name one and ask for it; null otherwise. */
  private static @Nullable ConfigWatcher watch(GatewayRuntime runtime, RunOptions options) {
    if (!options.watch()) {
      return null;
    }
    Path file = options.configFile().orElseThrow();
    ConfigReloader reloader = ConfigReloader.of(runtime, file, options.environment(),
        options.policyOptions(), options.bundleSources());
    log.info("watching {} for changes", file);
    return ConfigWatcher.start(reloader, ConfigWatcher.DEFAULT_SETTLE, options.clock(),
        result -> { });
  }

  /** The config's database when it is used, else none. */
  static Stores stores(GatewayConfig config, Clock clock) {
    if (!config.needsDatabase()) {
      return Stores.none();
    }
    JdbcStores stores = JdbcStores.open(config.database(), clock);
    log.info("using {}", stores.description());
    return stores;
  }
}
