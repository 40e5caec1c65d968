package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.internal.Ed25519Keys;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.mcp.gateway.BundleChannelWatcher;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.ConfigWatcher;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Gateways that follow a channel of the fleet's database ({@code bundle: { source: database }})
 * through the runners' path (ConfigWatcher, ConfigReloader, GatewayRuntime.reload): a publish
 * reaches a gateway on SQLite by polling and two gateways on PostgreSQL by {@code NOTIFY} (their
 * poll interval is an hour); a bundle that does not verify, or would roll back, is refused,
 * audited, and the old config keeps serving. The backend is a program that does not exist, so no
 * process is started.
 */
class BundleChannelOnDatabaseTest {
  private static final KeyPair ALICE = Ed25519Keys.generate();
  private static final KeyPair MALLORY = Ed25519Keys.generate();
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();
  private final List<AutoCloseable> resources = new ArrayList<>();
  private Path source;

  @BeforeEach
  void sourceFiles() throws Exception {
    source = Files.createDirectories(dir.resolve("source"));
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  /** A gateway following the channel, started as the runners start one. */
  private record Gateway(GatewayRuntime runtime, BundleChannelWatcher channel,
      List<ConfigReloader.Result> results) {}

  /** The source config (on the given database) allowing {@code tool}, as a signed bundle. */
  private Bundle bundle(String url, long sequence, String tool, KeyPair signer) throws Exception {
    Files.writeString(source.resolve("sentinel.yaml"), "gateway: { start_timeout: 1s }\n"
        + "identity: { principal: { id: ann } }\n"
        + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "audit: { sinks: [ { database: {} } ] }\n"
        + "database: { url: \"" + url + "\" }\n"
        + "policy: { file: policy.yaml }\n");
    Files.writeString(source.resolve("policy.yaml"),
        "rules: [ { id: allow-" + tool + ", allow: { tools: [" + tool + "] } } ]\n");
    return Bundle.build(source.resolve("sentinel.yaml"), sequence)
        .sign(signer.getPrivate(), signer.getPublic());
  }

  private void publish(Database db, Bundle bundle) {
    JdbcBundleStore.create(db).publish("prod", bundle.toBytes(), "alice", clock.instant());
  }

  private Gateway start(String name, String url, String pollInterval) throws Exception {
    Path run = Files.createDirectories(dir.resolve(name));
    Files.writeString(run.resolve("alice.pub"), Ed25519Keys.publicPem(ALICE.getPublic()));
    Path boot = Files.writeString(run.resolve("sentinel.yaml"), "bundle: { source: database,"
        + " channel: prod, trust: [alice.pub], poll_interval: " + pollInterval + " }\n"
        + "database: { url: \"" + url + "\" }\n");
    JdbcBundleSources sources = JdbcBundleSources.create(clock);
    resources.add(sources);
    GatewayConfig config = GatewayConfig.load(boot, Map.of(), PolicyOptions.defaults(), sources);
    GatewayRuntime runtime =
        GatewayRuntime.start(config, clock, JdbcStores.open(config.database(), clock));
    resources.add(runtime);
    ConfigReloader reloader =
        ConfigReloader.of(runtime, boot, Map.of(), PolicyOptions.defaults(), sources);
    List<ConfigReloader.Result> results = new CopyOnWriteArrayList<>();
    ConfigWatcher watcher = ConfigWatcher.start(reloader, ConfigWatcher.DEFAULT_SETTLE, results::add);
    resources.add(watcher);
    return new Gateway(runtime, watcher.channel().orElseThrow(), results);
  }

  private static Outcome call(GatewayRuntime runtime, String tool) {
    return runtime.sentinel().call(Call.of(Credentials.launch(),
        Request.toolCall("fs", tool, JsonNodeFactory.instance.objectNode())), r -> "ok")
        .outcome();
  }

  private static boolean applied(GatewayRuntime runtime, Bundle bundle) {
    return runtime.config().fromBundle().orElseThrow().digest().equals(bundle.digest());
  }

  private static List<String> audited(Database db, GatewayRuntime runtime, String method) {
    assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
    return db.jdbi().withHandle(h -> h.createQuery(
            "SELECT event FROM sentinel_audit WHERE method = :method ORDER BY seq")
        .bind("method", method).mapTo(String.class).list());
  }

  @Test
  void sqlite_aPublish_isAppliedByPolling_andAnUntrustedOrOlderOne_isRefusedWhileTheOldServes()
      throws Exception {
    String url = "jdbc:sqlite:" + dir.resolve("fleet.db");
    try (Database db = Database.builder(url).clock(clock).open()) {
      publish(db, bundle(url, 1, "read", ALICE));
      Gateway gateway = start("a", url, "50ms");
      assertThat(call(gateway.runtime(), "read")).isEqualTo(Outcome.ALLOWED);
      assertThat(call(gateway.runtime(), "write")).isEqualTo(Outcome.DENIED);

      Bundle second = bundle(url, 2, "write", ALICE);
      publish(db, second);
      // The policy is swapped first, then the config's record, the state file and the trail.
      Conditions.await("the gateway applies the published bundle",
          () -> applied(gateway.runtime(), second) && gateway.results().size() == 1);
      assertThat(call(gateway.runtime(), "write")).isEqualTo(Outcome.ALLOWED);
      String serving = gateway.runtime().sentinel().revision();

      publish(db, bundle(url, 3, "\"*\"", MALLORY));
      Conditions.await("the untrusted bundle is refused", () -> gateway.results().size() == 2);
      assertThat(gateway.results().get(1).applied()).isFalse();
      assertThat(gateway.results().get(1).problems().toString()).contains("signed by 0 of the 1");
      assertThat(gateway.channel().lastError()).hasValueSatisfying(
          e -> assertThat(e).contains("signed by 0 of the 1"));
      assertThat(gateway.runtime().sentinel().revision()).isEqualTo(serving);
      assertThat(call(gateway.runtime(), "delete")).isEqualTo(Outcome.DENIED);

      publish(db, bundle(url, 1, "\"*\"", ALICE));
      Conditions.await("the rollback is refused", () -> gateway.results().size() == 3);
      assertThat(gateway.results().get(2).problems().toString()).contains("would roll back");
      assertThat(call(gateway.runtime(), "delete")).isEqualTo(Outcome.DENIED);
      assertThat(call(gateway.runtime(), "write")).isEqualTo(Outcome.ALLOWED);
      assertThat(audited(db, gateway.runtime(), "sentinel/bundle.refuse"))
          .hasSize(2)
          .anySatisfy(e -> assertThat(e).contains("signed by 0 of the 1"))
          .anySatisfy(e -> assertThat(e).contains("would roll back"));

      // Its heartbeat shows it runs sequence 2 while the channel's head is the refused rollback.
      Conditions.await("the heartbeat reports the refusal", () -> JdbcBundleStore.create(db)
          .heartbeats().stream().anyMatch(b -> b.lastError() != null
              && b.lastError().contains("would roll back")));
      dev.sentinel.operator.FleetOperations.Member member =
          dev.sentinel.operator.Operations.builder()
              .bundleStore(JdbcBundleStore.create(db)).clock(clock).build()
              .fleet().status(Duration.ofMinutes(1)).get(0);
      assertThat(member.state()).isEqualTo(dev.sentinel.operator.FleetOperations.State.DRIFT);
      assertThat(member.heartbeat().digest()).isEqualTo(second.digest());
      assertThat(member.heartbeat().sequence()).isEqualTo(2);
      assertThat(member.heartbeat().instance()).startsWith(gateway.runtime().sentinel().instance());
      assertThat(member.desired().orElseThrow().sequence()).isEqualTo(1);
    }
  }

  @Test
  void postgres_aPublish_reachesTwoGatewaysByNotify() throws Exception {
    String url = postgres.newDatabase();
    try (Database db = Database.builder(url).clock(clock).open()) {
      publish(db, bundle(url, 1, "read", ALICE));
      // An hour between polls: only a notification can bring the publish within the test.
      Gateway one = start("one", url, "1h");
      Gateway two = start("two", url, "1h");
      assertThat(call(one.runtime(), "write")).isEqualTo(Outcome.DENIED);

      Bundle second = bundle(url, 2, "write", ALICE);
      publish(db, second);

      // The policy is swapped first, then the config's record, the state file and the trail.
      Conditions.await("both gateways apply the published bundle",
          () -> one.results().size() == 1 && two.results().size() == 1);
      assertThat(one.results().get(0).applied()).isTrue();
      assertThat(two.results().get(0).applied()).isTrue();
      assertThat(applied(one.runtime(), second) && applied(two.runtime(), second)).isTrue();
      assertThat(call(one.runtime(), "write")).isEqualTo(Outcome.ALLOWED);
      assertThat(call(two.runtime(), "write")).isEqualTo(Outcome.ALLOWED);
      assertThat(audited(db, one.runtime(), "sentinel/bundle.apply"))
          .anySatisfy(e -> assertThat(e).contains("sequence 2"));
      Conditions.await("both report sequence 2", () -> JdbcBundleStore.create(db).heartbeats()
          .stream().filter(b -> b.sequence() == 2 && b.lastError() == null).count() == 2);
    }
  }

  @Test
  void start_onAChannelWithNoBundle_failsClosedNamingTheChannel() throws Exception {
    String url = "jdbc:sqlite:" + dir.resolve("empty.db");

    assertThatThrownBy(() -> start("a", url, "10s"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("no bundle is published on channel 'prod'");
  }
}
