package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Clock;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.mcp.gateway.RunOptions;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HttpGateway#start(GatewayConfig, RunOptions, ServerSocketChannel)}: the whole {@code
 * sentinel http} from a config, as the CLI runs it, on a real SQLite file.
 */
class HttpGatewayStartTest {
  private static final String TOKEN = "admin-token-0123456789abcdef0123456789";
  private final HttpClient client = HttpClient.newHttpClient();

  @TempDir Path dir;

  private Path writeConfig() throws Exception {
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, "gateway: { start_timeout: 1s }\n"
        + "backends:\n  - name: fx\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "policy: { rules: [ { id: all, allow: {} } ] }\n"
        + "database: { url: \"jdbc:sqlite:" + dir.resolve("sentinel.db") + "\" }\n"
        + "server: { port: 0, admin: { token: " + TOKEN + " } }\n");
    return file;
  }

  @Test
  void start_fromAConfig_servesAuthenticatesReloadsAndStops() throws Exception {
    Path file = writeConfig();
    GatewayConfig config = GatewayConfig.load(file, Map.of());
    IssuedKey key;
    try (JdbcStores stores = JdbcStores.open(config.database(), Clock.system())) {
      key = ApiKeys.create(stores.keys(), Clock.system()).issue("ann", Set.of(), null, null);
    }
    ServerSocketChannel channel = ServerSocketChannel.open()
        .bind(new InetSocketAddress("127.0.0.1", 0));
    RunOptions options = RunOptions.builder()
        .configFile(file, Map.of(), PolicyOptions.defaults())
        .watch(false)
        .build();
    URI endpoint;
    try (HttpGateway.Running running = HttpGateway.start(config, options, channel)) {
      endpoint = running.endpoint();
      assertThat(endpoint.getPort()).isEqualTo(channel.socket().getLocalPort());
      assertThat(send(endpoint.resolve("/healthz"), null).statusCode()).isEqualTo(200);

      // The database's API keys authenticate; a wrong one does not.
      String init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
          + "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
          + "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
      assertThat(post(endpoint, init, key.secret()).statusCode()).isEqualTo(200);
      assertThat(post(endpoint, init, "snk_aaaaaaaaaaaa_wrong").statusCode()).isEqualTo(401);

      // The config file is the reload's: an edit is applied through the admin API.
      String before = running.runtime().sentinel().revision();
      Files.writeString(file, Files.readString(file).replace("id: all", "id: everything"));
      HttpResponse<String> reload = send(endpoint.resolve("/admin/api/reload"), "POST");
      assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
      assertThat(running.runtime().sentinel().revision()).isNotEqualTo(before);
    }
    // Closed: the port is released.
    assertThatThrownBy(() -> send(endpoint.resolve("/healthz"), null))
        .isInstanceOf(ConnectException.class);
  }

  private HttpResponse<String> send(URI uri, String method) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri)
        .header("Authorization", "Bearer " + TOKEN);
    if (method != null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(URI uri, String body, String apiKey) throws Exception {
    return client.send(HttpRequest.newBuilder(uri)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("X-API-Key", apiKey)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
