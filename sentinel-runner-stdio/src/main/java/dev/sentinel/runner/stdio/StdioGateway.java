package dev.sentinel.runner.stdio;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Stores;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.mcp.engine.ClientSession;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.ConfigWatcher;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.mcp.gateway.RunOptions;
import dev.sentinel.otel.OtlpTracing;
import dev.sentinel.mcp.transport.StdioTransport;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
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
   * and stops. Child processes are terminated in either case. The config's database is opened
   * (and its schema brought up to date) when the config uses it: an {@code identity.api_key}
   * or a {@code database} audit sink, the default; {@code options} may wrap its stores for
   * shared state. With a config file in {@code options}, the gateway reloads it when it (or its
   * policy file) changes on disk, as {@code sentinel http} does: a refused config is logged and
   * the running one keeps serving.
   *
   * @return the exit code: 0 after a normal end of input
   * @throws dev.sentinel.api.SentinelException if the gateway cannot start, such as a database
   *     that cannot be opened (the message names it without its password)
   */
  public static int run(GatewayConfig config, InputStream in, OutputStream out,
      RunOptions options) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(options, "options");
    GatewayRuntime runtime = GatewayRuntime.start(config, options.clock(),
        options.sharedState(stores(config, options.clock())));
    ConfigWatcher watcher;
    OtlpTracing tracing;
    try {
      watcher = watch(runtime, options);
      // Loaded only when configured: start-up matters to a stdio gateway.
      tracing = config.telemetry().enabled() ? OtlpTracing.bind(runtime) : null;
    } catch (RuntimeException e) {
      runtime.close();
      throw e;
    }
    AtomicBoolean stopping = new AtomicBoolean();
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    Runnable stop = () -> {
      if (stopping.compareAndSet(false, true)) {
        try {
          if (watcher != null) {
            watcher.close();
          }
          runtime.close();
        } finally {
          if (tracing != null) {
            tracing.close(); // after the runtime: the last calls' spans go out too
          }
          stopped.complete(null);
        }
      } else {
        // Another thread is stopping (a client closes stdin, then sends SIGTERM): wait for it,
        // or the JVM halts when the shutdown hook returns and the backends outlive the gateway.
        stopped.join();
      }
    };
    Thread hook = new Thread(stop, "sentinel-stdio-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      ClientSession session = runtime.serve(StdioTransport.of(in, out, runtime.frameLimits()), "stdio");
      log.info("serving MCP on stdio with backends {}", runtime.backends().keySet());
      session.closed().join();
      log.info("the client closed its input; stopping");
      return 0;
    } finally {
      stop.run();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // Already shutting down: the hook runs (and finds the work done).
      }
    }
  }

  /** Watches the config file when the options name one and ask for it, else nothing. */
  private static ConfigWatcher watch(GatewayRuntime runtime, RunOptions options) {
    if (!options.watch()) {
      return null;
    }
    Path file = options.configFile().orElseThrow();
    ConfigReloader reloader = ConfigReloader.of(runtime, file, options.environment(),
        options.policyOptions());
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
