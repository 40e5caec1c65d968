package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.internal.Ed25519Keys;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.mcp.gateway.BundleChannelWatcher;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.ConfigWatcher;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.operator.FleetOperations;
import dev.sentinel.operator.Operations;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drift on real SQLite: a gateway that refuses its desired bundle (its channel's head, or the
 * bundle its file holds) shows it on {@link GatewayRuntime#configDrift()} (the {@code
 * sentinel_config_drift} gauge), in its heartbeat and the fleet's status, and posts {@code
 * config.drift} and {@code bundle.refused} to its webhook; a gateway on a bundle file heartbeats
 * too; heartbeats older than the retention are purged.
 */
class BundleDriftOnDatabaseTest {
  private static final KeyPair ALICE = Ed25519Keys.generate();
  private static final KeyPair MALLORY = Ed25519Keys.generate();
  private static final String SECRET = "webhook-secret-0123456789";

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<String> posted = new CopyOnWriteArrayList<>();
  private HttpServer hook;
  private Path source;

  @BeforeEach
  void start() throws Exception {
    source = Files.createDirectories(dir.resolve("source"));
    hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hook.createContext("/hook", exchange -> {
      posted.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    hook.start();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    hook.stop(0);
  }

  private Bundle bundle(String url, long sequence, KeyPair signer) throws Exception {
    Files.writeString(source.resolve("sentinel.yaml"), "gateway: { start_timeout: 1s }\n"
        + "identity: { principal: { id: ann } }\n"
        + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "database: { url: \"" + url + "\" }\n"
        + "notify: { webhook: \"http://127.0.0.1:" + hook.getAddress().getPort() + "/hook\","
        + " secret: \"${env:HOOK_SECRET}\" }\n"
        + "policy: { rules: [ { id: allow-" + sequence + ", allow: { tools: [read] } } ] }\n");
    return Bundle.build(source.resolve("sentinel.yaml"), sequence)
        .sign(signer.getPrivate(), signer.getPublic());
  }

  private record Gateway(GatewayRuntime runtime, BundleChannelWatcher watcher,
      List<ConfigReloader.Result> results) {}

  private Gateway start(String name, String bundleSection, String url) throws Exception {
    Path run = Files.createDirectories(dir.resolve(name));
    Files.writeString(run.resolve("alice.pub"), Ed25519Keys.publicPem(ALICE.getPublic()));
    Path boot = Files.writeString(run.resolve("sentinel.yaml"), bundleSection);
    JdbcBundleSources sources = JdbcBundleSources.create(clock);
    resources.add(sources);
    Map<String, String> env = Map.of("HOOK_SECRET", SECRET);
    GatewayConfig config = GatewayConfig.load(boot, env, PolicyOptions.defaults(), sources);
    GatewayRuntime runtime =
        GatewayRuntime.start(config, clock, JdbcStores.open(config.database(), clock));
    resources.add(runtime);
    ConfigReloader reloader = ConfigReloader.of(runtime, boot, env, PolicyOptions.defaults(),
        sources);
    List<ConfigReloader.Result> results = new CopyOnWriteArrayList<>();
    ConfigWatcher watcher = ConfigWatcher.start(reloader, Duration.ofMillis(50), results::add);
    resources.add(watcher);
    return new Gateway(runtime, watcher.channel().orElseThrow(), results);
  }

  private static List<Heartbeat> beats(Database db) {
    return JdbcBundleStore.create(db).heartbeats();
  }

  @Test
  void fileBundle_heartbeats_andARefusedFile_drifts_notifies_andClearsOnceANewOneApplies()
      throws Exception {
    String url = "jdbc:sqlite:" + dir.resolve("fleet.db");
    try (Database db = Database.builder(url).clock(clock).open()) {
      Path file = dir.resolve("a").resolve("prod.bundle");
      Files.createDirectories(file.getParent());
      bundle(url, 1, ALICE).write(file);
      Gateway gateway = start("a", "bundle: { file: prod.bundle, trust: [alice.pub] }\n", url);

      Conditions.await("the file's gateway heartbeats", () -> beats(db).size() == 1);
      assertThat(beats(db).get(0).channel()).isNull();
      assertThat(gateway.runtime().configDrift()).isEmpty();

      bundle(url, 2, MALLORY).write(file);
      Conditions.await("the untrusted file is refused and shows as drift",
          () -> gateway.runtime().configDrift().isPresent()
              && beats(db).get(0).lastError() != null);
      assertThat(gateway.runtime().configDrift().get()).contains("prod.bundle holds");
      FleetOperations.Member member = Operations.builder().bundleStore(JdbcBundleStore.create(db))
          .clock(clock).build().fleet().status(Duration.ofMinutes(1)).get(0);
      assertThat(member.state()).isEqualTo(FleetOperations.State.DRIFT);
      Conditions.await("drift and the refusal are posted", () -> posted.stream()
          .anyMatch(p -> p.contains("\"type\":\"config.drift\"")) && posted.stream()
          .anyMatch(p -> p.contains("\"type\":\"bundle.refused\"")
              && p.contains("signed by 0 of the 1")));

      Bundle third = bundle(url, 3, ALICE);
      third.write(file);
      Conditions.await("a trusted newer file applies and the drift clears",
          () -> gateway.runtime().configDrift().isEmpty()
              && beats(db).get(0).digest().equals(third.digest())
              && beats(db).get(0).lastError() == null);
    }
  }

  @Test
  void channel_aRefusedHead_drifts_andHeartbeatsOlderThanTheRetention_arePurged()
      throws Exception {
    String url = "jdbc:sqlite:" + dir.resolve("fleet.db");
    try (Database db = Database.builder(url).clock(clock).open()) {
      JdbcBundleStore store = JdbcBundleStore.create(db);
      Instant old = clock.instant().minus(BundleChannelWatcher.HEARTBEAT_RETENTION)
          .minusSeconds(1);
      store.heartbeat(new Heartbeat("gone@host/1", "host", "1.0", "prod", "sha256:x", 1, "r",
          null, old, old));
      store.publish("prod", bundle(url, 1, ALICE).toBytes(), "alice", clock.instant());
      Gateway gateway = start("b", "bundle: { source: database, channel: prod,"
          + " trust: [alice.pub], poll_interval: 50ms }\ndatabase: { url: \"" + url + "\" }\n",
          url);

      Conditions.await("the old run's row is purged, the gateway's kept",
          () -> beats(db).size() == 1 && !beats(db).get(0).instance().equals("gone@host/1"));
      assertThat(gateway.runtime().configDrift()).isEmpty();

      store.publish("prod", bundle(url, 2, MALLORY).toBytes(), "mallory", clock.instant());
      // Drift is set as the head is refused; the listener hears of it after the heartbeat.
      Conditions.await("the refused head shows as drift",
          () -> gateway.runtime().configDrift().isPresent() && gateway.results().size() == 1);
      assertThat(gateway.runtime().configDrift().get()).contains("signed by 0 of the 1");
      assertThat(gateway.results()).singleElement().satisfies(r -> assertThat(r.applied())
          .isFalse());
    }
  }
}
