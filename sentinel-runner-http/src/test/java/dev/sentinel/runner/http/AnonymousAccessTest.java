package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Principal;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code server.anonymous}: requests without credentials run as the configured principal, while
 * wrong credentials are still refused and never fall back to it.
 */
class AnonymousAccessTest {
  @TempDir static Path dir;
  static Fixture fixture;
  static HttpGateway gateway;

  @BeforeAll
  static void start() {
    Principal guest = new Principal("guest", Set.of("developer"), Map.of());
    fixture = new Fixture(dir,
        keys -> Authenticator.firstOf(List.of(keys, Authenticator.anonymous(guest))));
    gateway = fixture.start(fixture.gateway());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void noCredentials_runAsTheAnonymousPrincipal() {
    Client guest = new Client(gateway.endpoint(), null);
    guest.initialize();

    HttpResponse<String> echo = guest.post(Client.call(1, "fx__echo", "hello"));

    assertThat(echo.statusCode()).isEqualTo(200);
    assertThat(echo.body()).contains("hello");
  }

  @Test
  void wrongKey_isStill401() {
    Client impostor = new Client(gateway.endpoint(), "snk_nope_wrongsecretwrongsecret");

    HttpResponse<String> response = impostor.post(Client.initializeBody("{}"));

    assertThat(response.statusCode()).isEqualTo(401);
  }

  @Test
  void aKey_stillNamesItsOwnPrincipal() {
    Client guest = new Client(gateway.endpoint(), null);
    guest.initialize();
    Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.session = guest.session;

    // the guest's session is bound to 'guest': alice's key does not reach it
    assertThat(alice.post(Client.call(2, "fx__echo", "x")).statusCode()).isEqualTo(404);
  }
}
