package dev.sentinel.benchmarks;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A raw JSON-lines MCP client of one child process: it writes each request as one line on the
 * child's stdin and reads lines from its stdout until the response with the same id, skipping
 * notifications. It does the same work for every child, so a difference between two children is
 * the children's own.
 *
 * <p>A watchdog kills a child that leaves a request unanswered for {@link #STALL_NANOS}, so a hung
 * gateway ends the run with an error instead of a hang. Not thread-safe: one thread per client.
 */
final class LineClient implements Closeable {
  static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(60);

  private static final Set<LineClient> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Thread watchdog = new Thread(LineClient::watch, "line-client-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(LineClient::kill)));
  }

  final String label;
  final Process process;
  final long launchedNanos;
  private final OutputStream in;
  private final InputStream out;
  private final Path stderr;
  private byte[] line = new byte[8192];
  private final byte[] buffer = new byte[65536];
  private int position;
  private int limit;
  private long nextId = 1;
  private volatile long waitingSince;

  private LineClient(String label, Process process, long launchedNanos, Path stderr) {
    this.label = label;
    this.process = process;
    this.launchedNanos = launchedNanos;
    this.in = new BufferedOutputStream(process.getOutputStream(), 65536);
    this.out = process.getInputStream();
    this.stderr = stderr;
    LIVE.add(this);
  }

  /**
   * Starts a child with an exact argv and the given extra environment; its stderr goes to a file
   * in {@code logDir}. The launch time is taken just before the process is started.
   */
  static LineClient start(String label, List<String> command, Map<String, String> env, Path logDir)
      throws IOException {
    Path log = Files.createTempFile(logDir, label.replaceAll("[^A-Za-z0-9_.-]", "_") + "-", ".log");
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectError(log.toFile())
        .directory(logDir.toFile());
    builder.environment().putAll(env);
    long launched = System.nanoTime();
    Process process = builder.start();
    return new LineClient(label, process, launched, log);
  }

  /** Sends {@code initialize} and {@code notifications/initialized}; returns the response line. */
  String initialize(String protocolVersion) throws IOException {
    String response = request("initialize", "{\"protocolVersion\":\"" + protocolVersion
        + "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"stdio-bench\",\"version\":\"1\"}}");
    notify("notifications/initialized");
    return response;
  }

  /** Sends a request with the given params (raw JSON) and returns the response line. */
  String request(String method, String params) throws IOException {
    long id = nextId++;
    send("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"" + method + "\""
        + (params == null ? "" : ",\"params\":" + params) + "}");
    String response = awaitResponse(id);
    if (!response.contains("\"result\"")) {
      throw new IOException(label + ": " + method + " failed: " + response);
    }
    return response;
  }

  /**
   * Lists the tools until every name given is listed: {@code sentinel stdio} answers {@code
   * initialize} at once and starts its backends in the background. Returns the last list.
   */
  String awaitTools(String... names) throws IOException {
    long deadline = System.nanoTime() + STALL_NANOS;
    while (true) {
      String tools = request("tools/list", "{}");
      boolean all = true;
      for (String name : names) {
        all &= tools.contains("\"name\":\"" + name + "\"");
      }
      if (all) {
        return tools;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IOException(label + ": tools/list never listed " + String.join(", ", names) + ": " + tools);
      }
      try {
        TimeUnit.MILLISECONDS.sleep(2); // the backend is still starting
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(label + ": interrupted while waiting for the tools", e);
      }
    }
  }

  /** Sends a notification without params. */
  void notify(String method) throws IOException {
    send("{\"jsonrpc\":\"2.0\",\"method\":\"" + method + "\"}");
  }

  /**
   * Calls a tool and returns the round-trip time in nanoseconds: from just before the request is
   * written to just after its response line is read. Fails on an error response or when the
   * answer does not contain {@code expect}.
   */
  long callTool(String tool, String arguments, String expect) throws IOException {
    long id = nextId++;
    byte[] request = ("{\"jsonrpc\":\"2.0\",\"id\":" + id
        + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":"
        + arguments + "}}\n").getBytes(StandardCharsets.UTF_8);
    long start = System.nanoTime();
    in.write(request);
    in.flush();
    String response = awaitResponse(id);
    long elapsed = System.nanoTime() - start;
    if (!response.contains(expect) || response.contains("\"isError\":true")
        || !response.contains("\"result\"")) {
      throw new IOException(label + ": unexpected answer to " + tool + ": " + response);
    }
    return elapsed;
  }

  private void send(String message) throws IOException {
    try {
      in.write((message + "\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
    } catch (IOException e) {
      throw new IOException(label + ": cannot write (" + e.getMessage() + "); stderr: "
          + stderrTail(), e);
    }
  }

  private String awaitResponse(long id) throws IOException {
    String idNumber = "\"id\":" + id;
    waitingSince = System.nanoTime();
    try {
      while (true) {
        String text = readLine();
        int at = text.indexOf(idNumber);
        if (at >= 0) {
          int after = at + idNumber.length();
          char next = after < text.length() ? text.charAt(after) : ' ';
          if ((next == ',' || next == '}') && !text.contains("\"method\"")) {
            return text;
          }
        }
        // A notification, a server-to-client request or someone else's response: skip it.
      }
    } finally {
      waitingSince = 0;
    }
  }

  private String readLine() throws IOException {
    int length = 0;
    while (true) {
      if (position == limit) {
        limit = out.read(buffer, 0, buffer.length);
        position = 0;
        if (limit <= 0) {
          limit = 0;
          throw new EOFException(label + ": end of output; stderr: " + stderrTail());
        }
      }
      byte b = buffer[position++];
      if (b == '\n') {
        return new String(line, 0, length, StandardCharsets.ISO_8859_1);
      }
      if (length == line.length) {
        if (length >= (64 << 20)) {
          throw new IOException(label + ": line longer than 64 MiB");
        }
        line = java.util.Arrays.copyOf(line, length * 2);
      }
      line[length++] = b;
    }
  }

  /** The last lines of the child's stderr, for error messages. */
  String stderrTail() {
    try {
      List<String> lines = Files.readAllLines(stderr, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** The child's pid (the JVM's, as the launcher execs it). */
  long pid() {
    return process.pid();
  }

  /**
   * Closes the child's stdin and waits up to fifteen seconds for it (and then its descendants) to
   * exit, then kills what is left.
   */
  @Override
  public void close() {
    closeAndTime();
  }

  /**
   * Closes as {@link #close()} does and returns the nanoseconds from closing stdin to the
   * child's exit, or -1 when it had to be killed.
   */
  long closeAndTime() {
    List<ProcessHandle> descendants = new ArrayList<>(process.descendants().toList());
    long start = System.nanoTime();
    long exited = -1;
    try {
      in.close();
    } catch (IOException e) {
      // Already gone.
    }
    try {
      if (process.waitFor(15, TimeUnit.SECONDS)) {
        exited = System.nanoTime() - start;
      } else {
        kill();
      }
      for (ProcessHandle child : descendants) {
        try {
          child.onExit().get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
          child.destroyForcibly();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
    } finally {
      LIVE.remove(this);
    }
    return exited;
  }

  private void kill() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  private static void watch() {
    while (true) {
      try {
        Thread.sleep(1000); // A watchdog's poll interval, not a wait for a result.
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      for (LineClient client : LIVE) {
        long since = client.waitingSince;
        if (since != 0 && now - since > STALL_NANOS) {
          System.err.println("stdio-bench: " + client.label + " stalled for "
              + TimeUnit.NANOSECONDS.toSeconds(now - since) + " s; killing it");
          client.kill();
        }
      }
    }
  }
}
