package dev.sentinel.redis;

import dev.sentinel.core.testing.Conditions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code redis-server} (Debian's package, which {@code .ci/run} installs) on a free port
 * of 127.0.0.1, with no persistence. {@link #stop()} ends it by its pid and {@link #start()}
 * brings it back on the same port, as a server that went away and came back. Tests that need it
 * are skipped, loudly, only when the program is not installed. {@link #startTls} serves TLS only
 * (no plain port), with a certificate and key the test made.
 */
final class RedisServer implements AutoCloseable {
  private final int port;
  private final String password;
  private final Path certificate; // null: plain TCP
  private final Path key;
  private Process process;

  private RedisServer(int port, String password, Path certificate, Path key) {
    this.port = port;
    this.password = password;
    this.certificate = certificate;
    this.key = key;
  }

  /** Starts a server; skips the calling test if {@code redis-server} is not installed. */
  static RedisServer start(String password) {
    Assumptions.assumeTrue(installed(), "SKIPPED LOUDLY: redis-server is not installed; install"
        + " Debian's redis-server (apt-get install -y redis-server, as .ci/run does)");
    RedisServer server = new RedisServer(freePort(), password, null, null);
    server.start();
    return server;
  }

  /**
   * Starts a server that speaks TLS only, with this PEM certificate and key (clients are not
   * asked for certificates); skips the calling test if {@code redis-server} is not installed.
   */
  static RedisServer startTls(Path certificate, Path key) {
    Assumptions.assumeTrue(installed(), "SKIPPED LOUDLY: redis-server is not installed; install"
        + " Debian's redis-server (apt-get install -y redis-server, as .ci/run does)");
    RedisServer server = new RedisServer(freePort(), null, certificate, key);
    server.start();
    return server;
  }

  static boolean installed() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "redis-server"))) {
        return true;
      }
    }
    return false;
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts (again) on this server's port and waits until it answers. */
  void start() {
    List<String> command = new ArrayList<>(List.of("redis-server", "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--protected-mode", "yes"));
    if (certificate == null) {
      command.addAll(List.of("--port", String.valueOf(port)));
    } else {
      command.addAll(List.of("--port", "0", "--tls-port", String.valueOf(port), "--tls-cert-file",
          certificate.toString(), "--tls-key-file", key.toString(), "--tls-ca-cert-file",
          certificate.toString(), "--tls-auth-clients", "no"));
    }
    if (password != null) {
      command.add("--requirepass");
      command.add(password);
    }
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start redis-server", e);
    }
    Conditions.await("redis-server to answer on port " + port, this::answers);
  }

  /**
   * Whether a PING gets an answer (+PONG, or -NOAUTH with a password); with TLS, whether the port
   * accepts connections (Redis opens it once it serves).
   */
  private boolean answers() {
    if (!process.isAlive()) {
      throw new IllegalStateException("redis-server exited with " + process.exitValue());
    }
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      if (certificate != null) {
        return true;
      }
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      int first = in.read();
      return first == '+' || first == '-';
    } catch (IOException e) {
      return false;
    }
  }

  /** Stops the server by its pid and waits for it to exit. */
  void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  int port() {
    return port;
  }

  String url() {
    return (certificate == null ? "redis" : "rediss") + "://127.0.0.1:" + port + "/0";
  }

  @Override
  public void close() {
    stop();
  }
}
