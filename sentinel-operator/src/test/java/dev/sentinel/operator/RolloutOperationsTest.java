package dev.sentinel.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.Rollout;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.core.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Rollouts on the real in-memory bundle store: what is refused (an unpublished digest, no
 * rollout to end, a stale or unknown canary, a second start), the canaries chosen, rates since
 * the start, promote and abort, two operators racing, and the automatic abort.
 */
class RolloutOperationsTest {
  private static final Duration STALE = Duration.ofMinutes(1);

  private final ManualClock clock = new ManualClock();
  private final BundleStore store = BundleStore.inMemory();
  private final Operations operations =
      Operations.builder().bundleStore(store).clock(clock).build();
  private final Bundle one = bundle(1);
  private final Bundle two = bundle(2);

  private static Bundle bundle(long sequence) {
    return Bundle.of("sentinel.yaml", Map.of("sentinel.yaml",
        ("# " + sequence + "\n").getBytes(StandardCharsets.UTF_8)), sequence);
  }

  private void beat(String instance, Bundle runs, Instant seen, long calls, long denied,
      long errors) {
    store.heartbeat(new Heartbeat(instance, "host", "1.0", "prod", runs.digest(), runs.sequence(),
        "r", null, seen, seen, new Heartbeat.Counters(calls, denied, errors)));
  }

  /** Head one, two staged, three live gateways on the head. */
  private void fleet() {
    operations.bundles().publish("prod", one.toBytes(), "alice");
    operations.bundles().publishStaged("prod", two.toBytes(), "alice");
    for (String gw : List.of("gw-a", "gw-b", "gw-c")) {
      beat(gw, one, clock.instant(), 10, 1, 0);
    }
  }

  private RolloutOperations.Start start(String canary, List<String> instances, Double rate) {
    return new RolloutOperations.Start("prod", two.digest(), canary, instances, rate, STALE);
  }

  @Test
  void start_aDigestNotPublishedOnTheChannel_isInvalid_andStartsNothing() {
    fleet();
    Bundle elsewhere = bundle(3);
    operations.bundles().publishStaged("staging", elsewhere.toBytes(), "alice");

    assertThatThrownBy(() -> operations.rollouts().start(new RolloutOperations.Start("prod",
        elsewhere.digest(), "1", List.of(), null, STALE), "bob"))
        .isInstanceOfSatisfying(OperatorException.class,
            e -> assertThat(e.kind()).isEqualTo(OperatorException.Kind.INVALID))
        .hasMessageContaining("is not published on channel 'prod'")
        .hasMessageContaining("--staged");
    assertThat(store.rollout("prod")).isEmpty();
  }

  @Test
  void promoteOrAbort_withNoRollout_isNotFound() {
    fleet();
    assertThatThrownBy(() -> operations.rollouts().abort("prod", "bob", null))
        .isInstanceOfSatisfying(OperatorException.class,
            e -> assertThat(e.kind()).isEqualTo(OperatorException.Kind.NOT_FOUND))
        .hasMessageContaining("no rollout is started on channel 'prod'");
    assertThatThrownBy(() -> operations.rollouts().promote("prod", "bob"))
        .isInstanceOfSatisfying(OperatorException.class,
            e -> assertThat(e.kind()).isEqualTo(OperatorException.Kind.NOT_FOUND));
    assertThat(store.head("prod").orElseThrow().digest()).isEqualTo(one.digest());
  }

  @Test
  void start_aCanaryListNamingAStaleOrUnknownInstance_isInvalid() {
    fleet();
    beat("gw-old", one, clock.instant().minus(Duration.ofMinutes(5)), 0, 0, 0);

    assertThatThrownBy(() -> operations.rollouts().start(start(null, List.of("gw-old"), null),
        "bob"))
        .isInstanceOf(OperatorException.class)
        .hasMessageContaining("instance 'gw-old' is stale");
    assertThatThrownBy(() -> operations.rollouts().start(start(null, List.of("gw-zz"), null),
        "bob"))
        .isInstanceOf(OperatorException.class)
        .hasMessageContaining("instance 'gw-zz' is not a gateway of channel 'prod'");
    assertThat(store.rollout("prod")).isEmpty();
  }

  @Test
  void start_refusesTheHead_badCounts_andASecondRollout() {
    fleet();
    operations.bundles().publish("prod", two.toBytes(), "alice");
    assertThatThrownBy(() -> operations.rollouts().start(start("1", List.of(), null), "bob"))
        .hasMessageContaining("already the head");
    operations.bundles().publish("prod", one.toBytes(), "alice");
    assertThatThrownBy(() -> operations.rollouts().start(start("3", List.of(), null), "bob"))
        .hasMessageContaining("leave at least one on the head");
    assertThatThrownBy(() -> operations.rollouts().start(start("x", List.of(), null), "bob"))
        .hasMessageContaining("a count such as 1");
    assertThatThrownBy(() -> operations.rollouts().start(start("1", List.of(), 1.5), "bob"))
        .hasMessageContaining("at most 1");

    operations.rollouts().start(start("1", List.of(), null), "bob");
    assertThatThrownBy(() -> operations.rollouts().start(start("1", List.of(), null), "carol"))
        .isInstanceOfSatisfying(OperatorException.class,
            e -> assertThat(e.kind()).isEqualTo(OperatorException.Kind.CONFLICT))
        .hasMessageContaining("promote or abort it first");
  }

