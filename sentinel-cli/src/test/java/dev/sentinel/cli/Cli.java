package dev.sentinel.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;

/** Runs the command line in-process with captured output. */
final class Cli {
  private Cli() {}

  /** What a run printed and returned. */
  record Run(int exit, String out, String err) {}

  static Run run(Map<String, String> env, String... args) {
    CommandLine line = Main.commandLine(env);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    line.setOut(new PrintWriter(out, true));
    line.setErr(new PrintWriter(err, true));
    int exit = line.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  static Run run(String... args) {
    return run(Map.of(), args);
  }

  /** A fixture under {@code src/test/resources/cli}. */
  static Path fixture(String name) {
    try {
      return Path.of(Cli.class.getResource("/cli/" + name).toURI());
    } catch (Exception e) {
      throw new IllegalStateException("missing fixture " + name, e);
    }
  }
}
