package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Credentials;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Item 5 of the trust issue: an unexpected failure answers with generic text and an error id
 * (the log has the details under that id), never with the exception's class or message.
 */
class FailureTextTest {
  private static final String SECRET_DETAIL = "jdbc:postgresql://db.internal/prod?password=hunter2";
  private static final String BOOM_KEY = "snk_boom_0123456789abcdef0123456789";

  @TempDir static Path dir;
  static Fixture fixture;
  static HttpGateway gateway;

  @BeforeAll
  static void start() {
    // An authenticator that fails with an Error (not a RuntimeException: the handler's own
    // catch does not see it, so Jetty's error handling answers) for one key.
    fixture = new Fixture(dir, keys -> credentials -> {
      if (credentials.type() == Credentials.Type.API_KEY && BOOM_KEY.equals(credentials.secret())) {
        throw new LinkageError("cannot reach " + SECRET_DETAIL);
      }
      return keys.authenticate(credentials);
    });
    gateway = fixture.start(fixture.gateway());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private static void assertGeneric(HttpResponse<String> response) {
    assertThat(response.body())
        .doesNotContain("hunter2")
        .doesNotContain("db.internal")
        .doesNotContain("LinkageError")
        .doesNotContain("java.lang")
        .doesNotContain("<html");
  }

  @Test
  void anUnexpectedError_answers500WithAnErrorIdAndNoExceptionText() {
    Client client = new Client(gateway.endpoint(), BOOM_KEY);

    HttpResponse<String> response = client.post(Client.initializeBody("{}"));

    assertThat(response.statusCode()).isEqualTo(500);
    assertGeneric(response);
    JsonNode error = Client.JSON.readTree(response.body()).path("error");
    assertThat(error.path("code").asInt()).isEqualTo(-32603);
    assertThat(error.path("message").asString()).matches("internal error \\(error id [0-9a-f]{12}\\).*");
  }

  @Test
  void aMalformedRequestHead_answersWithoutEchoingIt() throws Exception {
    String answer = Client.raw(gateway.port(), "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port()
        + "\r\nX-Bad\u0001Header-" + "hunter2" + ": x\r\n\r\n", null, false);

    assertThat(answer).startsWith("HTTP/1.1 400");
    assertThat(answer).doesNotContain("hunter2").doesNotContain("<html");
  }

  @Test
  void theOthersAreStillServed() {
    Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.initialize();
    alice.assertStillServed();
  }
}
