package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleState;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.Rollout;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.internal.Ed25519Keys;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.mcp.gateway.BundleChannelWatcher;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.ConfigWatcher;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.operator.Operations;
import dev.sentinel.operator.RolloutOperations;
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
 * Two gateways on embedded PostgreSQL through whole rollouts, through the runners' path
 * (ConfigWatcher, BundleChannelWatcher, ConfigReloader, GatewayRuntime.reload): the canary applies
 * the staged bundle and the other keeps the head; status compares their rates from the
 * heartbeats; promote brings both to it; a second rollout, aborted, sends the canary back to the
 * bundle it ran before (an authorised, audited rollback). And what a database writer cannot do
 * with a forged rollout row: make a canary run a bundle its trust roots did not sign, or a bundle
 * not published, or make a gateway that was no canary roll back.
 */
class BundleRolloutOnDatabaseTest {
  private static final KeyPair ALICE = Ed25519Keys.generate();
  private static final KeyPair MALLORY = Ed25519Keys.generate();
  private static final Duration STALE = Duration.ofMinutes(1);
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

  private record Gateway(Path run, GatewayRuntime runtime, BundleChannelWatcher channel,
      List<ConfigReloader.Result> results) {
    String member() {
      return channel.member();
    }

    BundleState state() {
      return BundleState.read(run.resolve("bundle-state.json")).orElseThrow();
    }
  }

  private Bundle bundle(String url, long sequence, String tool, KeyPair signer) throws Exception {
    Files.writeString(source.resolve("sentinel.yaml"), "gateway: { start_timeout: 1s }\n"
        + "identity: { principal: { id: ann } }\n"
        + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "audit: { sinks: [ { database: {} } ] }\n"
        + "database: { url: \"" + url + "\" }\n"
        + "policy: { file: policy.yaml }\n");
    Files.writeString(source.resolve("policy.yaml"),
        "rules: [ { id: allow-" + tool + ", allow: { tools: [read, " + tool + "] } } ]\n");
    return Bundle.build(source.resolve("sentinel.yaml"), sequence)
        .sign(signer.getPrivate(), signer.getPublic());
  }

