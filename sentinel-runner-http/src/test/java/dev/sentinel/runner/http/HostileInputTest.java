package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Hostile input, each case on its own: the right status, nothing leaked, and a session opened
 * before it keeps working after it.
 */
class HostileInputTest {
  private static final long MAX_BODY = 64 * 1024;

  @TempDir static Path dir;
  static Fixture fixture;
  static HttpGateway gateway;
  Client alice;

  @BeforeAll
  static void start() {
    fixture = new Fixture(dir);
    gateway = fixture.start(fixture.gateway().maxBodyBytes(MAX_BODY));
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @BeforeEach
  void session() {
    alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.initialize();
  }

  @AfterEach
  void othersKeepWorking() {
    alice.assertStillServed();
  }

  private static void assertUnauthorized(HttpResponse<String> response, String secret) {
    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
        value -> assertThat(value).startsWith("Bearer"));
    JsonNode error = Client.JSON.readTree(response.body()).path("error");
    assertThat(error.path("code").asInt()).isEqualTo(-32011);
    assertThat(error.path("message").asString()).isEqualTo("missing or invalid credentials");
    if (secret != null && !secret.isEmpty()) {
      assertThat(response.body()).doesNotContain(secret);
      assertThat(response.headers().map().toString()).doesNotContain(secret);
    }
  }

  @Test
  void missingKey_is401() {
    Client anonymous = new Client(gateway.endpoint(), null);
    assertUnauthorized(anonymous.post(Client.initializeBody("{}")), null);
    // also with a valid session id of someone else: still 401, nothing revealed
    anonymous.session = alice.session;
    assertUnauthorized(anonymous.post(Client.call(1, "fx__echo", "x")), null);
  }

  @Test
  void malformedCredentials_are401_andNotEchoed() {
    String garbage = "snk_thisisnotakey_" + "x".repeat(20);
    Client client = new Client(gateway.endpoint(), garbage);
    assertUnauthorized(client.post(Client.initializeBody("{}")), garbage);

    assertUnauthorized(client.post(Client.initializeBody("{}"), "X-API-Key", null,
        "Authorization", "Basic dXNlcjpwYXNz"), "dXNlcjpwYXNz");
    assertUnauthorized(client.post(Client.initializeBody("{}"), "X-API-Key", null,
        "Authorization", "Bearer"), null);
    String token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.";
    assertUnauthorized(client.post(Client.initializeBody("{}"), "X-API-Key", null,
        "Authorization", "Bearer " + token), token);
  }

  @Test
  void bearerApiKey_isAccepted_andTwoCredentials_are400() {
    Client client = new Client(gateway.endpoint(), null);
    HttpResponse<String> bearer = client.post(Client.initializeBody("{}"),
        "Authorization", "Bearer " + fixture.alice.secret());
    assertThat(bearer.statusCode()).isEqualTo(200);

    HttpResponse<String> both = client.post(Client.initializeBody("{}"),
        "Authorization", "Bearer " + fixture.alice.secret(), "X-API-Key", fixture.bob.secret());
    assertThat(both.statusCode()).isEqualTo(400);
    assertThat(both.body()).doesNotContain(fixture.alice.secret()).doesNotContain(fixture.bob.secret());
  }

  @Test
  void revokedKey_is401_evenForItsOpenSession() {
    var carol = fixture.keys.issue("carol", Set.of("developer"), "carol's key", null);
    Client client = new Client(gateway.endpoint(), carol.secret());
    client.initialize();
    assertThat(client.post(Client.call(1, "fx__echo", "ok")).statusCode()).isEqualTo(200);

    fixture.keys.revoke(carol.id());

    assertUnauthorized(client.post(Client.call(2, "fx__echo", "no")), carol.secret());
    assertUnauthorized(client.post(Client.initializeBody("{}"), "Mcp-Session-Id", null), carol.secret());
  }

  @Test
  void anotherPrincipalsSessionId_is404_forEveryMethod() {
    Client bob = new Client(gateway.endpoint(), fixture.bob.secret());
    bob.session = alice.session;

    HttpResponse<String> post = bob.post(Client.call(1, "fx__echo", "hijack"));
    assertThat(post.statusCode()).isEqualTo(404);
    assertThat(post.body()).doesNotContain("hijack");
    assertThat(bob.get().statusCode()).isEqualTo(404);
    assertThat(bob.delete().statusCode()).isEqualTo(404);
    // the same answer as for a session that never existed
    Client stranger = new Client(gateway.endpoint(), fixture.bob.secret());
    stranger.session = "x".repeat(alice.session.length());
    assertThat(stranger.post(Client.call(1, "fx__echo", "x")).body()).isEqualTo(post.body());
  }

  @Test
  void foreignOrigin_is403_localOrigin_passes() {
    HttpResponse<String> foreign = alice.post(Client.call(1, "fx__echo", "x"), "Origin", "https://evil.example");
    assertThat(foreign.statusCode()).isEqualTo(403);
    assertThat(alice.post(Client.call(2, "fx__echo", "x"), "Origin", "null").statusCode()).isEqualTo(403);
    assertThat(alice.post(Client.call(3, "fx__echo", "x"), "Origin", "http://localhost:6274").statusCode())
        .isEqualTo(200);
  }

