package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Suggestions;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.jdbc.JdbcBundleSources;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.mcp.gateway.ToolReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sentinel config check FILE [--start]} and {@code sentinel config schema}. Not thread-safe. */
@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    description = "Check a gateway config file, or print its JSON Schema for editors.")
public final class ConfigCommand implements Runnable {
  /** The class-path location of the config format's JSON Schema (draft 2020-12). */
  static final String SCHEMA_RESOURCE = "/dev/sentinel/cli/sentinel-config.schema.json";

  private final Map<String, String> environment;
  private final PolicyOptions policyOptions;

  @SuppressWarnings("NullAway.Init") // set by picocli
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
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: check or schema");
  }

  /** Prints the JSON Schema of the config format, for editors (the YAML language server). */
  @Command(
      name = "schema",
      mixinStandardHelpOptions = true,
      description = {"Print the JSON Schema (draft 2020-12) of the config format, for editors.",
          "Save it beside the config file:",
          "  sentinel config schema > sentinel-config.schema.json",
          "and make this the file's first line:",
          "  # yaml-language-server: $$schema=./sentinel-config.schema.json"})
  int schema() throws java.io.IOException {
    try (java.io.InputStream in = ConfigCommand.class.getResourceAsStream(SCHEMA_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(SCHEMA_RESOURCE + " is missing from the command line's jar");
      }
      java.io.PrintWriter out = spec.commandLine().getOut();
      out.print(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
      out.flush();
    }
    return 0;
  }

  /** Loads a config and prints a one-screen summary; with {@code --start}, checks the backends' tools too. */
  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {"Load a gateway config file as the gateways would (expanding $${env:...}"
          + " and $${file:...}, compiling the policy) and print a summary; secrets are never"
          + " printed.",
          "Each stdio backend's command must be found (on PATH, or as a path) and executable,"
              + " and must not be a whole command line: the program goes in command, its"
              + " arguments in args.",
          "With --start, also start the backends, list their tools, check each tool's input"
              + " schema and the policy's conditions against it (an operator that cannot apply"
              + " to the type the schema declares at its pointer), report every tools glob of"
              + " the policy's rules and limits that matches no listed tool (a typo in a tool"
              + " name), print what was found, and stop them.",
          "Exit code 0 when the config is valid (and, with --start, every backend listed its"
              + " tools); 1 otherwise. Schema problems, policy conflicts and unmatched globs are"
              + " warnings."})
  int check(
      @Parameters(paramLabel = "FILE", description = "the config file") Path file,
      @Option(names = "--start", description = "start the backends and check their tools") boolean start) {
    CommandLine line = Subcommands.of(spec, "check");
    GatewayConfig config;
    // A gateway on a database channel is checked against the channel's head, as it would start.
    try (JdbcBundleSources sources = JdbcBundleSources.create(Clock.system())) {
      config = GatewayConfig.load(file, environment, policyOptions, sources);
    } catch (ConfigException e) {
      return Summary.fail(line, e);
    }
    try {
      List<ConfigException.Problem> commands = CommandCheck.problems(file, config, environment);
      if (!commands.isEmpty()) {
        throw new ConfigException(commands);
      }
      PrintWriter out = line.getOut();
      out.print(Summary.of(config));
      if (!start) {
        out.flush();
        return 0;
      }
      ToolReport report = GatewayRuntime.checkTools(config, Clock.system());
      List<String> names = new ArrayList<>();
      config.backends().forEach(backend -> names.add(backend.name()));
      for (String text : report.render(names)) {
        out.println(text);
      }
      unmatchedGlobs(config, report).forEach(text -> out.println("warning: " + text));
      out.flush();
      return report.listed() ? 0 : Main.FAILED;
    } catch (ConfigException e) {
      return Summary.fail(line, e);
    }
  }

  /**
   * The policy's rule and limit tools globs that match none of the listed tools; empty, with
   * one line saying so, when some backend did not list its tools (a glob may be meant for it).
   */
  static List<String> unmatchedGlobs(GatewayConfig config, ToolReport report) {
    if (!report.listed()) {
      return List.of("unmatched tools globs not checked: not every backend listed its tools");
    }
    Map<String, List<String>> tools = new LinkedHashMap<>();
    config.backends().forEach(backend -> tools.put(backend.name(), new ArrayList<>()));
    report.tools().forEach(tool -> Objects.requireNonNull(tools.get(tool.backend()),
        "a listed tool's backend is in the config").add(tool.name()));
    List<String> out = new ArrayList<>(config.policy().unmatchedToolGlobs(tools));
    for (LimitRule limit : config.policy().limits()) {
      List<String> candidates = new ArrayList<>();
      tools.forEach((backend, names) -> {
        if (limit.backends().isEmpty() || limit.backends().contains(backend)) {
          candidates.addAll(names);
        }
      });
      for (Glob glob : limit.tools()) {
        if (candidates.stream().noneMatch(glob::matches)) {
          out.add("limit '" + limit.id() + "': tools glob '" + glob + "' matches no tool the"
              + " backends list" + Suggestions.nearest(glob.toString(), candidates)
                  .map(near -> "; did you mean '" + near + "'?").orElse(""));
        }
      }
    }
    return out;
  }
}
