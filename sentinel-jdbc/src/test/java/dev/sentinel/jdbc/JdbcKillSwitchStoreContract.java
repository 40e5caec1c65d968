package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.testing.ManualClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a {@link JdbcKillSwitchStore} does on each database. */
abstract class JdbcKillSwitchStoreContract {
  final ManualClock clock = new ManualClock();

  /** A new, empty database. */
  protected abstract Database openDatabase();

  @Test
  void load_onANewDatabase_isEmpty() {
    try (Database db = openDatabase()) {
      assertThat(JdbcKillSwitchStore.create(db, clock).load()).isEqualTo(KillSwitch.State.EMPTY);
    }
  }

  @Test
  void save_thenLoad_byAnotherStore_roundTrips() {
    try (Database db = openDatabase()) {
      KillSwitch.State state = new KillSwitch.State(
          "incident 42", Map.of("fs", "leak"), Map.of("git__*", "bad"), Map.of("bob", "left"));
      JdbcKillSwitchStore.create(db, clock).save(state);
      assertThat(JdbcKillSwitchStore.create(db, clock).load()).isEqualTo(state);
    }
  }

  @Test
  void save_replacesThePreviousState() {
    try (Database db = openDatabase()) {
      JdbcKillSwitchStore store = JdbcKillSwitchStore.create(db, clock);
      store.save(new KillSwitch.State(null, Map.of("fs", "leak"), Map.of(), Map.of()));
      KillSwitch.State next = new KillSwitch.State(null, Map.of(), Map.of("x", "y"), Map.of());
      store.save(next);
      assertThat(store.load()).isEqualTo(next);
      store.save(KillSwitch.State.EMPTY);
      assertThat(store.load()).isEqualTo(KillSwitch.State.EMPTY);
    }
  }

  @Test
  void killSwitchSync_poll_appliesStoredChangesOnce() {
    try (Database db = openDatabase()) {
      JdbcKillSwitchStore store = JdbcKillSwitchStore.create(db, clock);
      KillSwitch killSwitch = KillSwitch.create();
      KillSwitchSync sync = new KillSwitchSync(JdbcKillSwitchStore.create(db, clock), killSwitch);
      assertThat(sync.poll()).isTrue();
      assertThat(killSwitch.state()).isEqualTo(KillSwitch.State.EMPTY);
      KillSwitch.State state = new KillSwitch.State("stop", Map.of(), Map.of(), Map.of());
      store.save(state);
      assertThat(sync.poll()).isTrue();
      assertThat(killSwitch.state()).isEqualTo(state);
      assertThat(sync.poll()).isFalse();
    }
  }

  @Test
  void update_fromManyStoresAtOnce_losesNoChange() throws Exception {
    try (Database db = openDatabase()) {
      int writers = 4;
      int each = 10;
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
          // A store object per writer, as each gateway has its own.
          JdbcKillSwitchStore store = JdbcKillSwitchStore.create(db, clock);
          int writer = w;
          done.add(pool.submit(() -> {
            for (int i = 0; i < each; i++) {
              String tool = "t" + writer + "-" + i;
              store.update(s -> {
                Map<String, String> tools = new TreeMap<>(s.tools());
                tools.put(tool, "r");
                return new KillSwitch.State(s.all(), s.backends(), tools, s.principals());
              });
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(JdbcKillSwitchStore.create(db, clock).load().tools()).hasSize(writers * each);
    }
  }

  @Test
  void update_thatChangesNothing_keepsTheState() {
    try (Database db = openDatabase()) {
      JdbcKillSwitchStore store = JdbcKillSwitchStore.create(db, clock);
      KillSwitch.State state = new KillSwitch.State("stop", Map.of(), Map.of(), Map.of());
      assertThat(store.update(s -> state)).isEqualTo(state);
      assertThat(store.update(s -> s)).isEqualTo(state);
      assertThat(store.load()).isEqualTo(state);
    }
  }
}
