package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fleet's status from the real in-memory bundle store: in sync, drifted, stale. */
class FleetOperationsTest {
  private final ManualClock clock = new ManualClock();
  private final BundleStore store = BundleStore.inMemory();
  private final Operations operations =
      Operations.builder().bundleStore(store).clock(clock).build();

  private static Bundle bundle(long sequence) {
    return Bundle.of("sentinel.yaml", Map.of("sentinel.yaml",
        ("# " + sequence + "\n").getBytes(StandardCharsets.UTF_8)), sequence);
  }

  private Heartbeat beat(String instance, Bundle runs, String error, Instant seen) {
    return new Heartbeat(instance, "host", "1.0", "prod", runs.digest(), runs.sequence(), "r",
        error, seen, seen);
  }

  @Test
  void status_showsEachGatewayInSyncDriftedOrStale_againstItsChannelsHead() {
    Bundle one = bundle(1);
    Bundle two = bundle(2);
    Instant now = clock.instant();
    operations.bundles().publish("prod", two.toBytes(), "alice");
    store.heartbeat(beat("gw-a", two, null, now));
    store.heartbeat(beat("gw-b", one, "signed by 0 of the 1 trusted keys", now));
    store.heartbeat(beat("gw-c", two, null, now.minus(Duration.ofMinutes(5))));

    List<FleetOperations.Member> members = operations.fleet().status(Duration.ofMinutes(1));

    assertThat(members).extracting(m -> m.heartbeat().instance() + " " + m.state())
        .containsExactly("gw-a IN_SYNC", "gw-b DRIFT", "gw-c STALE");
    assertThat(members.get(1).desired().orElseThrow().digest()).isEqualTo(two.digest());
    assertThat(members.get(1).heartbeat().lastError()).contains("signed by 0 of the 1");
  }

  @Test
  void status_aGatewayOnAChannelWithoutHead_drifts_andABadPeriodIsInvalid() {
    store.heartbeat(beat("gw-a", bundle(1), null, clock.instant()));

    assertThat(operations.fleet().status(Duration.ofMinutes(1)))
        .singleElement().satisfies(m -> {
          assertThat(m.state()).isEqualTo(FleetOperations.State.DRIFT);
          assertThat(m.desired()).isEmpty();
        });
    assertThatThrownBy(() -> operations.fleet().status(Duration.ZERO))
        .isInstanceOf(OperatorException.class).hasMessageContaining("positive");
  }

  @Test
  void fleet_withoutABundleStore_isUnsupported() {
    assertThatThrownBy(() -> Operations.builder().build().fleet())
        .isInstanceOf(OperatorException.class)
        .hasMessageContaining("database its gateways share");
  }

  @Test
  void status_aCanaryOfAStartedRollout_isInSyncOnTheRolloutsBundle_andDriftsOnTheHead() {
    Bundle one = bundle(1);
    Bundle two = bundle(2);
    Instant now = clock.instant();
    operations.bundles().publish("prod", one.toBytes(), "alice");
    operations.bundles().publishStaged("prod", two.toBytes(), "alice");
    store.heartbeat(beat("gw-a", one, null, now));
    store.heartbeat(beat("gw-b", one, null, now));
    store.heartbeat(beat("gw-c", one, null, now));
    operations.rollouts().start(new RolloutOperations.Start("prod", two.digest(), null,
        List.of("gw-a", "gw-b"), null, Duration.ofMinutes(1)), "bob");
    store.heartbeat(beat("gw-a", two, null, now));

    assertThat(operations.fleet().status(Duration.ofMinutes(1)))
        .extracting(m -> m.heartbeat().instance() + " " + m.state() + " "
            + m.desired().orElseThrow().sequence())
        .containsExactly("gw-a IN_SYNC 2", "gw-b DRIFT 2", "gw-c IN_SYNC 1");
  }
}
