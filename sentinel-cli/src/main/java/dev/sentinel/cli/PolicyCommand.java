package dev.sentinel.cli;

import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.policy.Explanation;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.core.policy.PolicyTestReport;
import dev.sentinel.core.policy.PolicyTests;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
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
    description = "Check a policy file, run the test cases written beside it, or explain how it "
        + "decides a request.")
public final class PolicyCommand implements Runnable {
  @Spec private CommandSpec spec;

  private final PolicyOptions policyOptions;

  /**
   * A policy command.
   *
   * @param policyOptions how policies are compiled (the condition languages they may use)
   */
  public PolicyCommand(PolicyOptions policyOptions) {
    this.policyOptions = Objects.requireNonNull(policyOptions, "policyOptions");
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: check, test or explain");
  }

  /** Loads a policy and prints its rule and limit counts. */
  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = "Validate a policy file; print its rule and limit counts.")
  int check(@Parameters(paramLabel = "FILE", description = "the policy file") Path file) {
    CommandLine line = spec.commandLine().getSubcommands().get("check");
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
          "Exit code 0 when every case passes, 1 otherwise."})
  int test(
      @Parameters(paramLabel = "FILE", description = "the test file, such as policy.test.yaml")
          Path file,
      @Option(names = "--policy", paramLabel = "POLICY",
          description = "the policy (default: FILE with .test.yaml replaced by .yaml)")
          Path policyFile) {
    CommandLine line = spec.commandLine().getSubcommands().get("test");
    Path policyPath = policyFile != null ? policyFile : defaultPolicy(line, file);
    try {
      PolicyEngine policy = PolicyEngine.load(policyPath, policyOptions);
      PolicyTestReport report = PolicyTests.run(policy, file);
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
          "Exit code 0 whatever the decision; 1 if the policy or the request is invalid."})
  int explain(
      @Option(names = "--policy", paramLabel = "POLICY", required = true,
          description = "the policy file") Path policyFile,
      @Option(names = "--request", paramLabel = "JSON", description = "the request")
          String request,
      @Option(names = "--request-file", paramLabel = "FILE",
          description = "a file holding the request, instead of --request") Path requestFile) {
    CommandLine line = spec.commandLine().getSubcommands().get("explain");
    if ((request == null) == (requestFile == null)) {
      throw new CommandLine.ParameterException(line,
          "give the request with exactly one of --request JSON or --request-file FILE");
    }
    try {
      PolicyEngine policy = PolicyEngine.load(policyFile, policyOptions);
      Explanation explanation = policy.explain(request != null
          ? PolicyTests.request(request, "--request")
          : PolicyTests.request(readRequest(requestFile),
              String.valueOf(requestFile.getFileName())));
      PrintWriter out = line.getOut();
      out.println(explanation.render());
      out.flush();
      return 0;
    } catch (ConfigException e) {
      return Summary.fail(line, e);
    }
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
