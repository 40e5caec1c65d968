package dev.sentinel.runner.stdio;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.core.config.Stores;
import dev.sentinel.mcp.engine.ClientSession;
import dev.sentinel.mcp.transport.StdioTransport;
import dev.sentinel.jdbc.JdbcStores;
import java.io.InputStream;
import java.io.OutputStream;
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
   * Starts the gateway, serves the client until end of input (or until the JVM shuts down),
   * and stops. Child processes are terminated in either case. The config's database is opened
   * (and its schema brought up to date) when the config uses it: an {@code identity.api_key}
   * or a {@code database} audit sink, the default.
   *
   * @return the exit code: 0 after a normal end of input
   * @throws dev.sentinel.api.SentinelException if the gateway cannot start, such as a database
   *     that cannot be opened (the message names it without its password)
   */
  public static int run(GatewayConfig config, InputStream in, OutputStream out, Clock clock) {
    Objects.requireNonNull(config, "config");
    GatewayRuntime runtime = GatewayRuntime.start(config, clock, stores(config, clock));
    AtomicBoolean stopping = new AtomicBoolean();
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    Runnable stop = () -> {
      if (stopping.compareAndSet(false, true)) {
        try {
          runtime.close();
        } finally {
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
