package dev.sentinel.cli;

import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyTestReport;
import dev.sentinel.core.policy.PolicyTests;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel policy check FILE} and {@code sentinel policy test FILE [--policy POLICY]}.
 * Not thread-safe.
 */
@Command(
    name = "policy",
    mixinStandardHelpOptions = true,
    description = "Check a policy file, or run the test cases written beside it.")
public final class PolicyCommand implements Runnable {
  @Spec private CommandSpec spec;

  /** A policy command. */
  public PolicyCommand() {}

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: check or test");
  }

  /** Loads a policy and prints its rule and limit counts. */
  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = "Validate a policy file; print its rule and limit counts.")
  int check(@Parameters(paramLabel = "FILE", description = "the policy file") Path file) {
    CommandLine line = spec.commandLine().getSubcommands().get("check");
    try {
      PolicyEngine policy = PolicyEngine.load(file);
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
      PolicyEngine policy = PolicyEngine.load(policyPath);
      PolicyTestReport report = PolicyTests.run(policy, file);
      PrintWriter out = line.getOut();
      out.println(report.render());
      out.flush();
      return report.passed() ? 0 : Main.FAILED;
    } catch (ConfigException e) {
      return Summary.fail(line, e);
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
