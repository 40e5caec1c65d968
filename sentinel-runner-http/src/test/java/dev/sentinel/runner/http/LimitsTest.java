package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.Conditions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 7 of issue 5: connections beyond {@code maxConnections} wait until one closes, a client
 * that stalls mid-body is cut by the idle timeout without holding up anyone, and open GET
 * streams up to {@code maxSessions} (and a second GET on one session) get the right answers while
 * the gateway keeps serving.
 */
class LimitsTest {
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

  private static double connections(HttpGateway gateway) {
    return Exposition.parse(gateway.metrics().scrape(null).body()).value("sentinel_http_connections");
  }

  /** A socket that has sent a complete keep-alive request and read its answer: an accepted connection. */
  private static Socket served(int port) throws IOException {
    Socket socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(30_000);
    socket.getOutputStream().write(("GET /livez HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    assertThat(readHead(socket.getInputStream())).startsWith("HTTP/1.1 200");
    return socket;
  }

  /** Reads up to the end of the response head (the bodies here are small and fixed-length). */
  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      head.append((char) c);
      if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
        break;
      }
    }
    return head.toString();
  }

  @Test
  void connectionsBeyondTheLimit_waitUntilOneCloses_whileSessionsKeepWorking() throws IOException {
    int limit = 4;
    try (HttpGateway gateway = fixture.gateway().maxConnections(limit).build()) {
      gateway.start();
      Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
      alice.initialize();
      int used = (int) connections(gateway);
      assertThat(used).isBetween(1, limit - 1);
      List<Socket> sockets = new ArrayList<>();
      try {
        for (int i = used; i < limit; i++) {
          sockets.add(served(gateway.port()));
        }
        Conditions.await("the limit is reached", () -> connections(gateway) == limit);

        // One more connects (the kernel completes the handshake) but is not accepted: its
        // request gets no answer while the others stay open.
        try (Socket waiting = new Socket("127.0.0.1", gateway.port())) {
          waiting.getOutputStream().write(("GET /livez HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port()
              + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          waiting.setSoTimeout(300);
          boolean answered;
          try {
            answered = waiting.getInputStream().read() >= 0;
          } catch (SocketTimeoutException expected) {
            answered = false;
          }
          assertThat(answered).as("a connection beyond the limit is served").isFalse();

          // The session's own connection is still served.
          HttpResponse<String> echo = alice.post(Client.call(1, "fx__echo", "still served"));
          assertThat(echo.statusCode()).isEqualTo(200);
          assertThat(echo.body()).contains("still served");

          // Once one closes, the waiting connection is accepted and answered.
          sockets.remove(0).close();
          waiting.setSoTimeout(30_000);
          assertThat(readHead(waiting.getInputStream())).startsWith("HTTP/1.1 200");
        }
      } finally {
        for (Socket socket : sockets) {
          socket.close();
        }
      }
    }
  }

  @Test
  void aClientThatStallsMidBody_isCutByTheIdleTimeout_andBlocksNobody() throws IOException {
    try (HttpGateway gateway = fixture.gateway()
        .keepAlive(Duration.ofMillis(200)).idleTimeout(Duration.ofMillis(800)).build()) {
      gateway.start();
      Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
      alice.initialize();
      List<Socket> slow = new ArrayList<>();
      try {
        for (int i = 0; i < 8; i++) {
          Socket socket = new Socket("127.0.0.1", gateway.port());
          slow.add(socket);
          OutputStream out = socket.getOutputStream();
          out.write(("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port() + "\r\nX-API-Key: "
              + fixture.bob.secret() + "\r\nContent-Type: application/json\r\nAccept: " + Client.BOTH
              + "\r\nContent-Length: 1000\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          // trickles a few bytes of the body, then stalls
          for (String piece : new String[] {"{\"json", "rpc\":", "\"2.0\""}) {
            out.write(piece.getBytes(StandardCharsets.US_ASCII));
            out.flush();
          }
        }
        // Everyone else is served while the slow bodies are pending (no thread waits on them).
        for (int i = 0; i < 5; i++) {
          HttpResponse<String> echo = alice.post(Client.call(10 + i, "fx__echo", "not blocked " + i));
          assertThat(echo.statusCode()).isEqualTo(200);
          assertThat(echo.body()).contains("not blocked " + i);
        }
        // Each stalled request ends: 408 and a closed connection, never a 200.
        for (Socket socket : slow) {
          socket.setSoTimeout(30_000);
          StringBuilder answer = new StringBuilder();
          InputStream in = socket.getInputStream();
          int c;
          try {
            while ((c = in.read()) >= 0) {
              answer.append((char) c);
            }
          } catch (IOException reset) {
            // a reset also ends it
          }
          // 408 when the timeout strikes while the body is awaited (a reset or a bare close also ends it)
          assertThat(answer.toString()).satisfiesAnyOf(
              text -> assertThat(text).startsWith("HTTP/1.1 408"), text -> assertThat(text).isEmpty());
          assertThat(answer.toString()).doesNotContain("\"result\"");
          socket.close();
        }
        Conditions.await("the stalled connections are closed", () -> connections(gateway) <= 1);
        assertThat(alice.post(Client.call(20, "fx__echo", "after")).body()).contains("after");
      } finally {
        for (Socket socket : slow) {
          socket.close();
        }
      }
    }
  }

  @Test
  void streamsUpToMaxSessions_areServed_moreSessionsAre503_andTheGatewayKeepsServing() throws IOException {
    int max = 4;
    try (HttpGateway gateway = fixture.gateway().maxSessions(max).maxSessionsPerPrincipal(max).build()) {
      gateway.start();
      List<Client> clients = new ArrayList<>();
      List<InputStream> streams = new ArrayList<>();
      try {
        for (int i = 0; i < max; i++) {
          Client client = new Client(gateway.endpoint(), fixture.alice.secret());
          client.initialize();
          HttpResponse<InputStream> stream = client.listen();
          assertThat(stream.statusCode()).isEqualTo(200);
          clients.add(client);
          streams.add(stream.body());
        }
        Client late = new Client(gateway.endpoint(), fixture.alice.secret());
        HttpResponse<String> refused = late.post(Client.initializeBody("{}"));
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).contains("5");

        // Every session with an open stream still gets answers, and its stream gets its messages.
        for (int i = 0; i < max; i++) {
          HttpResponse<String> echo = clients.get(i).post(Client.call(1, "fx__echo", "session " + i));
          assertThat(echo.statusCode()).isEqualTo(200);
          assertThat(echo.body()).contains("session " + i);
        }
        clients.get(0).post(Client.call(2, "fx__changed", "x"));
        String[] event = Client.nextEvent(streams.get(0));
        assertThat(event).isNotNull();
        assertThat(event[1]).contains("notifications/tools/list_changed");
        assertThat(clients.get(0).plain("/readyz").statusCode()).isEqualTo(200);

        // Ending one session makes room for another.
        assertThat(clients.get(max - 1).delete().statusCode()).isEqualTo(200);
        Conditions.await("the session is gone", () -> gateway.sessionCount() == max - 1);
        late.initialize();
      } finally {
        for (InputStream stream : streams) {
          stream.close();
        }
      }
    }
  }

  @Test
  void aSecondGetOnASession_replacesTheFirst() throws IOException {
    try (HttpGateway gateway = fixture.gateway().build()) {
      gateway.start();
      Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
      alice.initialize();
      HttpResponse<InputStream> first = alice.listen();
      assertThat(first.statusCode()).isEqualTo(200);
      HttpResponse<InputStream> second = alice.listen();
      assertThat(second.statusCode()).isEqualTo(200);
      try (InputStream old = first.body(); InputStream current = second.body()) {
        // the first stream ends; messages go to the second
        while (Client.nextEvent(old) != null) {
          // drain what it had (nothing but a priming event, usually)
        }
        alice.post(Client.call(1, "fx__changed", "x"));
        String[] event = Client.nextEvent(current);
        assertThat(event).isNotNull();
        assertThat(event[1]).contains("notifications/tools/list_changed");
        HttpResponse<String> echo = alice.post(Client.call(2, "fx__echo", "after two streams"));
        assertThat(echo.body()).contains("after two streams");
      }
    }
  }
}
