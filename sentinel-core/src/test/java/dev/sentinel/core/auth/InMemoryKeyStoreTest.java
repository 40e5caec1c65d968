package dev.sentinel.core.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.KeyStore;
import dev.sentinel.api.StoredKey;
import dev.sentinel.core.testing.ManualClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The key store contract in memory, and what this store chooses beyond it. */
class InMemoryKeyStoreTest extends KeyStoreContract {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Override
  protected KeyStore newStore(ManualClock clock) {
    return InMemoryKeyStore.create(); // it keeps no time of its own
  }

  @Test
  void touch_recordsTheLatestUse() {
    store.insert(new StoredKey("k", "00", "alice", Set.of(), null, T0, null, null, null));
    store.touch("k", T0.plusSeconds(10));
    store.touch("k", T0.plusSeconds(5));
    assertThat(store.find("k").orElseThrow().lastUsed()).isEqualTo(T0.plusSeconds(10));
  }

  @Test
  void list_sameCreationTime_keepsInsertionOrder() {
    for (String id : List.of("z", "a", "m")) {
      store.insert(new StoredKey(id, "00", "alice", Set.of(), null, T0, null, null, null));
    }
    assertThat(store.list()).extracting(StoredKey::id).containsExactly("z", "a", "m");
  }

  @Test
  void revoke_concurrently_exactlyOneWins() throws Exception {
    store.insert(new StoredKey("k", "00", "alice", Set.of(), null, T0, null, null, null));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<Boolean>> tasks = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        tasks.add(() -> store.revoke("k", T0));
      }
      int winners = 0;
      for (Future<Boolean> future : pool.invokeAll(tasks)) {
        winners += future.get() ? 1 : 0;
      }
      assertThat(winners).isEqualTo(1);
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(1, TimeUnit.MINUTES);
    }
  }
}
