package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.mcp.gateway.ToolReport;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.policy.tools.PolicyTestReport;
import dev.sentinel.policy.tools.PolicyTests;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel policy check FILE}, {@code sentinel policy test FILE [--policy POLICY]} and
 * {@code sentinel policy explain --policy POLICY --request JSON}. Not thread-safe.
 */
@Command(
    name = "policy",
    mixinStandardHelpOptions = true,
    subcommands = {PolicyDiffCommand.class, PolicyLintCommand.class},
    description = "Check a policy file, run the test cases written beside it, or explain how it "
        + "decides a request.")
public final class PolicyCommand implements Runnable {
  private final Map<String, String> environment;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  private final PolicyOptions policyOptions;

  /** A policy command with the core's condition languages, reading no environment variables. */
  public PolicyCommand() {
    this(Map.of(), PolicyOptions.defaults());
  }

  /**
   * A policy command.
   *
   * @param environment the variables that {@code ${env:...}} in config files read ({@code
   *     explain --config})
   * @param policyOptions how policies are compiled (the condition languages they may use)
   */
  public PolicyCommand(Map<String, String> environment, PolicyOptions policyOptions) {
    this.environment = Map.copyOf(environment);
    this.policyOptions = Objects.requireNonNull(policyOptions, "policyOptions");
  }

  /** The variables {@code ${env:...}} in config files read, for the subcommands in their own classes. */
  Map<String, String> environment() {
    return environment;
  }

  /** How policies are compiled, for the subcommands in their own classes. */
  PolicyOptions policyOptions() {
    return policyOptions;
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: check, test, explain, diff or lint");
  }

