package dev.sentinel.runner.http;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Server;
import dev.sentinel.core.config.Stores;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.jwt.JwtAuthenticator;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.ConfigWatcher;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.mcp.gateway.RunOptions;
import java.net.URI;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * What {@link HttpGateway#start(GatewayConfig, RunOptions, ServerSocketChannel)} does: opens the
 * database, builds the authenticators (API keys, the identity provider's JWTs, an anonymous
 * principal), starts the runtime, the HTTP server and the config watcher, and closes them in the
 * reverse order. Package-private: the public face is {@link HttpGateway.Running}.
 */
final class Launcher implements HttpGateway.Running {
  private final GatewayRuntime runtime;
  private final HttpGateway http;
  private final @Nullable ConfigWatcher watcher;
  private final CountDownLatch closed = new CountDownLatch(1);

  private Launcher(GatewayRuntime runtime, HttpGateway http, @Nullable ConfigWatcher watcher) {
    this.runtime = runtime;
    this.http = http;
    this.watcher = watcher;
  }

  static Launcher start(GatewayConfig config, RunOptions options,
      @Nullable ServerSocketChannel channel) {
    Clock clock = options.clock();
    Server server = config.server();
    // The server's settings first: a TLS certificate that cannot be used is reported before a
    // database is opened or a backend spawned.
    HttpGateway.Builder builder = HttpGateway.builder()
        .server(server)
        .maxBodyBytes(config.gateway().maxMessageBytes())
        .clock(clock);
    GatewayRuntime runtime = null;
    HttpGateway http = null;
    try {
      JdbcStores stores = JdbcStores.open(config.database(), clock);
      Authenticator clients;
      Stores shared;
      try {
        clients = authenticator(server, stores, clock);
        // Shared state (such as Redis) as the application wraps it; keys and audit stay here.
        shared = options.sharedState(stores);
      } catch (RuntimeException e) {
        stores.close();
        throw e;
      }
      runtime = GatewayRuntime.start(config, clock, shared, clients);
      builder.runtime(runtime)
          .authenticator(clients)
          .keys(stores.keys())
          .auditTrail(stores.auditTrail().orElseThrow())
          .approvals(stores.approvalStore().orElseThrow())
          .bundles(stores.bundleStore().orElseThrow());
      if (channel != null) {
        builder.channel(channel);
      }
      GatewayRuntime started = runtime;
      ConfigReloader reloader = options.configFile()
          .map(file -> ConfigReloader.of(started, file, options.environment(),
              options.policyOptions(), options.bundleSources()))
          .orElse(null);
      if (reloader != null) {
        builder.reloader(reloader);
      }
      http = builder.build();
      http.start();
      // RunOptions.watch() holds only with a config file, which has a reloader.
      ConfigWatcher watcher = options.watch() && reloader != null
          ? ConfigWatcher.start(reloader, ConfigWatcher.DEFAULT_SETTLE, result -> { })
          : null;
      return new Launcher(runtime, http, watcher);
    } catch (RuntimeException e) {
      if (http != null) {
        http.close();
      }
      if (runtime != null) {
        runtime.close();
      }
      throw e;
    }
  }

  /**
   * The clients' authenticator: JWT-shaped bearer tokens go to the identity provider's keys
   * ({@code server.jwt}), everything else to the API keys, then to the anonymous principal when
   * {@code server.anonymous} names one.
   */
  static Authenticator authenticator(Server server, JdbcStores stores, Clock clock) {
    Authenticator keys = ApiKeys.create(stores.keys(), clock).authenticator();
    Authenticator others = server.anonymous()
        .map(principal -> Authenticator.firstOf(List.of(keys, Authenticator.anonymous(principal))))
        .orElse(keys);
    return server.jwt()
        .<Authenticator>map(jwt -> JwtAuthenticator.dispatching(
            JwtAuthenticator.builder(jwt).clock(clock).build(), others))
        .orElse(others);
  }

  @Override
  public URI endpoint() {
    return http.endpoint();
  }

  @Override
  public GatewayRuntime runtime() {
    return runtime;
  }

  @Override
  public void awaitClose() throws InterruptedException {
    closed.await();
  }

  @Override
  public void close() {
    try {
      if (watcher != null) {
        watcher.close();
      }
      http.close(); // drains requests in flight
    } finally {
      runtime.close();
      closed.countDown();
    }
  }
}
