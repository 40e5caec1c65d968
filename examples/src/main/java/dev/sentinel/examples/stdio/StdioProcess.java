package dev.sentinel.examples.stdio;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * An MCP server on stdio as a child process (the demo's {@code bin/sentinel stdio}), spoken to as
 * an MCP client would: one JSON-RPC message a line on its stdin, answers read from its stdout,
 * its log (stderr) in a file. Stopping it closes its stdin, waits for it to stop its own children
 * and exit, and kills whatever is left. Not thread-safe: one caller at a time.
 */
final class StdioProcess implements AutoCloseable {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String END = new String("end of output"); // identity-compared marker
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

  private final String name;
  private final Process process;
  private final Path log;
  private final Writer stdin;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<ProcessHandle> children = new ArrayList<>();
  private final List<String> notified = new ArrayList<>(); // methods of notifications not awaited yet
  private int nextId = 1;
  private boolean closed;

  private StdioProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(this::readStdout, "stdio-process-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@code command} in {@code dir}, named {@code name} in error messages, with the JVM running this demo first on {@code PATH}
   * (so that {@code bin/sentinel} and the config's {@code java} find a Java even where none is on
   * {@code PATH}), and its stderr written to {@code log}.
   */
  static StdioProcess start(String name, List<String> command, Path dir, Path log) throws IOException {
    Files.createDirectories(log.toAbsolutePath().getParent());
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(dir.toFile())
        .redirectError(log.toFile());
    Map<String, String> env = builder.environment();
    String javaBin = Path.of(System.getProperty("java.home"), "bin").toString();
    String path = env.get("PATH");
    env.put("PATH", path == null || path.isEmpty() ? javaBin : javaBin + File.pathSeparator + path);
    return new StdioProcess(name, builder.start(), log);
  }

  /** Sends a request and waits for its answer (the whole JSON-RPC response: result or error). */
  JsonNode request(String method, JsonNode params) {
    int id = nextId++;
    ObjectNode message = JSON.createObjectNode().put("jsonrpc", "2.0").put("id", id).put("method", method);
    if (params != null) {
      message.set("params", params);
    }
    send(message);
    long deadline = System.nanoTime() + ANSWER_TIMEOUT.toNanos();
    while (true) {
      String line = poll(deadline, method);
      JsonNode answer;
      try {
        answer = JSON.readTree(line);
      } catch (RuntimeException e) {
        throw failure(name + " wrote a line that is not JSON: " + line);
      }
      // Notifications (such as tools/list_changed) and other ids are not this answer.
      if (answer.path("id").isNumber() && answer.path("id").asInt() == id) {
        return answer;
      }
      if (answer.has("method") && !answer.has("id")) {
        notified.add(answer.path("method").asString());
      }
    }
  }

  /**
   * Waits up to {@code timeout} for a notification of this method (one that arrived while
   * waiting for an answer counts); answers whether it came.
   */
  boolean awaitNotification(String method, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!notified.remove(method)) {
      String line;
      try {
        line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      if (line == null) {
        return false;
      }
      if (line == END) {
        lines.add(END);
        return false;
      }
      JsonNode message;
      try {
        message = JSON.readTree(line);
      } catch (RuntimeException e) {
        throw failure(name + " wrote a line that is not JSON: " + line);
      }
      if (message.has("method") && !message.has("id")) {
        notified.add(message.path("method").asString());
      }
    }
    return true;
  }

  /** Sends a notification. */
  void notify(String method) {
    send(JSON.createObjectNode().put("jsonrpc", "2.0").put("method", method));
  }

  /** Remembers the process's children (a gateway's backends), to make sure they end with it. */
  void rememberChildren() {
    process.descendants().forEach(children::add);
  }

  /** The process id. */
  long pid() {
    return process.pid();
  }

  /**
   * Closes the process's stdin (which tells an MCP server on stdio to stop) and waits for it to
   * exit; kills it and its children if they do not end in time.
   *
   * @return the exit code
   */
  int stop() {
    if (!closed) {
      closed = true;
      try {
        stdin.close();
      } catch (IOException e) {
        // Already gone: the wait below sees it.
      }
    }
    try {
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        kill();
      }
      for (ProcessHandle child : children) {
        if (!child.onExit().completeOnTimeout(child, STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .join().isAlive()) {
          continue;
        }
        child.destroyForcibly();
      }
      return process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
      return -1;
    }
  }

  /** Stops the process if {@link #stop()} has not. */
  @Override
  public void close() {
    if (!closed || process.isAlive()) {
      stop();
    }
  }

  /** The last lines of the process's log (stderr), for error messages. */
  String logTail() {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - 20), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  private void kill() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    children.forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void send(JsonNode message) {
    try {
      stdin.write(JSON.writeValueAsString(message));
      stdin.write('\n');
      stdin.flush();
    } catch (IOException e) {
      throw failure("cannot write to " + name + " (" + e.getMessage() + ")");
    }
  }

  private String poll(long deadline, String method) {
    try {
      String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw failure(name + " did not answer " + method + " within " + ANSWER_TIMEOUT.toSeconds() + " s");
      }
      if (line == END) {
        lines.add(END); // later polls see it too
        throw failure(name + " closed its output before answering " + method);
      }
      return line;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failure("interrupted while waiting for the answer to " + method);
    }
  }

  private IllegalStateException failure(String what) {
    return new IllegalStateException(what + "; the log of " + name + " (" + log + ") ends with:"
        + System.lineSeparator() + logTail());
  }

  private void readStdout() {
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (!line.isBlank()) {
          lines.add(line);
        }
      }
    } catch (IOException e) {
      // The process ended; END below says so.
    } finally {
      lines.add(END);
    }
  }

}