  private Gateway start(String name, String url) throws Exception {
    Path run = Files.createDirectories(dir.resolve(name));
    Files.writeString(run.resolve("alice.pub"), Ed25519Keys.publicPem(ALICE.getPublic()));
    Path boot = Files.writeString(run.resolve("sentinel.yaml"), "bundle: { source: database,"
        + " channel: prod, trust: [alice.pub], poll_interval: 50ms }\n"
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
    ConfigWatcher watcher =
        ConfigWatcher.start(reloader, ConfigWatcher.DEFAULT_SETTLE, results::add);
    resources.add(watcher);
    return new Gateway(run, runtime, watcher.channel().orElseThrow(), results);
  }

  private static Outcome call(GatewayRuntime runtime, String tool) {
    return runtime.sentinel().call(Call.of(Credentials.launch(),
        Request.toolCall("fs", tool, JsonNodeFactory.instance.objectNode())), r -> "ok")
        .outcome();
  }

  private static Outcome failingCall(GatewayRuntime runtime) {
    return runtime.sentinel().call(Call.of(Credentials.launch(),
        Request.toolCall("fs", "read", JsonNodeFactory.instance.objectNode())), r -> {
          throw new IllegalStateException("backend down");
        }).outcome();
  }

  private static boolean runs(Gateway gateway, Bundle bundle) {
    return gateway.runtime().config().fromBundle().orElseThrow().digest().equals(bundle.digest());
  }

  private static Heartbeat beatOf(Database db, Gateway gateway) {
    return JdbcBundleStore.create(db).heartbeats().stream()
        .filter(b -> b.instance().equals(gateway.member())).findFirst().orElse(null);
  }

  private static List<String> audited(Database db, GatewayRuntime runtime, String method) {
    assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
    return db.jdbi().withHandle(h -> h.createQuery(
            "SELECT event FROM sentinel_audit WHERE method = :method ORDER BY seq")
        .bind("method", method).mapTo(String.class).list());
  }

  private RolloutOperations.Start canary(Bundle bundle, Gateway gateway) {
    return new RolloutOperations.Start("prod", bundle.digest(), null, List.of(gateway.member()),
        null, STALE);
  }

  @Test
  void postgres_aWholeRollout_canaryStatusPromote_thenASecondRolloutAborted() throws Exception {
    String url = postgres.newDatabase();
    try (Database db = Database.builder(url).clock(clock).open()) {
      JdbcBundleStore store = JdbcBundleStore.create(db);
      RolloutOperations rollouts =
          Operations.builder().bundleStore(store).clock(clock).build().rollouts();
      Bundle first = bundle(url, 1, "read", ALICE);
      store.publish("prod", first.toBytes(), "alice", clock.instant());
      Gateway one = start("one", url);
      Gateway two = start("two", url);
      Conditions.await("both gateways report", () -> beatOf(db, one) != null
          && beatOf(db, two) != null);

      Bundle second = bundle(url, 2, "write", ALICE);
      store.publishStaged("prod", second.toBytes(), "alice", clock.instant());
      assertThat(store.head("prod").orElseThrow().digest()).isEqualTo(first.digest());
      Rollout rollout = rollouts.start(canary(second, one), "bob");

      Conditions.await("the canary applies the rollout's bundle",
          () -> runs(one, second) && one.state().sequence() == 2);
      assertThat(call(one.runtime(), "write")).isEqualTo(Outcome.ALLOWED);
      assertThat(one.state().canary()).isEqualTo(
          new BundleState.Canary(rollout.id(), first.digest(), 1));
      // Calls since the start: the canary 4 (1 error, 1 denial), the other 4 (2 denials).
      assertThat(failingCall(one.runtime())).isEqualTo(Outcome.FAILED);
      assertThat(call(one.runtime(), "delete")).isEqualTo(Outcome.DENIED);
      assertThat(call(one.runtime(), "read")).isEqualTo(Outcome.ALLOWED);
      assertThat(call(two.runtime(), "read")).isEqualTo(Outcome.ALLOWED);
      assertThat(call(two.runtime(), "read")).isEqualTo(Outcome.ALLOWED);
      assertThat(call(two.runtime(), "write")).isEqualTo(Outcome.DENIED);
      assertThat(call(two.runtime(), "delete")).isEqualTo(Outcome.DENIED);
      // The other gateway has read the channel since (its heartbeat counts the calls just made)
      // and still runs the head.
      Conditions.await("both heartbeats count the calls", () ->
          beatOf(db, one).counters().calls() == 4 && beatOf(db, two).counters().calls() == 4);
      assertThat(runs(two, first)).isTrue();
      assertThat(two.results()).isEmpty();

      RolloutOperations.Status status = rollouts.status("prod", STALE);
      assertThat(status.rollout().state()).isEqualTo(Rollout.State.STARTED);
      assertThat(status.canaries().counters()).isEqualTo(new Heartbeat.Counters(4, 1, 1));
      assertThat(status.rest().counters()).isEqualTo(new Heartbeat.Counters(4, 2, 0));
      assertThat(status.canaries().errorRate()).isEqualTo(0.25);
      assertThat(status.members()).extracting(m -> m.canary() + " " + m.applied())
          .containsExactly("true true", "false true");

      rollouts.promote("prod", "carol");
      Conditions.await("both run the promoted bundle, the canary without its mark", () ->
          runs(one, second) && runs(two, second) && one.state().canary() == null
              && two.state().sequence() == 2);
      assertThat(call(two.runtime(), "write")).isEqualTo(Outcome.ALLOWED);

      Bundle third = bundle(url, 3, "delete", ALICE);
      store.publishStaged("prod", third.toBytes(), "alice", clock.instant());
      Rollout bad = rollouts.start(canary(third, one), "bob");
      // The state file is written after the swap: wait for both.
      Conditions.await("the canary applies the second rollout",
          () -> runs(one, third) && one.state().sequence() == 3);
      assertThat(call(one.runtime(), "delete")).isEqualTo(Outcome.ALLOWED);

      rollouts.abort("prod", "carol", "too many errors");
      Conditions.await("the canary goes back to the bundle it ran before",
          () -> runs(one, second) && one.state().sequence() == 2);
      assertThat(call(one.runtime(), "delete")).isEqualTo(Outcome.DENIED);
      assertThat(one.state().canary()).isNull();
      assertThat(runs(two, second)).isTrue();
      // The trail is written last: after the swap and the state file.
      Conditions.await("the rollback is audited",
          () -> !audited(db, one.runtime(), "sentinel/bundle.rollback").isEmpty());
      assertThat(audited(db, one.runtime(), "sentinel/bundle.rollback")).singleElement()
          .satisfies(e -> assertThat(e).contains("rollback authorised by the abort of rollout "
              + bad.id()).contains("by carol (too many errors)"));
      // The trail is shared: the one rollback above is the canary's; the other only applied.
      assertThat(two.results()).hasSize(1).allMatch(ConfigReloader.Result::applied);
      Conditions.await("both report sequence 2 with no error", () -> store.heartbeats().stream()
          .filter(b -> b.sequence() == 2 && b.lastError() == null).count() == 2);
    }
  }

  @Test
  void postgres_forgedRolloutRows_cannotMakeAGatewayRunWhatItDoesNotTrust() throws Exception {
    String url = postgres.newDatabase();
    try (Database db = Database.builder(url).clock(clock).open()) {
      JdbcBundleStore store = JdbcBundleStore.create(db);
      Bundle first = bundle(url, 1, "read", ALICE);
      Bundle second = bundle(url, 2, "write", ALICE);
      store.publish("prod", first.toBytes(), "alice", clock.instant());
      store.publish("prod", second.toBytes(), "alice", clock.instant());
      Gateway one = start("one", url);
      Gateway two = start("two", url);
      Conditions.await("both gateways report", () -> beatOf(db, one) != null
          && beatOf(db, two) != null);

      // A rollout row written straight into the database, naming a bundle that Mallory signed:
      // the canary selects it, verifies it, and refuses it; the running bundle keeps serving.
      Bundle forged = bundle(url, 9, "\"*\"", MALLORY);
      store.publishStaged("prod", forged.toBytes(), "mallory", clock.instant());
      Rollout rollout = store.startRollout(new Rollout(0, "prod", forged.digest(), 9,
          List.of(one.member()), Rollout.State.STARTED, second.digest(), null, Map.of(),
          clock.instant(), "mallory", null, null, null)).orElseThrow();
      Conditions.await("the canary refuses the forged rollout's bundle",
          () -> one.results().size() == 1);
      assertThat(one.results().get(0).applied()).isFalse();
      assertThat(one.results().get(0).problems().toString())
          .contains("as a canary of rollout " + rollout.id()).contains("signed by 0 of the 1");
      assertThat(runs(one, second)).isTrue();
      assertThat(call(one.runtime(), "delete")).isEqualTo(Outcome.DENIED);
      Conditions.await("the refusal is audited",
          () -> !audited(db, one.runtime(), "sentinel/bundle.refuse").isEmpty());
      assertThat(audited(db, one.runtime(), "sentinel/bundle.refuse")).singleElement()
          .satisfies(e -> assertThat(e).contains("signed by 0 of the 1"));
      assertThat(two.results()).isEmpty();

      // A row naming a digest that is not published on the channel: refused with the reason.
      store.endRollout("prod", rollout.id(), Rollout.State.ABORTED, "mallory", clock.instant(),
          null);
      Rollout unpublished = store.startRollout(new Rollout(0, "prod", "sha256:" + "ab".repeat(32),
          9, List.of(one.member()), Rollout.State.STARTED, second.digest(), null, Map.of(),
          clock.instant(), "mallory", null, null, null)).orElseThrow();
      Conditions.await("the canary refuses the unpublished bundle",
          () -> one.results().size() == 2);
      assertThat(one.results().get(1).problems().toString())
          .contains("rollout " + unpublished.id()).contains("not published on the channel");

      // An aborted rollout row and an older head: neither gateway applied a canary bundle, so
      // the abort authorises nothing; both refuse the rollback.
      store.endRollout("prod", unpublished.id(), Rollout.State.ABORTED, "mallory",
          clock.instant(), null);
      store.publish("prod", first.toBytes(), "mallory", clock.instant());
      Conditions.await("both refuse the rollback", () -> one.results().size() == 3
          && two.results().size() == 1);
      assertThat(one.results().get(2).problems().toString()).contains("would roll back");
      assertThat(two.results().get(0).problems().toString()).contains("would roll back");
      assertThat(runs(one, second) && runs(two, second)).isTrue();
      assertThat(audited(db, one.runtime(), "sentinel/bundle.rollback")).isEmpty();
    }
  }
}
