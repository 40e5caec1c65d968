package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.api.SentinelException;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.mcp.gateway.ToolReport;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.policy.tools.PolicyLint;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel policy lint FILE [--config CONFIG --backends]}: what in a valid policy has no
 * effect (docs/policy.md); with a config whose {@code llm:} section names upstreams, also model
 * and path globs that match nothing it serves. Exits 1 when there is a warning. Not thread-safe.
 */
@Command(
    name = "lint",
    mixinStandardHelpOptions = true,
    description = {"Find rules that never take effect, roles and limits that apply to nothing, and"
            + " allow rules that deny rules overlap; with --config, model and path globs that match"
            + " nothing its llm: upstreams serve; with --backends, tool globs that match no tool"
            + " the config's backends list (they are started, asked and stopped).",
        "Exit code 1 when there is a warning; notes alone exit 0."})
final class PolicyLintCommand implements Callable<Integer> {
  @SuppressWarnings("NullAway.Init") // set by picocli
  @ParentCommand private PolicyCommand parent;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  @Parameters(paramLabel = "FILE", arity = "0..1",
      description = "the policy file (default: the one the --config names)")
  private @Nullable Path file;

  @Option(names = "--config", paramLabel = "CONFIG",
      description = "a gateway config: its llm: models and paths, its policy file, and for --backends its backends")
  private @Nullable Path config;

  @Option(names = "--backends", description = "start the config's backends and check globs against their tools")
  private boolean backends;

  /** Made by picocli, under {@code sentinel policy}. */
  PolicyLintCommand() {}

  @Override
  public Integer call() {
    if (backends && config == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--backends needs --config");
    }
    Path policyFile = file;
    List<String> tools = null;
    LlmSettings llm = null;
    if (config != null) {
      GatewayConfig loaded = GatewayConfig.load(config, parent.environment(), parent.policyOptions());
      llm = loaded.llm().enabled() ? loaded.llm() : null;
      if (policyFile == null) {
        policyFile = Path.of(loaded.policy().source());
        if (policyFile.toAbsolutePath().normalize().equals(config.toAbsolutePath().normalize())
            || !Files.isRegularFile(policyFile)) {
          throw new SentinelException("the policy of " + config + " is written inline; lint a policy"
              + " file: move it to policy.yaml and name it with policy: { file: policy.yaml }");
        }
      }
      if (backends) {
        ToolReport report = GatewayRuntime.checkTools(loaded, Clock.system());
        if (!report.problems().isEmpty()) {
          throw new SentinelException("cannot list every backend's tools: " + String.join("; ",
              report.problems().entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList()));
        }
        tools = report.tools().stream().map(ToolReport.Tool::name).toList();
      }
    }
    if (policyFile == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "give a policy FILE or --config");
    }
    PolicyEngine.load(policyFile, parent.policyOptions()); // errors first, with their locations
    String text;
    try {
      text = Files.readString(policyFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SentinelException("cannot read the policy file " + policyFile + ": " + e.getMessage());
    }
    List<PolicyLint.Finding> findings = PolicyLint.lint(text, policyFile.toString(), tools, llm);
    PrintWriter out = spec.commandLine().getOut();
    findings.forEach(out::println);
    long warnings = findings.stream().filter(f -> f.severity() == PolicyLint.Severity.WARNING).count();
    List<String> checked = new ArrayList<>();
    if (tools != null) {
      checked.add(tools.size() + " tools listed by the backends");
    }
    if (llm != null) {
      checked.add(llm.upstreams().stream().mapToInt(u -> u.models().size()).sum()
          + " models and " + llm.aliases().size() + " aliases served by the llm: upstreams");
    }
    out.println(policyFile + ": " + warnings + " warnings, " + (findings.size() - warnings) + " notes"
        + (checked.isEmpty() ? "" : " (" + String.join("; ", checked) + ")"));
    out.flush();
    return warnings > 0 ? Main.FAILED : 0;
  }
}
