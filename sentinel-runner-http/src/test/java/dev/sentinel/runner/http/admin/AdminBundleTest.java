package dev.sentinel.runner.http.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.internal.Ed25519Keys;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.runner.http.HttpGateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * The admin API of a gateway that runs a signed bundle: the status shows it, a reload refuses an
 * older bundle with 422, and {@code {"allow_rollback": true}} applies it, audited; the fleet's
 * status lists heartbeats against their channel's head.
 */
class AdminBundleTest {
  private static final String TOKEN = "operator-token-0123456789abcdefghijklmnop";
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final KeyPair ALICE = Ed25519Keys.generate();

  @TempDir Path dir;
  private Path source;
  private Path bundleFile;
  private JdbcStores stores;
  private GatewayRuntime runtime;
  private HttpGateway http;
  private IssuedKey bob;
  private final HttpClient client = HttpClient.newHttpClient();

  private Bundle publish(long sequence, String tool) throws Exception {
    Files.writeString(source.resolve("sentinel.yaml"), "gateway: { start_timeout: 1s }\n"
        + "backends:\n  - name: fx\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "policy: { rules: [ { id: allow-" + tool + ", allow: { tools: [" + tool + "] } } ] }\n"
        + "database: { url: \"jdbc:sqlite:sentinel.db\" }\n"
        + "server: { admin: { token: " + TOKEN + " } }\n");
    Bundle bundle = Bundle.build(source.resolve("sentinel.yaml"), sequence)
        .sign(ALICE.getPrivate(), ALICE.getPublic());
    bundle.write(bundleFile);
    return bundle;
  }

  @BeforeEach
  void start() throws Exception {
    source = Files.createDirectories(dir.resolve("source"));
    Path run = Files.createDirectories(dir.resolve("run"));
    bundleFile = run.resolve("prod.bundle");
    Files.writeString(run.resolve("alice.pub"), Ed25519Keys.publicPem(ALICE.getPublic()));
    Path boot = Files.writeString(run.resolve("sentinel.yaml"),
        "bundle: { file: prod.bundle, trust: [alice.pub] }\n");
    publish(1, "read");
    Files.copy(bundleFile, dir.resolve("sequence-1.bundle"));
    publish(2, "write");
    GatewayConfig loaded = GatewayConfig.load(boot, Map.of());
    stores = JdbcStores.open(loaded.database(), Clock.system());
    ApiKeys keys = ApiKeys.create(stores.keys(), Clock.system());
    bob = keys.issue("bob", Set.of("developer"), "bob's key", null);
    runtime = GatewayRuntime.start(loaded, Clock.system(), stores, keys.authenticator());
    http = HttpGateway.builder()
        .runtime(runtime)
        .authenticator(keys.authenticator())
        .server(loaded.server())
        .bind("127.0.0.1", 0)
        .keys(stores.keys())
        .auditTrail(stores.auditTrail().orElseThrow())
        .bundles(stores.bundleStore().orElseThrow())
        .reloader(ConfigReloader.of(runtime, boot, Map.of()))
        .build();
    http.start();
  }

  @AfterEach
  void stop() {
    if (http != null) {
      http.close();
    }
    if (runtime != null) {
      runtime.close();
    }
  }

