package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 5 of the trust issue: a client that trickles its request head (a header line every few
 * seconds, never idle long enough for the idle timeout) is closed once the head has taken longer
 * than the header timeout, without credentials ever being checked, while other clients are
 * served. Time is a {@link ManualClock}: the test moves it, never waits for it.
 */
class HeaderTimeoutTest {
  private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(10);

  @TempDir static Path dir;
  static Fixture fixture;

  @BeforeAll
  static void start() {
    fixture = new Fixture(dir);
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  /** A raw connection whose reader notes when the server closes it. */
  private static final class Trickler implements AutoCloseable {
    final Socket socket;
    final OutputStream out;
    final StringBuilder received = new StringBuilder();
    final AtomicBoolean closed = new AtomicBoolean();
    final Thread reader;

    Trickler(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      reader = new Thread(() -> {
        try {
          int c;
          while ((c = in.read()) >= 0) {
            synchronized (received) {
              received.append((char) c);
            }
          }
        } catch (IOException reset) {
          // a reset ends it too
        }
        closed.set(true);
      }, "trickler-reader");
      reader.setDaemon(true);
      reader.start();
    }

    void send(String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }

    String received() {
      synchronized (received) {
        return received.toString();
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static double metric(HttpGateway gateway, String name) {
    return Exposition.parse(gateway.metrics().scrape(null).body()).value(name);
  }

  private static HttpGateway start(ManualClock clock) {
    // An idle timeout far beyond the test's length: only the header timeout can close the
    // trickling connections here.
    return fixture.start(fixture.gateway().clock(clock).headerTimeout(HEADER_TIMEOUT)
        .keepAlive(Duration.ofSeconds(60)).idleTimeout(Duration.ofSeconds(120)));
  }

  @Test
  void aHeadTrickledLineByLine_isClosedAtTheHeaderTimeout_andOthersAreServed() throws IOException {
    ManualClock clock = new ManualClock();
    HttpGateway gateway = start(clock);
    try (Trickler slow = new Trickler(gateway.port())) {
      slow.send("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port() + "\r\n");
      Conditions.await("the connection is accepted",
          () -> metric(gateway, "sentinel_http_connections") >= 1);
      // one header line every 4 s (of the clock): never silent for long, never complete
      for (int i = 0; i < 2; i++) {
        clock.advance(Duration.ofSeconds(4));
        slow.send("X-Trickle-" + i + ": " + "x".repeat(20) + "\r\n");
      }
      assertThat(slow.closed).as("closed before its head took the header timeout").isFalse();

      Conditions.await("the trickling connection is closed", () -> {
        clock.advance(Duration.ofSeconds(1));
        return slow.closed.get();
      });

      assertThat(slow.received()).doesNotContain("HTTP/1.1 2");
      assertThat(metric(gateway, "sentinel_http_header_timeouts_total")).isEqualTo(1.0);
      Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
      alice.initialize();
      alice.assertStillServed();
    }
  }

  @Test
  void aLaterHeadOnAKeptAliveConnection_hasItsOwnDeadline() throws IOException {
    ManualClock clock = new ManualClock();
    HttpGateway gateway = start(clock);
    String host = "Host: 127.0.0.1:" + gateway.port() + "\r\n";
    try (Trickler slow = new Trickler(gateway.port())) {
      slow.send("GET /livez HTTP/1.1\r\n" + host + "\r\n");
      Conditions.await("the first request is answered", () -> slow.received().contains("\"ok\""));
      assertThat(slow.received()).startsWith("HTTP/1.1 200");

      // A quiet keep-alive connection is not cut by the header timeout (only by the idle one).
      clock.advance(Duration.ofSeconds(30));
      slow.send("GET /livez HTTP/1.1\r\n");
      clock.advance(Duration.ofSeconds(5));
      slow.send(host);
      assertThat(slow.closed).isFalse();

      Conditions.await("the second, trickled head is cut", () -> {
        clock.advance(Duration.ofSeconds(1));
        return slow.closed.get();
      });
      assertThat(slow.received().split("HTTP/1.1 200", -1)).hasSize(2);
    }
  }

  @Test
  void aSilentNewConnection_isClosedAtTheHeaderTimeout() throws IOException {
    ManualClock clock = new ManualClock();
    HttpGateway gateway = start(clock);
    try (Trickler silent = new Trickler(gateway.port())) {
      Conditions.await("the connection is accepted",
          () -> metric(gateway, "sentinel_http_connections") >= 1);

      Conditions.await("the silent connection is closed", () -> {
        clock.advance(Duration.ofSeconds(1));
        return silent.closed.get();
      });
      assertThat(silent.received()).isEmpty();
    }
  }

  @Test
  void aHeadInPiecesWithinTheTimeout_isServed() throws IOException {
    ManualClock clock = new ManualClock();
    HttpGateway gateway = start(clock);
    try (Trickler client = new Trickler(gateway.port())) {
      client.send("GET /livez HTTP/1.1\r\n");
      Conditions.await("the connection is accepted",
          () -> metric(gateway, "sentinel_http_connections") >= 1);
      clock.advance(HEADER_TIMEOUT.minusSeconds(1));
      client.send("Host: 127.0.0.1:" + gateway.port() + "\r\nConnection: close\r\n\r\n");

      Conditions.await("the answer arrives and the connection ends", client.closed::get);
      assertThat(client.received()).startsWith("HTTP/1.1 200").contains("\"ok\"");
      assertThat(metric(gateway, "sentinel_http_header_timeouts_total")).isZero();
    }
  }
}
