package dev.sentinel.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real {@code sentinel} command ({@link Main} in a child JVM on the test classpath), as a
 * user runs it: its exit code, stdout and stderr, and the JVM's own start-up. Stdout and stderr
 * go to files in a folder the test owns. Not thread-safe.
 */
final class CliProcess implements AutoCloseable {
  private final Process process;
  private final Path out;
  private final Path err;

  private CliProcess(Process process, Path out, Path err) {
    this.process = process;
    this.out = out;
    this.err = err;
  }

  /** Starts {@code sentinel ARGS} in {@code dir} (its working directory and output files). */
  static CliProcess start(Path dir, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(GatewayRig.JAVA);
    command.add(GatewayRig.CLASSPATH_ARGS);
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "stdout", ".txt");
    Path err = Files.createTempFile(dir, "stderr", ".txt");
    Process process = new ProcessBuilder(command).directory(dir.toFile())
        .redirectInput(ProcessBuilder.Redirect.PIPE)
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    return new CliProcess(process, out, err);
  }

  /** Runs {@code sentinel ARGS} to its end (at most a minute) and returns what it did. */
  static Cli.Run run(Path dir, String... args) throws Exception {
    try (CliProcess cli = start(dir, args)) {
      if (!cli.process.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError("sentinel " + String.join(" ", args) + " did not end; stderr: "
            + cli.err());
      }
      return new Cli.Run(cli.process.exitValue(), cli.out(), cli.err());
    }
  }

  Process process() {
    return process;
  }

  String out() {
    return read(out);
  }

  String err() {
    return read(err);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Stops the process and its children (backends it spawned), and waits for it. */
  @Override
  public void close() throws InterruptedException {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }
}
