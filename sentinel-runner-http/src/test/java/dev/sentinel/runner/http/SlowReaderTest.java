package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.streamable.OutputBudget;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 5 of the trust issue: a client that opens a stream (a GET, or a POST answered as SSE) and
 * never reads it cannot make the gateway queue output without bound. The backend floods the
 * session (2000 progress notifications of 8 KiB, 16 MiB in all) to a real socket with a tiny
 * receive buffer that is never read: the connection is dropped and counted, what the session
 * holds stays within its bound (by its own accounting), and other sessions are served.
 */
class SlowReaderTest {
  private static final int EVENT = 8192;
  private static final String FLOOD = "2000x" + EVENT;
  /** The newest event, and a write Jetty still holds for a connection being dropped, may pass the bound. */
  private static final long SLACK = 2L * (EVENT + 512);

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

  private static Exposition scrape(HttpGateway gateway) {
    return Exposition.parse(gateway.metrics().scrape(null).body());
  }

  private static String flood(int id, String token) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"fx__flood\","
        + "\"arguments\":{\"text\":\"" + FLOOD + "\"},\"_meta\":{\"progressToken\":\"" + token + "\"}}}";
  }

  /** A connection that reads nothing: its receive buffer is as small as the kernel allows. */
  private static Socket deaf(HttpGateway gateway, String head, String body) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(1024);
    socket.connect(new InetSocketAddress("127.0.0.1", gateway.port()));
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    socket.getOutputStream().write((head + "Content-Length: " + bytes.length + "\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().write(bytes);
    socket.getOutputStream().flush();
    return socket;
  }

  private static String head(HttpGateway gateway, String method, Client client, String accept) {
    return method + " /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port() + "\r\nX-API-Key: " + client.key
        + "\r\nMcp-Session-Id: " + client.session + "\r\nMCP-Protocol-Version: 2025-11-25\r\nAccept: "
        + accept + "\r\n" + (method.equals("POST") ? "Content-Type: application/json\r\n" : "");
  }

  /** Reads what the kernel kept for the socket until the server's close shows: true if it did. */
  private static boolean closedByServer(Socket socket) throws IOException {
    socket.setSoTimeout(30_000);
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[65_536];
    try {
      while (in.read(buffer) >= 0) {
        // drain
      }
      return true;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  /** Bob is served in full: a session, a call, and a stream that gets its message. */
  private static void assertOthersServed(HttpGateway gateway) throws IOException {
    Client bob = new Client(gateway.endpoint(), fixture.bob.secret());
    bob.initialize();
    HttpResponse<InputStream> stream = bob.listen();
    try (InputStream events = stream.body()) {
      bob.assertStillServed();
      bob.post(Client.call(2, "fx__changed", "x"));
      String[] event = Client.nextEvent(events);
      assertThat(event).isNotNull();
      assertThat(event[1]).contains("notifications/tools/list_changed");
    }
  }

  private static HttpGateway gateway() {
    // Small bounds so that the flood passes them many times over: a stream keeps 32 KiB, a
    // connection may hold 64 KiB unwritten, a session 128 KiB in all.
    return fixture.start(fixture.gateway().streamBuffer(32, 32 * 1024).sessionBuffer(256, 128 * 1024));
  }

  @Test
  void aStreamedPostAnswerNobodyReads_isDropped_andTheSessionStaysBounded() throws IOException {
    HttpGateway gateway = gateway();
    Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.initialize();

    try (Socket socket = deaf(gateway, head(gateway, "POST", alice, Client.BOTH), flood(7, "flood"))) {
      Conditions.await("the unread connection is dropped",
          () -> scrape(gateway).sum("sentinel_http_streams_dropped_total", "reason", "slow_reader") >= 1);
      Conditions.await("the flood's call completes", () ->
          scrape(gateway).sum("sentinel_requests_total", "method", "tools/call", "outcome", "allowed") >= 1);

      OutputBudget budget = gateway.hub().find(alice.session).budget();
      assertThat(budget.peakBytes()).isLessThanOrEqualTo(128 * 1024 + SLACK);
      assertThat(budget.bytes()).isLessThanOrEqualTo(128 * 1024);
      assertThat(closedByServer(socket)).as("the server closed the unread connection").isTrue();
      assertThat(scrape(gateway).value("sentinel_http_events_dropped_total")).isPositive();
      Conditions.await("the drop is in the audit trail, as alice's", () -> scrape(gateway).sum(
          "sentinel_requests_total", "method", "sentinel/stream_dropped", "outcome", "limited") >= 1);
    }
    alice.assertStillServed();
    assertOthersServed(gateway);
  }

  @Test
  void aGetStreamNobodyReads_isDropped_andTheSessionStaysBounded() throws IOException {
    HttpGateway gateway = gateway();
    Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.initialize();

    try (Socket socket = deaf(gateway, head(gateway, "GET", alice, "text/event-stream"), "")) {
      Conditions.await("the GET stream is open", () -> scrape(gateway).value("sentinel_http_streams") == 1);
      // A client that accepts only JSON: the call's progress goes to the session's GET stream.
      HttpResponse<String> answer = alice.post(flood(8, "to-get"), "Accept", "application/json");
      assertThat(answer.statusCode()).isEqualTo(200);
      assertThat(answer.body()).contains("flooded 2000");

      Conditions.await("the unread GET stream is dropped",
          () -> scrape(gateway).sum("sentinel_http_streams_dropped_total", "reason", "slow_reader") >= 1);
      OutputBudget budget = gateway.hub().find(alice.session).budget();
      assertThat(budget.peakBytes()).isLessThanOrEqualTo(128 * 1024 + SLACK);
      assertThat(closedByServer(socket)).as("the server closed the unread GET stream").isTrue();
    }
    alice.assertStillServed();
    assertOthersServed(gateway);
  }

  @Test
  void aSessionBoundBelowItsConnections_dropsTheConnectionHoldingMost() throws IOException {
    // A connection may hold 64 KiB unwritten, the session only 48 KiB in all: the session's
    // bound strikes first. It forgets what was already written, then drops the connection.
    HttpGateway gateway = fixture.start(fixture.gateway().streamBuffer(32, 32 * 1024)
        .sessionBuffer(256, 48 * 1024));
    Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.initialize();

    try (Socket socket = deaf(gateway, head(gateway, "POST", alice, Client.BOTH), flood(9, "bounded"))) {
      Conditions.await("the connection is dropped for the session's bound",
          () -> scrape(gateway).sum("sentinel_http_streams_dropped_total", "reason", "session_buffer") >= 1);
      Conditions.await("the flood's call completes", () ->
          scrape(gateway).sum("sentinel_requests_total", "method", "tools/call", "outcome", "allowed") >= 1);

      OutputBudget budget = gateway.hub().find(alice.session).budget();
      assertThat(budget.peakBytes()).isLessThanOrEqualTo(48 * 1024 + SLACK);
      assertThat(budget.bytes()).isLessThanOrEqualTo(48 * 1024);
      assertThat(closedByServer(socket)).isTrue();
    }
    alice.assertStillServed();
    assertOthersServed(gateway);
  }
}