  /** Loads a policy and prints its rule and limit counts. */
  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = "Validate a policy file; print its rule and limit counts.")
  int check(@Parameters(paramLabel = "FILE", description = "the policy file") Path file) {
    CommandLine line = Subcommands.of(spec, "check");
    try {
      PolicyEngine policy = PolicyEngine.load(file, policyOptions);
      PrintWriter out = line.getOut();
      out.println(file + ": OK: " + Summary.plural(policy.ruleCount(), "rule") + ", "
          + Summary.plural(policy.limits().size(), "limit") + " (revision " + policy.revision()
          + ")");
      out.flush();
      return 0;
    } catch (ConfigException e) {
      return Summary.fail(line, e);
    }
  }

  /** Runs a policy's test cases and prints a line per case and a summary. */
  @Command(
      name = "test",
      mixinStandardHelpOptions = true,
      description = {"Run the test cases of a test file against a policy, like 'opa test'.",
          "A case's backend defaults to its tool's <backend>__ prefix, as the gateway routes it.",
          "Exit code 0 when every case passes, 1 otherwise."})
  int test(
      @Parameters(paramLabel = "FILE", description = "the test file, such as policy.test.yaml")
          Path file,
      @Option(names = "--policy", paramLabel = "POLICY",
          description = "the policy (default: FILE with .test.yaml replaced by .yaml)")
          Path policyFile,
      @Option(names = "--explain",
          description = "after every case, not only a failed one, say for each rule why it did"
              + " or did not match (as 'policy explain' does for one request)")
          boolean explain) {
    CommandLine line = Subcommands.of(spec, "test");
    Path policyPath = policyFile != null ? policyFile : defaultPolicy(line, file);
    try {
      PolicyEngine policy = PolicyEngine.load(policyPath, policyOptions);
      PolicyTestReport report = PolicyTests.run(policy, file, explain);
      PrintWriter out = line.getOut();
      out.println(report.render());
      out.flush();
      return report.passed() ? 0 : Main.FAILED;
    } catch (ConfigException e) {
      return Summary.fail(line, e);
    }
  }

  /** Decides one request and prints, rule by rule, why each rule matched or not. */
  @Command(
      name = "explain",
      mixinStandardHelpOptions = true,
      description = {"Decide one request and show, rule by rule, why each rule matched or not "
          + "(including type mismatches and what they count as).",
          "The request is JSON (or YAML) in the format of a policy test case, with the "
              + "principal beside the request's keys, for example:",
          "  {\"principal\": {\"id\": \"bob\", \"roles\": [\"developer\"]}, "
              + "\"tool\": \"db__query\", \"arguments\": {\"sql\": \"select 1\"}}",
          "With --config instead of --policy, the config's policy decides, and the config's "
              + "backends are started first: a tool call's arguments are checked against the "
              + "input schema its backend lists, as the gateway checks them before the policy, "
              + "and the policy's conditions that cannot apply to that schema are shown.",
          "Exit code 0 whatever the decision; 1 if the policy, the config or the request is invalid."})
  int explain(
      @Option(names = "--policy", paramLabel = "POLICY", description = "the policy file")
          Path policyFile,
      @Option(names = "--config", paramLabel = "CONFIG",
          description = "a gateway config: its policy, and its backends' tool schemas") Path configFile,
      @Option(names = "--request", paramLabel = "JSON", description = "the request")
          String request,
      @Option(names = "--request-file", paramLabel = "FILE",
          description = "a file holding the request, instead of --request") Path requestFile) {
    CommandLine line = Subcommands.of(spec, "explain");
    if ((request == null) == (requestFile == null)) {
      throw new CommandLine.ParameterException(line,
          "give the request with exactly one of --request JSON or --request-file FILE");
    }
    if ((policyFile == null) == (configFile == null)) {
      throw new CommandLine.ParameterException(line,
          "give the policy with exactly one of --policy POLICY or --config CONFIG");
    }
    try {
      RequestContext context = request != null
          ? PolicyTests.request(request, "--request")
          : PolicyTests.request(readRequest(requestFile), String.valueOf(requestFile.getFileName()));
      PrintWriter out = line.getOut();
      PolicyEngine policy;
      if (configFile != null) {
        GatewayConfig config = GatewayConfig.load(configFile, environment, policyOptions);
        policy = config.policy();
        schemaLines(config, context).forEach(out::println);
      } else {
        policy = PolicyEngine.load(policyFile, policyOptions);
      }
      out.println(policy.explain(context).render());
      out.flush();
      return 0;
    } catch (ConfigException e) {
      return Summary.fail(line, e);
    }
  }

  /**
   * What the gateway checks before the policy decides a tool call: the arguments against the
   * input schema the tool's backend lists, and the policy's conditions against that schema.
   */
  private static List<String> schemaLines(GatewayConfig config, RequestContext context) {
    Request request = context.request();
    if (!Request.TOOLS_CALL.equals(request.method()) || request.name() == null) {
      return List.of();
    }
    ToolReport report = GatewayRuntime.checkTools(config, Clock.system());
    List<String> out = new ArrayList<>();
    Optional<ToolReport.Tool> tool = report.tool(request.name());
    if (tool.isEmpty()) {
      out.add("schema: tool '" + request.name() + "' is not listed by any backend"
          + (report.listed() ? "" : " that could be started (" + String.join("; ",
              report.problems().entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList())
              + ")")
          + "; a backend with validate: enforce refuses its calls");
      return out;
    }
    out.add(tool.get().check(request.arguments()));
    for (String conflict : tool.get().conflicts()) {
      out.add("schema check: " + conflict);
    }
    return out;
  }

  private static String readRequest(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(List.of(new ConfigException.Problem(String.valueOf(file), 0, 0,
          "", null, "cannot read the request file " + file + ": " + e.getMessage())), e);
    }
  }

  /** The policy beside a test file: {@code x.test.yaml} tests {@code x.yaml}. */
  private static Path defaultPolicy(CommandLine line, Path testFile) {
    Path name = testFile.getFileName();
    String text = name == null ? "" : name.toString();
    for (String suffix : new String[] {".test.yaml", ".test.yml"}) {
      if (text.endsWith(suffix) && text.length() > suffix.length()) {
        return testFile.resolveSibling(
            text.substring(0, text.length() - suffix.length()) + suffix.substring(5));
      }
    }
    throw new CommandLine.ParameterException(line, "cannot tell which policy '" + testFile
        + "' tests: name it <policy>.test.yaml or give --policy POLICY");
  }
}
