package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.core.config.Stores;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The gateway over a real {@link GatewayRuntime} started from a config: sessions, streams and
 * readiness. Governed calls need the runtime's pipeline to accept the HTTP credentials, which a
 * config's fixed identity does not (see {@link Fixture}); this test presents the credentials that
 * identity accepts, so that it exercises the public wiring end to end.
 */
class RuntimeTest {
  @TempDir Path dir;

  @Test
  void runtime_servesSessionsOverHttp() {
    String yaml = Fixture.config();
    GatewayConfig config = GatewayConfig.parse(yaml, "runtime-test.yaml", dir, System.getenv());
    // The same authenticator serves the HTTP layer and the pipeline: each call runs as "ops".
    Authenticator http = credentials -> credentials.type() == Credentials.Type.BEARER
            && "test-token".equals(credentials.secret())
        ? AuthenticationResult.success(Principal.of("ops", "admin"))
        : AuthenticationResult.failure("unknown token");
    try (GatewayRuntime runtime = GatewayRuntime.start(config, Clock.system(), Stores.none(), http);
        HttpGateway gateway = HttpGateway.builder().runtime(runtime).authenticator(http).build()) {
      gateway.start();
      assertThat(gateway.endpoint().toString()).isEqualTo("http://127.0.0.1:" + gateway.port() + "/mcp");

      HttpResponse<String> ready = new Client(gateway.endpoint(), null).plain("/readyz");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.body()).contains("\"fx\":\"UP\"");

      Client client = new Client(gateway.endpoint(), null);
      HttpResponse<String> init = client.post(Client.initializeBody("{}"), "Authorization", "Bearer test-token");
      assertThat(init.statusCode()).isEqualTo(200);
      client.session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
      HttpResponse<String> ping = client.post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
          "Authorization", "Bearer test-token");
      JsonNode pong = Client.JSON.readTree(ping.body());
      assertThat(pong.has("result")).isTrue();
      HttpResponse<String> list = client.post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}",
          "Authorization", "Bearer test-token");
      assertThat(Client.JSON.readTree(list.body()).path("result").path("tools").isArray())
          .as("a governed call through the real runtime, authenticated with the session's token")
          .isTrue();
      assertThat(gateway.sessionCount()).isEqualTo(1);

      assertThat(client.delete("Authorization", "Bearer test-token").statusCode()).isEqualTo(200);
      assertThat(gateway.sessionCount()).isZero();
      assertThat(client.post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}",
          "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
    }
  }
}
