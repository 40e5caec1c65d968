package dev.sentinel.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * The real gateway in a child JVM, driven by hand over its stdin and stdout (no SDK in the way,
 * so a test can send what no SDK would). Every stdout line is kept for later checks; stderr goes
 * to a file. Not thread-safe, except that stdout is read on its own thread.
 */
final class RawGateway implements AutoCloseable {
  private final Process process;
  private final OutputStream stdin;
  private final Path stderr;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final BlockingQueue<String> unread = new LinkedBlockingQueue<>();
  private final Thread reader;

  RawGateway(Path config, Path stderr) throws IOException {
    this.stderr = stderr;
    List<String> command = new ArrayList<>();
    command.add(GatewayRig.JAVA);
    command.addAll(GatewayRig.gatewayArgs(config));
    process = new ProcessBuilder(command)
        .redirectError(stderr.toFile())
        .start();
    stdin = process.getOutputStream();
    reader = new Thread(this::read, "raw-gateway-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  private void read() {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        lines.add(line);
        unread.add(line);
      }
    } catch (IOException e) {
      // the process ended; what was read is kept
    }
  }

  Process process() {
    return process;
  }

  /** Writes one line (a newline is added) and flushes. */
  void send(String line) throws IOException {
    stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    stdin.flush();
  }

  /** Closes the gateway's stdin: the client is gone. */
  void closeStdin() throws IOException {
    stdin.close();
  }

  /** The next stdout line as JSON; fails naming the stderr tail if none comes. */
  JsonNode next() throws InterruptedException {
    String line = unread.poll(GatewayRig.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    if (line == null) {
      throw new AssertionError("the gateway wrote nothing; stderr:\n" + stderr());
    }
    return GatewayRig.JSON.readTree(line);
  }

  /** The next message with this id (numeric or null), skipping notifications. */
  JsonNode response(Integer id) throws InterruptedException {
    while (true) {
      JsonNode message = next();
      if (message.has("method")) {
        continue;
      }
      JsonNode got = message.path("id");
      if (id == null ? got.isNull() : got.isNumber() && got.asInt() == id) {
        return message;
      }
    }
  }

  /**
   * Lists the tools (request ids from 1000 up) until each backend named lists one: the
   * backends start in the background, after {@code initialize} was answered.
   */
  void awaitBackends(String... backends) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + GatewayRig.TIMEOUT.toNanos();
    for (int id = 1000; ; id++) {
      send("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/list\"}");
      String listed = response(id).path("result").path("tools").toString();
      boolean all = true;
      for (String backend : backends) {
        all &= listed.contains("\"" + backend + "__");
      }
      if (all) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("backends " + List.of(backends) + " never listed their tools; stderr:\n" + stderr());
      }
    }
  }

  /** Every stdout line so far, once the stdout reader has seen the end (the process exited). */
  List<String> allLines() throws InterruptedException {
    reader.join(GatewayRig.TIMEOUT.toMillis());
    return List.copyOf(lines);
  }

  /** What the gateway wrote to stderr (its log). */
  String stderr() {
    try {
      return Files.exists(stderr) ? Files.readString(stderr, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  /** Waits for the exit and returns its code; fails if it never comes. */
  int awaitExit() throws InterruptedException {
    if (!process.waitFor(GatewayRig.TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      throw new AssertionError("the gateway did not exit; stderr:\n" + stderr());
    }
    return process.exitValue();
  }

  /** Kills the gateway and whatever it started, if still alive. */
  @Override
  public void close() {
    List<ProcessHandle> all = new ArrayList<>();
    process.descendants().forEach(all::add);
    all.add(process.toHandle());
    GatewayRig.kill(all);
  }
}