  private HttpResponse<String> admin(String method, String path, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + http.port() + path))
        .header("Authorization", "Bearer " + TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private Outcome call(String tool) {
    return runtime.sentinel().call(Call.of(Credentials.apiKey(bob.secret()),
        Request.toolCall("fx", tool, JsonNodeFactory.instance.objectNode())), r -> "ok").outcome();
  }

  @Test
  void status_showsTheRunningBundle() throws Exception {
    JsonNode bundle = JSON.readTree(admin("GET", "/admin/api/status", null).body()).path("bundle");

    assertThat(bundle.path("sequence").asLong()).isEqualTo(2);
    assertThat(bundle.path("digest").asString()).startsWith("sha256:");
    assertThat(bundle.path("signers").get(0).asString()).isEqualTo(Ed25519Keys.id(ALICE.getPublic()));
    assertThat(bundle.path("rollback").asBoolean()).isFalse();
  }

  @Test
  void reload_anOlderBundle_is422_andAllowRollbackAppliesIt_audited() throws Exception {
    Files.copy(dir.resolve("sequence-1.bundle"), bundleFile, StandardCopyOption.REPLACE_EXISTING);

    HttpResponse<String> refused = admin("POST", "/admin/api/reload", null);
    assertThat(refused.statusCode()).isEqualTo(422);
    assertThat(refused.body()).contains("would roll back");
    assertThat(call("write")).isEqualTo(Outcome.ALLOWED);

    HttpResponse<String> wrongType = admin("POST", "/admin/api/reload", "{\"allow_rollback\": \"yes\"}");
    assertThat(wrongType.statusCode()).isEqualTo(400);
    assertThat(call("write")).isEqualTo(Outcome.ALLOWED);

    HttpResponse<String> forced = admin("POST", "/admin/api/reload", "{\"allow_rollback\": true}");
    assertThat(forced.statusCode()).isEqualTo(200);
    assertThat(call("read")).isEqualTo(Outcome.ALLOWED);
    assertThat(call("write")).isEqualTo(Outcome.DENIED);
    JsonNode status = JSON.readTree(admin("GET", "/admin/api/status", null).body());
    assertThat(status.path("bundle").path("sequence").asLong()).isEqualTo(1);
    assertThat(status.path("bundle").path("rollback").asBoolean()).isTrue();

    assertThat(runtime.sentinel().audit().flush(java.time.Duration.ofSeconds(30))).isTrue();
    HttpResponse<String> trail = admin("GET", "/admin/api/audit?principal="
        + java.net.URLEncoder.encode("operator (admin API)", java.nio.charset.StandardCharsets.UTF_8), null);
    assertThat(trail.statusCode()).isEqualTo(200);
    assertThat(trail.body()).contains("sentinel/bundle.rollback")
        .contains("rollback forced by operator (admin API)")
        .contains("sequence 1").contains("replaces");
  }

  @Test
  void fleet_listsEachHeartbeatAgainstItsChannelsHead() throws Exception {
    dev.sentinel.core.bundle.BundleStore fleet = stores.bundleStore().orElseThrow();
    Bundle head = publish(3, "write");
    java.time.Instant now = java.time.Instant.now();
    fleet.publish("prod", head.toBytes(), "alice", now);
    fleet.heartbeat(new dev.sentinel.core.bundle.Heartbeat("gw-1@host/1", "host", "1.0", "prod",
        head.digest(), 3, "sha256:r", null, now, now));
    fleet.heartbeat(new dev.sentinel.core.bundle.Heartbeat("gw-2@host/2", "host", "1.0", "prod",
        "sha256:old", 2, "sha256:r", "signed by 0 of the 1", now, now));

    HttpResponse<String> answer = admin("GET", "/admin/api/fleet", null);

    assertThat(answer.statusCode()).isEqualTo(200);
    JsonNode gateways = JSON.readTree(answer.body()).path("gateways");
    assertThat(gateways).hasSize(2);
    assertThat(gateways.get(0).path("state").asString()).isEqualTo("in-sync");
    assertThat(gateways.get(1).path("state").asString()).isEqualTo("drift");
    assertThat(gateways.get(1).path("last_error").asString()).contains("signed by 0 of the 1");
    assertThat(gateways.get(1).path("desired").path("digest").asString()).isEqualTo(head.digest());
    assertThat(admin("GET", "/admin/api/fleet?stale_after=soon", null).statusCode()).isEqualTo(400);
  }

  @Test
  void rollouts_startStatusPromote_overTheOperatorService_andRefuseWhatTheCliRefuses()
      throws Exception {
    dev.sentinel.core.bundle.BundleStore fleet = stores.bundleStore().orElseThrow();
    java.time.Instant now = java.time.Instant.now();
    Bundle head = publish(3, "write");
    fleet.publish("prod", head.toBytes(), "alice", now);
    Bundle next = publish(4, "delete");
    for (String gw : java.util.List.of("gw-1@host/1", "gw-2@host/2")) {
      fleet.heartbeat(new dev.sentinel.core.bundle.Heartbeat(gw, "host", "1.0", "prod",
          head.digest(), 3, "sha256:r", null, now, now));
    }
    String start = "{\"bundle\": \"" + next.digest() + "\", \"canary\": 1, \"by\": \"bob\"}";

    HttpResponse<String> unpublished = admin("POST", "/admin/api/rollouts/prod/start", start);
    HttpResponse<String> noRollout = admin("GET", "/admin/api/rollouts/prod", null);
    fleet.publishStaged("prod", next.toBytes(), "alice", now);
    HttpResponse<String> started = admin("POST", "/admin/api/rollouts/prod/start", start);
    HttpResponse<String> second = admin("POST", "/admin/api/rollouts/prod/start", start);
    HttpResponse<String> status = admin("GET", "/admin/api/rollouts/prod", null);
    HttpResponse<String> promoted = admin("POST", "/admin/api/rollouts/prod/promote", "{}");
    HttpResponse<String> abort = admin("POST", "/admin/api/rollouts/prod/abort", "{}");

    assertThat(unpublished.statusCode()).isEqualTo(400);
    assertThat(unpublished.body()).contains("is not published on channel 'prod'");
    assertThat(noRollout.statusCode()).isEqualTo(404);
    assertThat(started.statusCode()).isEqualTo(200);
    JsonNode rollout = JSON.readTree(started.body());
    assertThat(rollout.path("state").asString()).isEqualTo("started");
    assertThat(rollout.path("canaries").get(0).asString()).isEqualTo("gw-1@host/1");
    assertThat(rollout.path("started_by").asString()).isEqualTo("bob");
    assertThat(second.statusCode()).isEqualTo(409);
    assertThat(status.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(status.body());
    assertThat(body.path("canaries").path("gateways").asInt()).isEqualTo(1);
    assertThat(body.path("rest").path("gateways").asInt()).isEqualTo(1);
    assertThat(body.path("gateways").get(0).path("canary").asBoolean()).isTrue();
    assertThat(promoted.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(promoted.body()).path("state").asString()).isEqualTo("promoted");
    assertThat(fleet.head("prod").orElseThrow().digest()).isEqualTo(next.digest());
    assertThat(abort.statusCode()).isEqualTo(404);
  }
}
