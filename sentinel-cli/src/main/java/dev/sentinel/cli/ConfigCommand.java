package dev.sentinel.cli;

import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.gateway.GatewayConfig;
import dev.sentinel.core.policy.PolicyOptions;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sentinel config check FILE}. Not thread-safe. */
@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    description = "Check a gateway config file.")
public final class ConfigCommand implements Runnable {
  private final Map<String, String> environment;
  private final PolicyOptions policyOptions;

  @Spec private CommandSpec spec;

  /**
   * A config command.
   *
   * @param environment the variables that {@code ${env:...}} in config files read
   * @param policyOptions how policies are compiled (the condition languages they may use)
   */
  public ConfigCommand(Map<String, String> environment, PolicyOptions policyOptions) {
    this.environment = Map.copyOf(environment);
    this.policyOptions = Objects.requireNonNull(policyOptions, "policyOptions");
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: check");
  }

  /** Loads a config and prints a one-screen summary. */
  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {"Load a gateway config file as the gateways would (expanding $${env:...} and",
          "$${file:...}, compiling the policy) and print a summary; secrets are never printed."})
  int check(@Parameters(paramLabel = "FILE", description = "the config file") Path file) {
    CommandLine line = spec.commandLine().getSubcommands().get("check");
    try {
      GatewayConfig config = GatewayConfig.load(file, environment, policyOptions);
      line.getOut().print(Summary.of(config));
      line.getOut().flush();
      return 0;
    } catch (ConfigException e) {
      return Summary.fail(line, e);
    }
  }
}
