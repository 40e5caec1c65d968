package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.Rollout;
import dev.sentinel.jdbc.Database;
import dev.sentinel.jdbc.JdbcBundleStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sentinel bundle publish --staged} and {@code sentinel rollout start|status|promote|abort}
 * on a real SQLite database with heartbeats.
 */
class RolloutCommandTest {
  @TempDir Path dir;

  private static Bundle bundle(long sequence) {
    return Bundle.of("sentinel.yaml", Map.of("sentinel.yaml",
        ("# " + sequence + "\n").getBytes(StandardCharsets.UTF_8)), sequence);
  }

  private static void beat(JdbcBundleStore store, String instance, Bundle runs, Instant seen,
      long calls, long errors) {
    store.heartbeat(new Heartbeat(instance, "host", "1.0", "prod", runs.digest(),
        runs.sequence(), "r", null, seen, seen, new Heartbeat.Counters(calls, 0, errors)));
  }

  @Test
  void rollout_startStatusPromote_thenAbortWithNoneStarted_fails() throws Exception {
    String db = "jdbc:sqlite:" + dir.resolve("fleet.db");
    Bundle one = bundle(1);
    Bundle two = bundle(2);
    Path file = dir.resolve("two.bundle");
    two.write(file);
    Instant now = Instant.now();
    try (Database database = Database.open(db, null, null)) {
      JdbcBundleStore store = JdbcBundleStore.create(database);
      store.publish("prod", one.toBytes(), "alice", now);
      beat(store, "gw-a", one, now, 0, 0);
      beat(store, "gw-b", one, now, 0, 0);
      beat(store, "gw-old", one, now.minus(Duration.ofHours(1)), 0, 0);
    }

    Run unpublished = Cli.run("rollout", "start", "--channel", "prod", "--bundle",
        two.digest(), "--canary", "1", "--db", db);
    Run staged = Cli.run("bundle", "publish", file.toString(), "--channel", "prod", "--staged",
        "--by", "alice", "--db", db);
    Run stale = Cli.run("rollout", "start", "--channel", "prod", "--bundle", two.digest(),
        "--canary-instance", "gw-old", "--db", db);
    Run started = Cli.run("rollout", "start", "--channel", "prod", "--bundle", two.digest(),
        "--canary", "1", "--abort-on-error-rate", "0.05", "--by", "bob", "--db", db);
    try (Database database = Database.open(db, null, null)) {
      JdbcBundleStore store = JdbcBundleStore.create(database);
      assertThat(store.head("prod").orElseThrow().digest()).isEqualTo(one.digest());
      beat(store, "gw-a", two, Instant.now(), 10, 1);
      beat(store, "gw-b", one, Instant.now(), 10, 0);
    }
    Run status = Cli.run("rollout", "status", "--channel", "prod", "--db", db);
    Run promoted = Cli.run("rollout", "promote", "--channel", "prod", "--by", "carol", "--db",
        db);
    Run again = Cli.run("rollout", "abort", "--channel", "prod", "--db", db);

    // What was typed names nothing usable: a usage error, as every INVALID operation.
    assertThat(unpublished.exit()).isEqualTo(Main.USAGE);
    assertThat(unpublished.err()).contains("is not published on channel 'prod'");
    assertThat(staged.exit()).isZero();
    assertThat(staged.out()).contains("staged on channel prod").contains("sentinel rollout start");
    assertThat(stale.exit()).isEqualTo(Main.USAGE);
    assertThat(stale.err()).contains("instance 'gw-old' is stale");
    assertThat(started.exit()).isZero();
    assertThat(started.out()).contains("started rollout 1").contains("canaries gw-a")
        .contains("0.05");
    assertThat(status.exit()).isEqualTo(Main.FAILED); // the canary's error rate is above the rest's
    assertThat(status.out()).contains("started").contains("by bob")
        .containsPattern("canaries +1 gateways, 10 calls, error rate 0.1000 \\(1\\)")
        .containsPattern("rest +2 gateways, 10 calls, error rate 0.0000 \\(0\\)");
    assertThat(promoted.exit()).isZero();
    assertThat(promoted.out()).contains("promoted rollout 1");
    assertThat(again.exit()).isEqualTo(Main.FAILED); // NOT_FOUND: the one-line failure
    assertThat(again.err()).contains("no rollout is started on channel 'prod'");
    try (Database database = Database.open(db, null, null)) {
      JdbcBundleStore store = JdbcBundleStore.create(database);
      assertThat(store.head("prod").orElseThrow().digest()).isEqualTo(two.digest());
      assertThat(store.rollout("prod").orElseThrow().state()).isEqualTo(Rollout.State.PROMOTED);
    }
    assertThat(Files.exists(file)).isTrue();
  }
}
