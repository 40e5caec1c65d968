package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Server;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.jdbc.JdbcBundleSources;
import dev.sentinel.mcp.gateway.RunOptions;
import dev.sentinel.redis.RedisStores;
import dev.sentinel.runner.http.HttpGateway;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel http --config FILE}: a shared Streamable HTTP MCP gateway. Clients
 * authenticate with API keys from the config's database ({@code sentinel keys create}) or, with
 * a {@code server.jwt} section, with their identity provider's JSON Web Tokens. Not thread-safe.
 */
@Command(
    name = "http",
    mixinStandardHelpOptions = true,
    description = {"Serve MCP over Streamable HTTP for a team, fronting the config's backends"
        + " through the governance pipeline.",
        "Clients authenticate with API keys (X-API-Key or Authorization: Bearer) from the"
            + " config's database, or with JWTs from the identity provider named in server.jwt."})
public final class HttpCommand implements Callable<Integer> {

  private final Map<String, String> environment;
  private final PolicyOptions policyOptions;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
      description = "the gateway config file")
  @SuppressWarnings("NullAway.Init") // required: set by picocli
  private Path config;

  @Option(names = "--host", paramLabel = "ADDRESS",
      description = "the address to bind, overriding server.host (default: 127.0.0.1, loopback"
          + " only)")
  private @Nullable String host;

  @Option(names = "--port", paramLabel = "PORT",
      description = "the port to bind, overriding server.port (default: 8080; 0 picks a free"
          + " one)")
  private @Nullable Integer port;

  @Option(names = "--no-watch",
      description = "do not reload the config when it (or its policy file) changes on disk;"
          + " POST /admin/api/reload still does")
  private boolean noWatch;

  @Option(names = "--allow-rollback",
      description = "start from a signed bundle (bundle: in the config) even if it is not newer"
          + " than the one applied last: an operator's rollback, recorded in the audit trail")
  private boolean allowRollback;

  /**
   * An http command.
   *
   * @param environment the variables that {@code ${env:...}} in config files read
   * @param policyOptions how policies are compiled (the condition languages they may use)
   */
  public HttpCommand(Map<String, String> environment, PolicyOptions policyOptions) {
    this.environment = Map.copyOf(environment);
    this.policyOptions = Objects.requireNonNull(policyOptions, "policyOptions");
  }

  /** Loads the config, starts the gateway and serves until the JVM is asked to stop. */
  @Override
  public Integer call() throws InterruptedException {
    Clock clock = Clock.system();
    // Open for as long as the gateway runs: a bundle channel's database is read at each reload.
    try (JdbcBundleSources sources = JdbcBundleSources.create(clock)) {
      return serve(clock, sources);
    }
  }

  private int serve(Clock clock, JdbcBundleSources sources) throws InterruptedException {
    GatewayConfig loaded;
    try {
      loaded = allowRollback
          ? GatewayConfig.loadAllowingRollback(config, environment, policyOptions, sources)
          : GatewayConfig.load(config, environment, policyOptions, sources);
    } catch (ConfigException e) {
      return Summary.fail(spec.commandLine(), e);
    }
    Server server = loaded.server();
    String bindHost = host == null ? server.host() : host;
    int bindPort = port == null ? server.port() : port;
    // Bind first: a port in use is reported before a database is opened or a backend spawned.
    ServerSocketChannel channel = Failures.listen(bindHost, bindPort);
    RunOptions options = RunOptions.builder()
        .clock(clock)
        .configFile(config, environment, policyOptions)
        .bundleSources(sources)
        .watch(!noWatch)
        // Shared state on Redis when shared_state.redis says so; keys and audit stay in the database.
        .sharedState(stores -> RedisStores.wrap(loaded.sharedState(), stores, clock))
        .build();
    HttpGateway.Running running;
    try {
      running = HttpGateway.start(loaded, options, channel);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
    spec.commandLine().getErr().println("sentinel http: MCP on " + running.endpoint());
    if (server.admin().isPresent()) {
      spec.commandLine().getErr().println("sentinel http: operator page on "
          + running.endpoint().resolve("/admin/"));
    }
    spec.commandLine().getErr().flush();
    Runtime.getRuntime().addShutdownHook(new Thread(running::close, "sentinel-http-shutdown"));
    running.awaitClose();
    return 0;
  }

  private static void closeQuietly(ServerSocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // the failure being reported is what matters
    }
  }
}
