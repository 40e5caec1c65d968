package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.jdbc.Database;
import dev.sentinel.jdbc.JdbcBundleStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sentinel fleet status} on a real SQLite database with published bundles and heartbeats. */
class FleetCommandTest {
  @TempDir Path dir;

  private static Bundle bundle(long sequence) {
    return Bundle.of("sentinel.yaml", Map.of("sentinel.yaml",
        ("# " + sequence + "\n").getBytes(StandardCharsets.UTF_8)), sequence);
  }

  @Test
  void status_listsDesiredAgainstRunning_andExitsOneWhenAGatewayIsNotInSync() {
    String db = "jdbc:sqlite:" + dir.resolve("fleet.db");
    Instant now = Instant.now();
    Bundle one = bundle(1);
    Bundle two = bundle(2);
    try (Database database = Database.open(db, null, null)) {
      JdbcBundleStore store = JdbcBundleStore.create(database);
      store.publish("prod", two.toBytes(), "alice", now);
      store.heartbeat(new Heartbeat("gw-a", "host-a", "1.0", "prod", two.digest(), 2, "r2", null,
          now, now));
      store.heartbeat(new Heartbeat("gw-b", "host-b", "1.0", "prod", one.digest(), 1, "r1",
          "bundle refused: signed by 0 of the 1\ntrusted keys", now, now));
      store.heartbeat(new Heartbeat("gw-c", "host-c", "1.0", "prod", two.digest(), 2, "r2", null,
          now, now.minus(Duration.ofHours(1))));
    }

    Run run = Cli.run("fleet", "status", "--db", db);

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("CHANNEL").contains("DESIRED")
        .containsPattern("gw-a +host-a +1.0 +in-sync")
        .containsPattern("gw-b +host-b +1.0 +drift +" + one.digest().substring(0, 19) + " \\(1\\) +"
            + two.digest().substring(0, 19) + " \\(2\\)")
        .contains("signed by 0 of the 1 trusted keys")
        .containsPattern("gw-c +host-c +1.0 +stale");
  }

  @Test
  void status_allInSync_exitsZero_anEmptyFleetSaysWhoReports_andAMissingDatabaseFails() {
    String db = "jdbc:sqlite:" + dir.resolve("fleet.db");
    Run missing = Cli.run("fleet", "status", "--db", db);
    Run empty;
    try (Database database = Database.open(db, null, null)) {
      empty = Cli.run("fleet", "status", "--db", db);
      JdbcBundleStore store = JdbcBundleStore.create(database);
      store.publish("prod", bundle(2).toBytes(), "alice", Instant.now());
      store.heartbeat(new Heartbeat("gw-a", "host-a", "1.0", "prod", bundle(2).digest(), 2, "r2",
          null, Instant.now(), Instant.now()));
    }

    Run synced = Cli.run("fleet", "status", "--db", db, "--stale-after", "10m");

    assertThat(missing.exit()).isEqualTo(Main.FAILED); // a mistyped path is not an empty fleet
    assertThat(empty.exit()).isZero();
    assertThat(empty.out()).contains("No gateway has reported");
    assertThat(synced.exit()).isZero();
    assertThat(synced.out()).containsPattern("gw-a .* in-sync");
    assertThat(Cli.run("fleet", "status", "--db", db, "--stale-after", "soon").exit())
        .isEqualTo(Main.USAGE);
  }
}
