package dev.sentinel.cli;

import dev.sentinel.core.policy.PolicyOptions;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code sentinel} command: the entry point of {@code sentinel.jar} and {@code bin/sentinel}.
 *
 * <p>Each top-level subcommand is one class, listed in {@link #subcommands}; adding a command
 * ({@code stdio}, {@code http}, {@code audit}, {@code keys}) is adding its object there.
 *
 * <p>Exit codes: 0 success, 1 a failed check or test or an error (one line on stderr saying
 * what went wrong and what to do; the stack trace too with {@code --debug}), 2 a usage error. Not thread-safe; a command line runs once.
 */
@Command(
    name = "sentinel",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Governance for AI agents' MCP tool calls: policy, limits, kill switch, audit.",
    subcommandsRepeatable = false)
public final class Main implements Callable<Integer> {
  /** The exit code of a failed check or test, or an error. */
  public static final int FAILED = 1;
  /** The exit code of a usage error. */
  public static final int USAGE = 2;

  /**
   * How every command that loads a policy compiles it: with CEL conditions ({@code when_cel},
   * from sentinel-policy-cel). The CEL environment is built only when a policy uses them.
   */
  public static final PolicyOptions POLICY_OPTIONS = Start.POLICY_OPTIONS;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  @Option(names = "--debug", scope = ScopeType.INHERIT,
      description = "on an error, print the stack trace too (for reporting a bug)")
  private boolean debug;

  private Main() {}

  /** The levels {@code --log-level} takes, as slf4j-simple names them. */
  static final List<String> LEVELS = Start.LEVELS;

  /**
   * Sets the log level before anything logs (options are set while the command line is parsed,
   * before a command runs): Sentinel's loggers at {@code level}; Jetty's and HikariCP's stay at
   * WARN for {@code info} and follow any other level.
   */
  @Option(names = "--log-level", scope = ScopeType.INHERIT, paramLabel = "LEVEL",
      description = "the log level on stderr: error, warn, info (the default), debug, trace or"
          + " off; Jetty and the connection pool log warnings only, unless LEVEL is debug or"
          + " trace")
  void logLevel(String level) {
    if (!LEVELS.contains(level.toLowerCase(java.util.Locale.ROOT))) {
      throw new CommandLine.ParameterException(spec.commandLine(), "unknown log level '" + level
          + "': give one of " + String.join(", ", LEVELS));
    }
    Start.applyLogLevel(level);
  }

  /**
   * A usage error: the message, a suggestion for a mistyped word, the command's synopsis and
   * where to read more; not the whole help.
   */
  private static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine command = e.getCommandLine();
    PrintWriter err = command.getErr();
    err.println("sentinel: " + e.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.print("Usage: " + command.getHelp().synopsis("Usage: ".length()));
    err.println("Run '" + command.getCommandSpec().qualifiedName() + " --help' for more.");
    err.flush();
    return USAGE;
  }

  /**
   * Runs the command line and exits with its code. {@code sentinel stdio}, which an MCP client
   * starts at each launch, is run without building picocli's model of every command (see
   * {@link StdioLaunch}) when its command line is a plain one.
   */
  public static void main(String[] args) {
    Map<String, String> environment = System.getenv();
    Integer stdio = StdioLaunch.run(args, environment, POLICY_OPTIONS);
    System.exit(stdio != null ? stdio : commandLine(environment).execute(args));
  }

  /**
   * The stock subcommands, one object per top-level command.
   *
   * @param environment the variables that {@code ${env:...}} in config files read
   */
  public static List<Object> subcommands(Map<String, String> environment) {
    return List.of(new StdioCommand(environment, POLICY_OPTIONS),
        new HttpCommand(environment, POLICY_OPTIONS), new ConfigCommand(environment, POLICY_OPTIONS),
        new PolicyCommand(environment, POLICY_OPTIONS), new KeysCommand(environment),
        new KillSwitchCommand(environment, POLICY_OPTIONS), new ApprovalsCommand(environment),
        new BreakGlassCommand(environment), new AuditCommand(environment), new ToolsCommand(environment),
        new BundleCommand(environment), new FleetCommand(environment), new RolloutCommand(environment),
        new CompletionCommand(),
        new InitCommand(environment, POLICY_OPTIONS),
        new ClientCommand(environment, POLICY_OPTIONS));
  }

  /** The command line with the stock subcommands. */
  public static CommandLine commandLine(Map<String, String> environment) {
    return commandLine(subcommands(environment));
  }

  /**
   * The command line with the given subcommands, each an object of a class annotated with
   * {@link Command}. Errors thrown by a command become a message on stderr and exit code 1.
   * Call {@link CommandLine#setOut} and {@link CommandLine#setErr} on the result to capture
   * output.
   */
  public static CommandLine commandLine(List<Object> subcommands) {
    CommandLine line = new CommandLine(new Main());
    for (Object subcommand : subcommands) {
      line.addSubcommand(Objects.requireNonNull(subcommand, "subcommand"));
    }
    line.setParameterExceptionHandler(Main::usageError);
    line.setExecutionExceptionHandler(
        (e, command, parsed) -> Start.reportFailure(e, command.getErr(), debug(parsed)));
    return line;
  }

  /** Whether {@code --debug} was given, to the command or to one of its subcommands. */
  private static boolean debug(ParseResult parsed) {
    for (ParseResult r = parsed; r != null; r = r.subcommand()) {
      if (r.hasMatchedOption("--debug")) {
        return true;
      }
    }
    return false;
  }

  /** Without a subcommand: the usage on stderr, and a usage error. */
  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    err.println("sentinel: missing command");
    spec.commandLine().usage(err);
    return USAGE;
  }

  /** The version: the jar's {@code Implementation-Version}, and the JVM's. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "sentinel " + version(),
        "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor")
            + ")"
      };
    }
  }

  /** The jar's {@code Implementation-Version}, or {@code development build} outside a jar. */
  static String version() {
    String version = Main.class.getPackage().getImplementationVersion();
    return version == null ? "(development build)" : version;
  }
}
