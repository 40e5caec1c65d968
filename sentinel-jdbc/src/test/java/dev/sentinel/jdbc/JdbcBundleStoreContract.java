package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleException;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.PublishedBundle;
import dev.sentinel.core.bundle.Rollout;
import dev.sentinel.core.internal.Ed25519Keys;
import dev.sentinel.core.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** What a {@link JdbcBundleStore} does on each database. */
abstract class JdbcBundleStoreContract {
  static final KeyPair ALICE = Ed25519Keys.generate();
  final ManualClock clock = new ManualClock();

  /** A new, empty database. */
  protected abstract Database openDatabase();

  static Bundle bundle(long sequence, String tool) {
    return Bundle.of("sentinel.yaml", Map.of("sentinel.yaml",
            ("policy: { rules: [ { id: a, allow: { tools: [" + tool + "] } } ] }\n")
                .getBytes(StandardCharsets.UTF_8)), sequence)
        .sign(ALICE.getPrivate(), ALICE.getPublic());
  }

  @Test
  void publish_thenHead_onAnotherStore_readsTheSameBytes() {
    try (Database db = openDatabase()) {
      Bundle bundle = bundle(1, "read");

      PublishedBundle published =
          JdbcBundleStore.create(db).publish("prod", bundle.toBytes(), "alice", clock.instant());

      PublishedBundle head = JdbcBundleStore.create(db).head("prod").orElseThrow();
      assertThat(head).isEqualTo(published);
      assertThat(head.bytes()).isEqualTo(bundle.toBytes());
      assertThat(head.digest()).isEqualTo(bundle.digest());
      assertThat(head.sequence()).isEqualTo(1);
      assertThat(head.publishedAt()).isEqualTo(clock.instant());
      assertThat(JdbcBundleStore.create(db).headDigest("prod")).contains(bundle.digest());
    }
  }

  @Test
  void head_isThePublishedLast_perChannel_evenWhenItsSequenceIsLower() {
    try (Database db = openDatabase()) {
      JdbcBundleStore store = JdbcBundleStore.create(db);
      store.publish("prod", bundle(2, "write").toBytes(), "alice", clock.instant());
      store.publish("canary", bundle(3, "delete").toBytes(), "alice", clock.instant());
      Bundle older = bundle(1, "read");
      // A rollback published is the head: each gateway refuses it unless an operator forces it.
      store.publish("prod", older.toBytes(), "mallory", clock.instant());

      assertThat(store.headDigest("prod")).contains(older.digest());
      assertThat(store.head("canary").orElseThrow().sequence()).isEqualTo(3);
    }
  }

  @Test
  void head_ofAChannelNeverPublished_isEmpty() {
    try (Database db = openDatabase()) {
      assertThat(JdbcBundleStore.create(db).head("prod")).isEmpty();
      assertThat(JdbcBundleStore.create(db).headDigest("prod")).isEmpty();
    }
  }

  @Test
  void publish_tamperedBytes_isRefused_andTheHeadStays() {
    try (Database db = openDatabase()) {
      JdbcBundleStore store = JdbcBundleStore.create(db);
      Bundle good = bundle(1, "read");
      store.publish("prod", good.toBytes(), "alice", clock.instant());
      String text = new String(bundle(2, "write").toBytes(), StandardCharsets.UTF_8);
      byte[] tampered = text.replace("\"sequence\" : 2", "\"sequence\" : 3")
          .getBytes(StandardCharsets.UTF_8);

      assertThatThrownBy(() -> store.publish("prod", tampered, "mallory", clock.instant()))
          .isInstanceOf(BundleException.class).hasMessageContaining("digest does not match");
      assertThatThrownBy(() -> store.publish("prod", "not json".getBytes(StandardCharsets.UTF_8),
          "mallory", clock.instant()))
          .isInstanceOf(BundleException.class).hasMessageContaining("not a bundle");
      assertThatThrownBy(() -> store.publish("Prod; DROP TABLE x", good.toBytes(), "mallory",
          clock.instant()))
          .isInstanceOf(BundleException.class).hasMessageContaining("invalid channel name");
      assertThat(store.headDigest("prod")).contains(good.digest());
    }
  }

  @Test
  void heartbeat_replacesTheInstancesRow_andListsEveryInstance() {
    try (Database db = openDatabase()) {
      JdbcBundleStore store = JdbcBundleStore.create(db);
      java.time.Instant start = clock.instant();
      store.heartbeat(new dev.sentinel.core.bundle.Heartbeat("gw-1", "host-a", "1.0", "prod",
          "sha256:aa", 1, "sha256:r1", null, start, start));
      store.heartbeat(new dev.sentinel.core.bundle.Heartbeat("gw-2", "host-b", "1.0", "prod",
          "sha256:aa", 1, "sha256:r1", null, start, start));
      dev.sentinel.core.bundle.Heartbeat later = new dev.sentinel.core.bundle.Heartbeat("gw-1",
          "host-a", "1.1", "prod", "sha256:bb", 2, "sha256:r2", "signed by 0 of the 1", start,
          start.plusSeconds(10));

      store.heartbeat(later);

      assertThat(JdbcBundleStore.create(db).heartbeats()).hasSize(2).first().isEqualTo(later);
    }
  }

