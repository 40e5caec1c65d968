package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import dev.sentinel.core.testing.Conditions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Shell completion, help text, short usage errors and the log level. */
class CliPolishTest {
  @TempDir Path dir;

  /** What bash completes after {@code words}, with the script {@code sentinel completion bash} printed. */
  private List<String> complete(String script, String... words) throws Exception {
    Path file = dir.resolve("completion.bash");
    Files.writeString(file, script, StandardCharsets.UTF_8);
    String line = String.join(" ", words);
    StringBuilder array = new StringBuilder();
    for (String word : words) {
      array.append(" '").append(word).append('\'');
    }
    String program = "source '" + file + "'\n"
        + "COMP_WORDS=(" + array + ")\n"
        + "COMP_CWORD=" + (words.length - 1) + "\n"
        + "COMP_LINE='" + line + "'\n"
        + "COMP_POINT=" + line.length() + "\n"
        + "_complete_sentinel\n"
        + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    // Outside an interactive completion bash complains about compopt on stderr: not a result.
    Process bash = new ProcessBuilder("bash", "-c", program)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(bash.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  @Test
  void completionBash_completesCommandsAndTheirOptions() throws Exception {
    Run run = Cli.run("completion", "bash");
    assertThat(run.exit()).as(run.err()).isZero();

    assertThat(complete(run.out(), "sentinel", "con")).containsExactly("config");
    assertThat(complete(run.out(), "sentinel", "http", "--no-")).containsExactly("--no-watch");
    assertThat(complete(run.out(), "sentinel", "keys", "rot")).containsExactly("rotate");
  }

  @Test
  void completionZsh_loadsZshsBashCompatibility() {
    Run run = Cli.run("completion", "zsh");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("autoload -U +X bashcompinit && bashcompinit")
        .contains("complete -F _complete_sentinel");
  }

  @Test
  void completion_unknownShell_isAUsageError() {
    Run run = Cli.run("completion", "fish");
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("fish", "bash", "zsh");
  }

  private static void descriptions(CommandLine line, List<String> out) {
    String[] description = line.getCommandSpec().usageMessage().description();
    for (int i = 0; i < description.length; i++) {
      String text = description[i];
      // A paragraph ends its sentence; an example line is indented. The first is the summary
      // that the parent's command list shows alone: one whole sentence.
      boolean whole = text.startsWith(" ") || text.strip().endsWith(".")
          || (i > 0 && text.strip().endsWith(":"));
      if (!whole) {
        out.add(line.getCommandSpec().qualifiedName() + " [" + i + "]: " + text);
      }
    }
    line.getSubcommands().values().forEach(sub -> descriptions(sub, out));
  }

  @Test
  void help_noDescriptionIsCutMidSentence() {
    List<String> cut = new ArrayList<>();
    descriptions(Main.commandLine(java.util.Map.of()), cut);
    assertThat(cut).isEmpty();
    assertThat(Cli.run("--help").out())
        .containsPattern("fronting the config's\\s+backends through the governance pipeline\\.");
  }

  @Test
  void usageError_isAShortUsageLine_notTheWholeHelp() {
    Run run = Cli.run("config", "check");
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).startsWith("sentinel: Missing required parameter: 'FILE'\n")
        .contains("Usage: sentinel config check ", "Run 'sentinel config check --help' for more.")
        .doesNotContain("Exit code 0");
    assertThat(run.err().lines().count()).isLessThanOrEqualTo(5);
    Run http = Cli.run("http");
    assertThat(http.err()).contains("Missing required option: '--config=FILE'");
    assertThat(http.err().lines().count()).isLessThanOrEqualTo(6);
  }

  @Test
  void logLevel_unknown_isAUsageError() {
    Run run = Cli.run("--log-level", "loud", "config", "check", "x.yaml");
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("unknown log level 'loud': give one of error, warn, info");
  }

  /** What {@code sentinel http} logs on stderr until it serves. */
  private String httpStartup(String... options) throws Exception {
    Path config = dir.resolve("sentinel.yaml");
    Files.writeString(config, String.join("\n",
        "backends:",
        "  - name: echo",
        "    stdio: { command: cat }",
        "policy: { rules: [] }",
        "database: { url: " + GatewayRig.quote("jdbc:sqlite:" + dir.resolve("sentinel.db")) + " }",
        ""));
    List<String> args = new ArrayList<>(List.of("http", "-c", config.toString(), "--port", "0",
        "--no-watch"));
    args.addAll(List.of(options));
    try (CliProcess cli = CliProcess.start(dir, args.toArray(String[]::new))) {
      try {
        Conditions.await("sentinel http serves", () -> cli.err().contains("sentinel http: MCP on"));
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; stderr:\n" + cli.err(), e);
      }
      return cli.err();
    }
  }

  @Test
  void logLevel_byDefault_jettyAndThePoolAreQuiet() throws Exception {
    String err = httpStartup();
    assertThat(err).contains("[INFO] dev.sentinel.").doesNotContain("org.eclipse.jetty")
        .doesNotContain("com.zaxxer.hikari");
  }

  @Test
  void logLevel_warn_showsNoInfo_andDebugShowsTheLibraries() throws Exception {
    assertThat(httpStartup("--log-level", "warn")).doesNotContain("[INFO]")
        .contains("sentinel http: MCP on");
    assertThat(httpStartup("--log-level", "debug")).contains("[DEBUG] org.eclipse.jetty");
  }
}
