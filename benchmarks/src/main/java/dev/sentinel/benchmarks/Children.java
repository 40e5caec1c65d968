package dev.sentinel.benchmarks;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The child processes of the end-to-end harnesses (gateways, backends, stores): started with
 * their output in a log file, awaited on a port or a readiness URL, and stopped with their
 * descendants. A shutdown hook kills whatever is still running when the harness's JVM exits.
 */
final class Children {
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Children::kill), "bench-children-cleanup"));
  }

  private Children() {}

  /**
   * Starts {@code command} in {@code work}, its output (and errors) in {@code log}: appended to
   * with {@code append}, else replaced.
   */
  static Process start(Path work, Path log, boolean append, List<String> command, Map<String, String> env)
      throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
        .redirectOutput(append ? ProcessBuilder.Redirect.appendTo(log.toFile()) : ProcessBuilder.Redirect.to(log.toFile()));
    builder.environment().putAll(env);
    return watch(builder.start());
  }

  /** Has the shutdown hook kill {@code process} if it still runs when the JVM exits. */
  static Process watch(Process process) {
    LIVE.add(process);
    return process;
  }

  /** Stops every child still running. */
  static void stopAll() {
    List.copyOf(LIVE).forEach(Children::stop);
  }

  /** Kills every child still running, at once. */
  static void killAll() {
    List.copyOf(LIVE).forEach(Children::kill);
  }

  /** Stops a child and its descendants: SIGTERM, then SIGKILL after 10 s. */
  static void stop(Process process) {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy();
    children.forEach(ProcessHandle::destroy);
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        kill(process);
      }
      for (ProcessHandle child : children) {
        child.onExit().get(10, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      kill(process);
      children.forEach(ProcessHandle::destroyForcibly);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    } finally {
      LIVE.remove(process);
    }
  }

  /** Kills a child and its descendants at once. */
  static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    LIVE.remove(process);
  }

  /** Waits up to 60 s for something to listen on the loopback {@code port}; fails if the child exits. */
  static void awaitPort(Process process, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
        return;
      } catch (IOException e) {
        if (!process.isAlive()) {
          throw new IllegalStateException("a child exited before listening on " + port);
        }
        Thread.sleep(50); // polling a child's port
      }
    }
    throw new IllegalStateException("nothing listens on port " + port + " after 60 s");
  }

  /**
   * Waits up to {@code timeout} for {@code readyz} to answer 200; fails if the child exits
   * (its logs are in {@code logs}).
   */
  static void awaitReady(Process process, URI readyz, Duration timeout, Path logs) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("a gateway exited; see the logs in " + logs);
      }
      try {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(readyz)
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          return;
        }
        last = response.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(100); // polling the child's readiness
    }
    throw new IllegalStateException("a gateway is not ready after " + timeout.toSeconds() + " s: " + last);
  }

  /** A free port on the loopback address. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Deletes a folder and everything in it. */
  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
