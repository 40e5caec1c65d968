package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** Keep-alive, idle expiry, the graceful drain and the builder's validation. */
class LifecycleTest {
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

  @Test
  void keepAlive_writesCommentsOnOpenStreams() throws Exception {
    try (HttpGateway gateway = fixture.gateway().keepAlive(Duration.ofMillis(50)).build()) {
      gateway.start();
      Client client = new Client(gateway.endpoint(), fixture.alice.secret());
      client.initialize();
      HttpResponse<InputStream> stream = client.listen();
      try (InputStream in = stream.body()) {
        assertThat(Client.readUntilLine(in, ": keep-alive")).isTrue();
      }
    }
  }

  @Test
  void channel_boundBeforeStart_servesOnIt_andIsClosedWithTheGateway() throws Exception {
    ServerSocketChannel channel = ServerSocketChannel.open();
    channel.bind(new InetSocketAddress("127.0.0.1", 0));
    int port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
    try (HttpGateway gateway = fixture.gateway().bind("127.0.0.1", 0).channel(channel).build()) {
      gateway.start();
      assertThat(gateway.port()).isEqualTo(port);
      Client client = new Client(gateway.endpoint(), fixture.alice.secret());
      client.initialize();
      assertThat(client.post(Client.call(1, "fx__echo", "x")).statusCode()).isEqualTo(200);
    }
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void idleSession_expires_then404() {
    ManualClock clock = new ManualClock();
    try (HttpGateway gateway = fixture.gateway().clock(clock).sessionIdleTimeout(Duration.ofMinutes(5)).build()) {
      gateway.start();
      Client client = new Client(gateway.endpoint(), fixture.alice.secret());
      client.initialize();
      clock.advance(Duration.ofMinutes(4));
      assertThat(client.post(Client.call(1, "fx__echo", "x")).statusCode()).isEqualTo(200);
      clock.advance(Duration.ofMinutes(4));
      assertThat(client.post(Client.call(2, "fx__echo", "x")).statusCode()).isEqualTo(200);

      clock.advance(Duration.ofMinutes(6));
      assertThat(client.post(Client.call(3, "fx__echo", "x")).statusCode()).isEqualTo(404);
      Conditions.await("the expired session is gone", () -> gateway.sessionCount() == 0);
    }
  }

  @Test
  void close_drains_letsTheCallInFlightFinish_andRefusesNewWork() throws Exception {
    HttpGateway gateway = fixture.gateway().drainTimeout(Duration.ofSeconds(60)).build();
    gateway.start();
    Client client = new Client(gateway.endpoint(), fixture.alice.secret());
    client.initialize("{\"sampling\":{}}");
    HttpResponse<InputStream> call = client.postStreaming(Client.call(1, "fx__sample", ""));
    try (InputStream in = call.body()) {
      JsonNode sampling = Client.JSON.readTree(Client.nextEvent(in)[1]);

      CompletableFuture<Void> closing = CompletableFuture.runAsync(gateway::close);
      Conditions.await("the gateway drains", () -> client.plain("/readyz").statusCode() == 503);
      assertThat(client.post(Client.call(2, "fx__echo", "new work")).statusCode()).isEqualTo(503);
      assertThat(closing).isNotDone();

      // The answer to the backend's request still gets through, and the call completes.
      HttpResponse<String> answered = client.post("{\"jsonrpc\":\"2.0\",\"id\":" + sampling.get("id")
          + ",\"result\":{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":\"bye\"},\"model\":\"m\"}}");
      assertThat(answered.statusCode()).isEqualTo(202);
      JsonNode result = Client.JSON.readTree(Client.nextEvent(in)[1]);
      assertThat(result.path("result").path("content").get(0).path("text").asString()).isEqualTo("sampled: bye");
      closing.get();
    }
    assertThat(gateway.sessionCount()).isZero();
  }

  @Test
  void start_twice_orOnABusyPort_fails() {
    try (HttpGateway first = fixture.gateway().build()) {
      first.start();
      assertThatThrownBy(first::start).isInstanceOf(IllegalStateException.class);
      HttpGateway second = fixture.gateway().bind("127.0.0.1", first.port()).build();
      assertThatThrownBy(second::start).isInstanceOf(java.io.UncheckedIOException.class)
          .hasMessageContaining("cannot bind 127.0.0.1:" + first.port());
    }
  }

  @Test
  void builder_validatesAtOnce() {
    HttpGateway.Builder builder = HttpGateway.builder();
    assertThatThrownBy(() -> builder.bind(" ", 1)).hasMessageContaining("host");
    assertThatThrownBy(() -> builder.bind("127.0.0.1", 70_000)).hasMessageContaining("port");
    assertThatThrownBy(() -> builder.path("mcp")).hasMessageContaining("path");
    assertThatThrownBy(() -> builder.path("/readyz")).hasMessageContaining("health");
    assertThatThrownBy(() -> builder.maxBodyBytes(0)).hasMessageContaining("maxBodyBytes");
    assertThatThrownBy(() -> builder.maxSessions(0)).hasMessageContaining("maxSessions");
    assertThatThrownBy(() -> builder.keepAlive(Duration.ZERO)).hasMessageContaining("keepAlive");
    assertThatThrownBy(() -> builder.allowedOrigins(Set.of(" "))).hasMessageContaining("allowedOrigins");
    assertThatThrownBy(builder::build).hasMessageContaining("runtime");
    assertThatThrownBy(() -> HttpGateway.builder().runtime(fixture.runtime).build())
        .hasMessageContaining("authenticator");
  }
}
