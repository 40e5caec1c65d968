package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.Conditions;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Item 4 of the trust issue, the HTTP part: one principal cannot take every session or every
 * stream. Alice (one API key) fills her caps and is refused with 503 naming the cap; Bob (another
 * key) still gets sessions and streams.
 */
class PrincipalCapsTest {
  private static final String PROGRESS = "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":"
      + "{\"name\":\"fx__progress\",\"arguments\":{},\"_meta\":{\"progressToken\":\"t%d\"}}}";

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

  private static double refusals(HttpGateway gateway, String cap) {
    return Exposition.parse(gateway.metrics().scrape(null).body())
        .sum("sentinel_http_refusals_total", "cap", cap);
  }

  /** Asserts a 503 refusal that names the cap, with Retry-After and the JSON-RPC error. */
  private static void assertRefused(HttpResponse<String> response, String cap, int limit, int code) {
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("Retry-After")).hasValue("5");
    assertThat(response.headers().firstValue("Mcp-Session-Id")).isEmpty();
    JsonNode error = Client.JSON.readTree(response.body()).path("error");
    assertThat(error.path("code").asInt()).isEqualTo(code);
    assertThat(error.path("message").asString()).contains(cap + " is " + limit);
    assertThat(error.path("data").path("rules").get(0).asString()).isEqualTo(cap);
    assertThat(error.path("data").path("limit").asInt()).isEqualTo(limit);
    assertThat(error.path("data").path("retryAfterMs").asLong()).isEqualTo(5000);
  }

  private static Client session(HttpGateway gateway, String key) {
    Client client = new Client(gateway.endpoint(), key);
    client.initialize();
    return client;
  }

  @Test
  void aliceAtHerSessionCap_isRefusedNamingIt_whileBobStillGetsSessions() {
    HttpGateway gateway = fixture.start(fixture.gateway().maxSessions(8).maxSessionsPerPrincipal(2));
    Client alice1 = session(gateway, fixture.alice.secret());
    session(gateway, fixture.alice.secret());

    HttpResponse<String> third = new Client(gateway.endpoint(), fixture.alice.secret())
        .post(Client.initializeBody("{}"));

    assertRefused(third, "max_sessions_per_principal", 2, -32014);
    assertThat(refusals(gateway, "max_sessions_per_principal")).isEqualTo(1);
    Client bob1 = session(gateway, fixture.bob.secret());
    session(gateway, fixture.bob.secret()).assertStillServed();
    bob1.assertStillServed();
    alice1.assertStillServed();

    // Ending one of her sessions gives Alice the slot back.
    assertThat(alice1.delete().statusCode()).isEqualTo(200);
    session(gateway, fixture.alice.secret()).assertStillServed();
    assertThat(gateway.sessionCount()).isEqualTo(4);
  }

  @Test
  void theGatewaysOwnSessionCap_isStillNamed() {
    HttpGateway gateway = fixture.start(fixture.gateway().maxSessions(2).maxSessionsPerPrincipal(2));
    session(gateway, fixture.alice.secret());
    session(gateway, fixture.bob.secret());

    HttpResponse<String> refused = new Client(gateway.endpoint(), fixture.bob.secret())
        .post(Client.initializeBody("{}"));

    assertRefused(refused, "max_sessions", 2, -32000);
    assertThat(refusals(gateway, "max_sessions")).isEqualTo(1);
  }

  @Test
  void aliceAtHerStreamCap_isRefusedNamingIt_whileBobStillGetsStreams() throws IOException {
    HttpGateway gateway = fixture.start(fixture.gateway().maxStreamsPerPrincipal(2));
    Client alice1 = session(gateway, fixture.alice.secret());
    Client alice2 = session(gateway, fixture.alice.secret());
    Client alice3 = session(gateway, fixture.alice.secret());
    List<InputStream> open = new ArrayList<>();
    try {
      HttpResponse<InputStream> first = alice1.listen();
      assertThat(first.statusCode()).isEqualTo(200);
      open.add(first.body());
      HttpResponse<InputStream> second = alice2.listen();
      assertThat(second.statusCode()).isEqualTo(200);
      open.add(second.body());

      // A third stream is refused, naming the cap.
      HttpResponse<String> third = alice3.get();
      assertRefused(third, "max_streams_per_principal", 2, -32014);
      // So is a POST whose answer can only be a stream.
      HttpResponse<String> sseOnly = alice3.post(Client.call(1, "fx__echo", "x"), "Accept", "text/event-stream");
      assertRefused(sseOnly, "max_streams_per_principal", 2, -32014);
      // A POST that also accepts JSON is answered in JSON instead of switching to SSE; its
      // progress goes to the session's own stream.
      HttpResponse<String> progress = alice3.post(String.format(PROGRESS, 2, 2));
      assertThat(progress.statusCode()).isEqualTo(200);
      assertThat(progress.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(Client.JSON.readTree(progress.body()).path("result").path("content").get(0).path("text")
          .asString()).isEqualTo("progressed");
      // A second GET on a session replaces its stream: not a new one, so not refused.
      HttpResponse<InputStream> replacement = alice1.listen();
      assertThat(replacement.statusCode()).isEqualTo(200);
      open.add(replacement.body());

      // Bob is not held back by Alice's streams.
      Client bob = session(gateway, fixture.bob.secret());
      HttpResponse<InputStream> bobs = bob.listen();
      assertThat(bobs.statusCode()).isEqualTo(200);
      open.add(bobs.body());
      HttpResponse<String> bobProgress = bob.post(String.format(PROGRESS, 3, 3));
      assertThat(bobProgress.headers().firstValue("Content-Type")).hasValue("text/event-stream");
      assertThat(refusals(gateway, "max_streams_per_principal")).isGreaterThanOrEqualTo(3);

      // Closing one of her streams gives Alice a slot back.
      assertThat(alice2.delete().statusCode()).isEqualTo(200);
      Conditions.await("only alice's and bob's GET streams are open", () -> Exposition.parse(
          gateway.metrics().scrape(null).body()).value("sentinel_http_streams") == 2);
      HttpResponse<InputStream> again = alice3.listen();
      assertThat(again.statusCode()).isEqualTo(200);
      open.add(again.body());
    } finally {
      for (InputStream stream : open) {
        stream.close();
      }
    }
  }
}
