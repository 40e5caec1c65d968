package dev.sentinel.mcp.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.sentinel.core.notify.Notification;
import dev.sentinel.core.testing.Conditions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;

/** {@link WebhookNotifier} against a real HTTP server on loopback. */
class WebhookNotifierTest {
  private static final String SECRET = "0123456789abcdef-webhook-secret";
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** What the receiver got: headers and body of each post. */
  record Received(String event, String delivery, String signature, byte[] body) {}

  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final AtomicInteger failuresLeft = new AtomicInteger();
  private final CountDownLatch release = new CountDownLatch(1);
  private volatile boolean hang;
  private HttpServer server;

  private URI start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/hook", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (hang) {
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      int status = failuresLeft.getAndDecrement() > 0 ? 500 : 204;
      if (status == 204) {
        received.add(new Received(exchange.getRequestHeaders().getFirst("X-Sentinel-Event"),
            exchange.getRequestHeaders().getFirst("X-Sentinel-Delivery"),
            exchange.getRequestHeaders().getFirst("X-Sentinel-Signature"), body));
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
  }

  @AfterEach
  void stop() {
    release.countDown();
    if (server != null) {
      server.stop(0);
    }
  }

  private static Notification event(String text) {
    return new Notification("approval.pending", Instant.parse("2026-12-05T12:00:00Z"), text,
        JsonNodeFactory.instance.objectNode().put("approval", "abcdefghijkl"));
  }

  @Test
  void send_postsSignedJsonThatTheReceiverCanVerify() throws Exception {
    try (WebhookNotifier notifier = WebhookNotifier.start(start(), SECRET)) {
      notifier.send(event("ann asks to run billing__refund"));
      Conditions.await("the event arrives", () -> received.size() == 1);
      Received got = received.get(0);
      assertThat(got.event()).isEqualTo("approval.pending");
      assertThat(got.delivery()).isNotBlank();
      assertThat(got.signature()).isEqualTo(WebhookNotifier.signature(
          SECRET.getBytes(StandardCharsets.UTF_8), got.body()));
      JsonNode body = JSON.readTree(got.body());
      assertThat(body.path("text").asString()).isEqualTo("ann asks to run billing__refund");
      assertThat(body.path("approval").asString()).isEqualTo("abcdefghijkl");
      assertThat(body.path("time").asString()).isEqualTo("2026-12-05T12:00:00Z");
      // Signed with another secret, the body would not verify.
      assertThat(got.signature()).isNotEqualTo(WebhookNotifier.signature(
          "another secret of some length".getBytes(StandardCharsets.UTF_8), got.body()));
    }
  }

  @Test
  void aReceiverThatFails_getsTheEventAgainUntilItTakesIt() throws Exception {
    failuresLeft.set(2);
    try (WebhookNotifier notifier = WebhookNotifier.start(start(), SECRET,
        Duration.ofMillis(10))) {
      notifier.send(event("retried"));
      Conditions.await("the event is delivered after two failures",
          () -> notifier.delivered() == 1);
      assertThat(received).hasSize(1);
      assertThat(notifier.failed()).isZero();
    }
  }

  @Test
  void aReceiverThatHangs_neverBlocksTheSenderAndTheQueueStaysBounded() throws Exception {
    hang = true;
    WebhookNotifier notifier = WebhookNotifier.start(start(), SECRET, Duration.ofMillis(10));
    try {
      // Far more than the queue holds: send returns at once each time, dropping the oldest.
      for (int i = 0; i < WebhookNotifier.CAPACITY * 3; i++) {
        notifier.send(event("event " + i));
      }
      assertThat(notifier.dropped()).isGreaterThanOrEqualTo(WebhookNotifier.CAPACITY * 2L - 1);
    } finally {
      release.countDown();
      notifier.close();
    }
  }

  @Test
  void start_refusesASchemeOtherThanHttpAndABlankSecret() {
    assertThatThrownBy(() -> WebhookNotifier.start(URI.create("file:///etc/passwd"), SECRET))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http or https");
    assertThatThrownBy(() -> WebhookNotifier.start(URI.create("http://127.0.0.1:1/x"), " "))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("secret");
  }
}