  @Test
  void foreignHost_is403() throws Exception {
    String body = Client.call(1, "fx__echo", "x");
    String head = "POST /mcp HTTP/1.1\r\nHost: evil.example:" + gateway.port() + "\r\n"
        + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        + "X-API-Key: " + fixture.alice.secret() + "\r\nMcp-Session-Id: " + alice.session + "\r\n"
        + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n";
    String answer = Client.raw(gateway.port(), head, body.getBytes(StandardCharsets.UTF_8), false);
    assertThat(answer).startsWith("HTTP/1.1 403");

    String rebound = head.replace("evil.example:" + gateway.port(), "localhost:1");
    assertThat(Client.raw(gateway.port(), rebound, body.getBytes(StandardCharsets.UTF_8), false))
        .startsWith("HTTP/1.1 403");
    String good = head.replace("evil.example:", "localhost:");
    assertThat(Client.raw(gateway.port(), good, body.getBytes(StandardCharsets.UTF_8), false))
        .startsWith("HTTP/1.1 200");
  }

  @Test
  void oversizedBody_declared_is413_beforeTheBodyIsSent() throws Exception {
    String head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port() + "\r\n"
        + "Content-Type: application/json\r\nAccept: application/json\r\n"
        + "X-API-Key: " + fixture.alice.secret() + "\r\nMcp-Session-Id: " + alice.session + "\r\n"
        + "Content-Length: 1000000000\r\n\r\n";
    // Only the head goes out: the answer must not wait for the gigabyte.
    String answer = Client.raw(gateway.port(), head, null, true);
    assertThat(answer).startsWith("HTTP/1.1 413");
  }

  @Test
  void oversizedBody_chunked_is413_afterTheLimit() throws Exception {
    String head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port() + "\r\n"
        + "Content-Type: application/json\r\nAccept: application/json\r\n"
        + "X-API-Key: " + fixture.alice.secret() + "\r\nMcp-Session-Id: " + alice.session + "\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n";
    StringBuilder chunks = new StringBuilder();
    String piece = "x".repeat(8192);
    for (long sent = 0; sent <= MAX_BODY + 8192; sent += piece.length()) {
      chunks.append(Integer.toHexString(piece.length())).append("\r\n").append(piece).append("\r\n");
    }
    // No terminating chunk: the server must answer without the end of the body.
    String answer = Client.raw(gateway.port(), head, chunks.toString().getBytes(StandardCharsets.US_ASCII), true);
    assertThat(answer).startsWith("HTTP/1.1 413");
  }

  @Test
  void nonJson_is400WithParseError() {
    HttpResponse<String> response = alice.post("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"tools/list\"");
    assertThat(response.statusCode()).isEqualTo(400);
    JsonNode error = Client.JSON.readTree(response.body()).path("error");
    assertThat(error.path("code").asInt()).isEqualTo(-32700);

    assertThat(alice.post("not json at all").statusCode()).isEqualTo(400);
    assertThat(alice.post("").statusCode()).isEqualTo(400);
    assertThat(alice.post("[".repeat(5_000) + "]".repeat(5_000)).statusCode()).isEqualTo(400);
  }

  @Test
  void invalidJsonRpc_is400WithInvalidRequest() {
    HttpResponse<String> response = alice.post("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(Client.JSON.readTree(response.body()).path("error").path("code").asInt()).isEqualTo(-32600);
    assertThat(alice.post("42").statusCode()).isEqualTo(400);
  }

  @Test
  void wrongContentType_is415() {
    assertThat(alice.post(Client.call(1, "fx__echo", "x"), "Content-Type", "text/plain").statusCode())
        .isEqualTo(415);
    assertThat(alice.post(Client.call(1, "fx__echo", "x"), "Content-Type", "application/json; charset=utf-8")
        .statusCode()).isEqualTo(200);
  }

  @Test
  void unacceptableAccept_is406() {
    assertThat(alice.post(Client.call(1, "fx__echo", "x"), "Accept", "text/html").statusCode()).isEqualTo(406);
    assertThat(alice.get("Accept", "application/json").statusCode()).isEqualTo(406);
  }

  @Test
  void batch_is400() {
    HttpResponse<String> response = alice.post("[" + Client.call(1, "fx__echo", "a") + ","
        + Client.call(2, "fx__echo", "b") + "]");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(Client.JSON.readTree(response.body()).path("error").path("code").asInt()).isEqualTo(-32600);
  }

  @Test
  void tooManySessions_is503() {
    try (HttpGateway small = fixture.gateway().maxSessions(2).maxSessionsPerPrincipal(2).build()) {
      small.start();
      new Client(small.endpoint(), fixture.alice.secret()).initialize();
      Client second = new Client(small.endpoint(), fixture.bob.secret());
      second.initialize();

      HttpResponse<String> third = new Client(small.endpoint(), fixture.alice.secret())
          .post(Client.initializeBody("{}"));
      assertThat(third.statusCode()).isEqualTo(503);
      assertThat(third.headers().firstValue("Mcp-Session-Id")).isEmpty();

      // ending one frees its place
      assertThat(second.delete().statusCode()).isEqualTo(200);
      assertThat(new Client(small.endpoint(), fixture.alice.secret()).post(Client.initializeBody("{}"))
          .statusCode()).isEqualTo(200);
    }
  }
}
