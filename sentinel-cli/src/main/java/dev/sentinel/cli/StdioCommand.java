package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.jdbc.JdbcBundleSources;
import dev.sentinel.mcp.engine.InitializeAnswer;
import dev.sentinel.mcp.gateway.RunOptions;
import dev.sentinel.mcp.transport.FrameLimits;
import dev.sentinel.mcp.transport.StdioOpening;
import dev.sentinel.redis.RedisStores;
import dev.sentinel.runner.stdio.StdioGateway;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel stdio --config FILE}: the gateway for one MCP client on stdin/stdout. Put it in
 * an MCP client's config in place of the servers it fronts. Not thread-safe.
 */
@Command(
    name = "stdio",
    mixinStandardHelpOptions = true,
    description = {"Serve one MCP client on stdin/stdout, fronting the config's backends through "
        + "the governance pipeline.", "Logs go to stderr; stdout carries protocol bytes only."})
public final class StdioCommand implements Callable<Integer> {
  private final Map<String, String> environment;
  private final PolicyOptions policyOptions;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
      description = "the gateway config file")
  @SuppressWarnings("NullAway.Init") // required: set by picocli
  private Path config;

  @Option(names = "--no-watch",
      description = "do not reload the config when it (or its policy file) changes on disk")
  private boolean noWatch;

  @Option(names = "--allow-rollback",
      description = "start from a signed bundle (bundle: in the config) even if it is not newer"
          + " than the one applied last: an operator's rollback, recorded in the audit trail")
  private boolean allowRollback;

  /**
   * A stdio command.
   *
   * @param environment the variables that {@code ${env:...}} in config files read
   * @param policyOptions how policies are compiled (the condition languages they may use)
   */
  public StdioCommand(Map<String, String> environment, PolicyOptions policyOptions) {
    this.environment = Map.copyOf(environment);
    this.policyOptions = Objects.requireNonNull(policyOptions, "policyOptions");
  }

  /**
   * The command with its options already read (by {@link StdioLaunch}, without picocli).
   *
   * @param environment the variables that {@code ${env:...}} in config files read
   * @param policyOptions how policies are compiled
   * @param config the gateway config file
   * @param watch whether to reload the config when it changes on disk
   * @param allowRollback whether a signed bundle older than the last one applied may start
   */
  StdioCommand(Map<String, String> environment, PolicyOptions policyOptions, Path config,
      boolean watch, boolean allowRollback) {
    this(environment, policyOptions);
    this.config = Objects.requireNonNull(config, "config");
    this.noWatch = !watch;
    this.allowRollback = allowRollback;
  }

  /** Loads the config and serves until the client closes stdin. */
  @Override
  public Integer call() {
    return call(spec.commandLine().getErr());
  }

  /**
   * Loads the config and serves until the client closes stdin; a config error is printed to
   * {@code err} (file, line and what to do) before anything is served.
   */
  int call(PrintWriter err) {
    // The protocol owns the real stdout; anything a library prints by mistake goes to stderr.
    OutputStream out = new FileOutputStream(FileDescriptor.out);
    System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
    // The client's initialize is read while the config is, and answered as soon as the config
    // is read, before the gateway is built; its next messages wait for the gateway. A config
    // that fails ends the process unanswered, with the reason on stderr.
    StdioOpening opening = StdioOpening.start(new FileInputStream(FileDescriptor.in), out);
    Clock clock = Clock.system();
    // Open for as long as the gateway runs: a bundle channel's database is read at each reload.
    try (JdbcBundleSources sources = JdbcBundleSources.create(clock)) {
      return serve(clock, sources, err, opening, out);
    }
  }

  private int serve(Clock clock, JdbcBundleSources sources, PrintWriter err, StdioOpening opening,
      OutputStream out) {
    GatewayConfig loaded;
    try {
      loaded = allowRollback
          ? GatewayConfig.loadAllowingRollback(config, environment, policyOptions, sources)
          : GatewayConfig.load(config, environment, policyOptions, sources);
    } catch (ConfigException e) {
      return Summary.fail(err, e);
    }
    // Before anything else starts (the log included): the client's wait is for this answer.
    opening.answer(FrameLimits.of(loaded.gateway()), InitializeAnswer.ahead(loaded));
    RunOptions options = RunOptions.builder()
        .clock(clock)
        .configFile(config, environment, policyOptions)
        .bundleSources(sources)
        .watch(!noWatch)
        // Shared state on Redis when shared_state.redis says so; keys and audit stay in the database.
        .sharedState(stores -> RedisStores.wrap(loaded.sharedState(), stores, clock))
        .build();
    return StdioGateway.run(loaded, opening, out, options);
  }
}