  @Test
  void start_choosesLiveCanaries_byCountOrPercentage_andStatusComparesRatesSinceTheStart() {
    fleet();
    beat("gw-old", one, clock.instant().minus(Duration.ofMinutes(5)), 0, 0, 0);

    Rollout rollout = operations.rollouts().start(start("34%", List.of(), 0.5), "bob");

    assertThat(rollout.canaries()).containsExactly("gw-a", "gw-b");
    assertThat(rollout.previousDigest()).isEqualTo(one.digest());
    assertThat(rollout.baseline()).containsOnlyKeys("gw-a", "gw-b", "gw-c");
    // Since the start: the canaries 20 calls, 4 errors, 2 denials; the rest 10 calls, 1 denial.
    beat("gw-a", two, clock.instant(), 20, 2, 2);
    beat("gw-b", two, clock.instant(), 20, 2, 2);
    beat("gw-c", one, clock.instant(), 20, 2, 0);

    RolloutOperations.Status status = operations.rollouts().status("prod", STALE);

    assertThat(status.canaries().counters()).isEqualTo(new Heartbeat.Counters(20, 2, 4));
    assertThat(status.canaries().errorRate()).isEqualTo(0.2);
    assertThat(status.rest().counters()).isEqualTo(new Heartbeat.Counters(10, 1, 0));
    assertThat(status.rest().denialRate()).isEqualTo(0.1);
    assertThat(status.members()).extracting(m -> m.heartbeat().instance() + " " + m.canary()
        + " " + m.applied() + " " + m.stale())
        .containsExactly("gw-a true true false", "gw-b true true false",
            "gw-c false true false", "gw-old false true true");
  }

  @Test
  void promote_makesTheRolloutsBundleTheHead_andAbort_leavesTheHead() {
    fleet();
    operations.rollouts().start(start("1", List.of(), null), "bob");
    Rollout promoted = operations.rollouts().promote("prod", "carol");
    assertThat(promoted.state()).isEqualTo(Rollout.State.PROMOTED);
    assertThat(promoted.endedBy()).isEqualTo("carol");
    assertThat(store.head("prod").orElseThrow().digest()).isEqualTo(two.digest());

    Bundle three = bundle(3);
    operations.bundles().publishStaged("prod", three.toBytes(), "alice");
    operations.rollouts().start(new RolloutOperations.Start("prod", three.digest(), "1",
        List.of(), null, STALE), "bob");
    Rollout aborted = operations.rollouts().abort("prod", "carol", "errors");
    assertThat(aborted.state()).isEqualTo(Rollout.State.ABORTED);
    assertThat(aborted.reason()).isEqualTo("errors");
    assertThat(store.head("prod").orElseThrow().digest()).isEqualTo(two.digest());
  }

  @Test
  void promoteAndAbort_racing_oneWins_theOtherIsAConflict() throws Exception {
    fleet();
    for (int round = 0; round < 20; round++) {
      operations.rollouts().start(start("1", List.of(), null), "bob");
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        List<Callable<Rollout>> both = List.of(
            () -> operations.rollouts().promote("prod", "carol"),
            () -> operations.rollouts().abort("prod", "dave", null));
        int won = 0;
        int conflicts = 0;
        for (Future<Rollout> f : pool.invokeAll(both)) {
          try {
            f.get();
            won++;
          } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).isInstanceOfSatisfying(OperatorException.class,
                o -> assertThat(o.kind()).isIn(OperatorException.Kind.CONFLICT,
                    OperatorException.Kind.NOT_FOUND));
            conflicts++;
          }
        }
        assertThat(won).isEqualTo(1);
        assertThat(conflicts).isEqualTo(1);
      } finally {
        pool.shutdownNow();
      }
      Rollout ended = store.rollout("prod").orElseThrow();
      String head = store.head("prod").orElseThrow().digest();
      // Promoted: the head is its bundle; aborted: the head did not move.
      assertThat(head).isEqualTo(ended.state() == Rollout.State.PROMOTED ? two.digest()
          : one.digest());
      operations.bundles().publish("prod", one.toBytes(), "alice");
    }
  }

  @Test
  void abortIfCanariesFail_abortsOnceAboveTheThreshold_andNotBelowOrWithTooFewCalls() {
    fleet();
    operations.rollouts().start(start("1", List.of(), 0.05), "bob");
    beat("gw-a", two, clock.instant(), 20, 1, 5); // 10 calls since the start: too few to judge
    assertThat(store.abortIfCanariesFail("prod", clock.instant())).isEmpty();
    beat("gw-a", two, clock.instant(), 110, 1, 5); // 100 calls, 5 errors: 0.05 is not above
    assertThat(store.abortIfCanariesFail("prod", clock.instant())).isEmpty();
    beat("gw-a", two, clock.instant(), 110, 1, 6);

    Rollout aborted = store.abortIfCanariesFail("prod", clock.instant()).orElseThrow();

    assertThat(aborted.state()).isEqualTo(Rollout.State.ABORTED);
    assertThat(aborted.endedBy()).isEqualTo(Rollout.AUTOMATIC);
    assertThat(aborted.reason()).contains("error rate 0.0600 (6 of 100 calls");
    assertThat(store.abortIfCanariesFail("prod", clock.instant())).isEmpty();
  }
}