  @Test
  void publish_failingBeforeItCommits_leavesNothingVisible() {
    try (Database db = openDatabase()) {
      Bundle good = bundle(1, "read");
      JdbcBundleStore.create(db).publish("prod", good.toBytes(), "alice", clock.instant());
      JdbcBundleStore failing = JdbcBundleStore.withFault(db, h -> {
        throw new IllegalStateException("disk gone");
      });

      assertThatThrownBy(() -> failing.publish("prod", bundle(2, "write").toBytes(), "alice",
          clock.instant())).hasMessageContaining("disk gone");

      assertThat(JdbcBundleStore.create(db).headDigest("prod")).contains(good.digest());
    }
  }

  @Test
  void publishStaged_isOnTheChannelButNotItsHead_andARolloutRoundTrips() {
    try (Database db = openDatabase()) {
      JdbcBundleStore store = JdbcBundleStore.create(db);
      Bundle one = bundle(1, "read");
      Bundle two = bundle(2, "write");
      store.publish("prod", one.toBytes(), "alice", clock.instant());
      store.publishStaged("prod", two.toBytes(), "alice", clock.instant());

      assertThat(store.head("prod").orElseThrow().digest()).isEqualTo(one.digest());
      assertThat(store.headDigest("prod")).contains(one.digest());
      assertThat(store.published("prod", two.digest()).orElseThrow().bytes())
          .isEqualTo(two.toBytes());
      assertThat(store.published("staging", two.digest())).isEmpty();

      Rollout started = store.startRollout(new Rollout(0, "prod", two.digest(), 2,
          List.of("gw-a@h/1", "gw-b@h/2"), Rollout.State.STARTED, one.digest(), 0.05,
          Map.of("gw-a@h/1", new Heartbeat.Counters(3, 2, 1)), clock.instant(), "bob", null,
          null, null)).orElseThrow();
      assertThat(store.rollout("prod")).contains(started);
      assertThat(started.canaries()).containsExactly("gw-a@h/1", "gw-b@h/2");
      assertThat(started.baseline()).containsEntry("gw-a@h/1", new Heartbeat.Counters(3, 2, 1));
      assertThat(started.abortOnErrorRate()).isEqualTo(0.05);
      assertThat(store.startRollout(started)).isEmpty(); // one started per channel
      assertThat(store.rollout("staging")).isEmpty();
    }
  }

  @Test
  void endRollout_promoteAndAbortRacing_oneWins_andOnlyAPromoteMovesTheHead() throws Exception {
    try (Database db = openDatabase()) {
      Bundle one = bundle(1, "read");
      Bundle two = bundle(2, "write");
      JdbcBundleStore.create(db).publish("prod", one.toBytes(), "alice", clock.instant());
      JdbcBundleStore.create(db).publishStaged("prod", two.toBytes(), "alice", clock.instant());
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        for (int round = 0; round < 10; round++) {
          Rollout rollout = JdbcBundleStore.create(db).startRollout(new Rollout(0, "prod",
              two.digest(), 2, List.of("gw-a"), Rollout.State.STARTED, one.digest(), null,
              Map.of(), clock.instant(), "bob", null, null, null)).orElseThrow();
          CountDownLatch go = new CountDownLatch(1);
          List<Callable<Optional<Rollout>>> both = List.of(
              () -> {
                go.await();
                return JdbcBundleStore.create(db).endRollout("prod", rollout.id(),
                    Rollout.State.PROMOTED, "carol", clock.instant(), null);
              },
              () -> {
                go.await();
                return JdbcBundleStore.create(db).endRollout("prod", rollout.id(),
                    Rollout.State.ABORTED, "dave", clock.instant(), "no");
              });
          List<Future<Optional<Rollout>>> answers = new ArrayList<>();
          for (Callable<Optional<Rollout>> each : both) {
            answers.add(pool.submit(each));
          }
          go.countDown();
          List<Rollout> won = new ArrayList<>();
          for (Future<Optional<Rollout>> answer : answers) {
            answer.get().ifPresent(won::add);
          }
          assertThat(won).hasSize(1);
          Rollout ended = JdbcBundleStore.create(db).rollout("prod").orElseThrow();
          assertThat(ended.state()).isEqualTo(won.get(0).state());
          String head = JdbcBundleStore.create(db).headDigest("prod").orElseThrow();
          assertThat(head).isEqualTo(ended.state() == Rollout.State.PROMOTED ? two.digest()
              : one.digest());
          JdbcBundleStore.create(db).publish("prod", one.toBytes(), "alice", clock.instant());
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void heartbeat_keepsItsCounters_andPurge_deletesOnlyRowsSeenBeforeTheBound() {
    try (Database db = openDatabase()) {
      JdbcBundleStore store = JdbcBundleStore.create(db);
      java.time.Instant now = clock.instant();
      store.heartbeat(new Heartbeat("old", "h", "1", "prod", "sha256:a", 1, "r", null,
          now.minusSeconds(600), now.minusSeconds(600)));
      store.heartbeat(new Heartbeat("file", "h", "1", null, "sha256:b", 2, "r", null, now, now,
          new Heartbeat.Counters(10, 2, 1)));

      assertThat(store.purgeHeartbeats(now.minusSeconds(60))).isEqualTo(1);

      assertThat(store.heartbeats()).singleElement().satisfies(b -> {
        assertThat(b.instance()).isEqualTo("file");
        assertThat(b.channel()).isNull();
        assertThat(b.counters()).isEqualTo(new Heartbeat.Counters(10, 2, 1));
      });
    }
  }
}
