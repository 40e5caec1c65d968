package dev.sentinel.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel completion bash|zsh}: prints a script that completes the commands and options
 * of {@code sentinel} in that shell (picocli's {@link AutoComplete}). Not thread-safe.
 */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description = {"Print a shell script that completes sentinel's commands and options.",
        "Load it for this shell with: source <(sentinel completion bash) (or zsh); to keep it,"
            + " add that line to ~/.bashrc or ~/.zshrc, or save the output as"
            + " /etc/bash_completion.d/sentinel."})
public final class CompletionCommand implements Callable<Integer> {
  /** The shells whose completion scripts are printed. */
  enum Shell { bash, zsh }

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  @Parameters(paramLabel = "SHELL", description = "bash or zsh")
  @SuppressWarnings("NullAway.Init") // required: set by picocli
  private Shell shell;

  /** A completion command. */
  public CompletionCommand() {}

  /** Prints the script to stdout. */
  @Override
  public Integer call() {
    CommandLine root = spec.root().commandLine();
    String script = AutoComplete.bash(root.getCommandName(), root);
    PrintWriter out = spec.commandLine().getOut();
    // One script for both: under zsh it loads zsh's bash compatibility (bashcompinit) itself.
    out.print(script);
    out.flush();
    return 0;
  }
}
