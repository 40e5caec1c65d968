package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Two principals on one {@code sentinel http}, one stdio backend: a sampling request the backend
 * sends while serving alice's call reaches alice's stream and nothing of bob's, whatever the
 * backend's isolation; on a shared connection it is refused.
 */
@Timeout(120)
class IsolationHttpTest {
  private static final String POLICY = "policy:\n  rules:\n    - id: everything\n      allow: {}\n"
      + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n";
  private static final String SAMPLING = "{\"sampling\":{}}";

  @TempDir Path dir;

  private static String config(String isolation) {
    String backend = Fixture.backend().replace("    isolation: per_principal\n", "");
    return (isolation == null ? backend : backend.replace("  - name: fx\n", "  - name: fx\n    isolation: " + isolation + "\n"))
        + POLICY;
  }

  /** Bob's standalone stream: its first event proves nothing of alice's came before it. */
  private static String bobsFirstEvent(Client bob) throws Exception {
    HttpResponse<InputStream> stream = bob.listen();
    assertThat(stream.statusCode()).isEqualTo(200);
    try (InputStream in = stream.body()) {
      assertThat(bob.post(Client.call(70, "fx__changed", "")).statusCode()).isEqualTo(200);
      return Client.nextEvent(in)[1];
    }
  }

  @Test
  void perSession_samplingCausedByAlice_reachesAliceOnly() throws Exception {
    try (Fixture fixture = new Fixture(dir, config("per_session"), UnaryOperator.identity())) {
      HttpGateway gateway = fixture.start(fixture.gateway());
      Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
      Client bob = new Client(gateway.endpoint(), fixture.bob.secret());
      alice.initialize(SAMPLING);
      bob.initialize(SAMPLING);
      // bob uses the backend first: the connection started ahead is his.
      assertThat(bob.post(Client.call(1, "fx__echo", "bob")).statusCode()).isEqualTo(200);

      HttpResponse<InputStream> call = alice.postStreaming(Client.call(5, "fx__sample", ""));
      try (InputStream in = call.body()) {
        JsonNode sampling = Client.JSON.readTree(Client.nextEvent(in)[1]);
        assertThat(sampling.get("method").asString()).isEqualTo("sampling/createMessage");
        alice.post("{\"jsonrpc\":\"2.0\",\"id\":" + sampling.get("id") + ",\"result\":{\"role\":\"assistant\","
            + "\"content\":{\"type\":\"text\",\"text\":\"alice's answer\"},\"model\":\"m\"}}");
        JsonNode answer = Client.JSON.readTree(Client.nextEvent(in)[1]);
        assertThat(answer.path("result").path("content").get(0).path("text").asString())
            .isEqualTo("sampled: alice's answer");
      }

      String first = bobsFirstEvent(bob);
      assertThat(Client.JSON.readTree(first).get("method").asString()).isEqualTo("notifications/tools/list_changed");
      assertThat(fixture.backends().get("fx").toString()).contains("connections=2");
    }
  }

  @Test
  void sharedStdioBackend_ofSentinelHttp_refusesSamplingAndBobHearsNothing() throws Exception {
    try (Fixture fixture = new Fixture(dir, config(null), UnaryOperator.identity())) {
      HttpGateway gateway = fixture.start(fixture.gateway());
      Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
      Client bob = new Client(gateway.endpoint(), fixture.bob.secret());
      alice.initialize(SAMPLING);
      bob.initialize(SAMPLING);

      HttpResponse<String> call = alice.post(Client.call(5, "fx__sample", ""));

      assertThat(call.statusCode()).isEqualTo(200);
      assertThat(call.body()).doesNotContain("sampled:").contains("error");
      String first = bobsFirstEvent(bob);
      assertThat(Client.JSON.readTree(first).get("method").asString()).isEqualTo("notifications/tools/list_changed");
      assertThat(fixture.backends().get("fx").toString()).contains("isolation=SHARED");
    }
  }
}
