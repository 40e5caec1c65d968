package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.auth.KeyStoreContract;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link dev.sentinel.api.KeyStore} contract for {@link JdbcKeyStore}, plus what it promises
 * beyond the SPI: the read-through cache, touch coarsening and microsecond storage, whatever
 * database it stands on. Each dialect's test extends this and supplies a fresh, empty database
 * per test.
 */
abstract class JdbcKeyStoreContract extends KeyStoreContract {
  private Database database;

  /** A freshly created database, empty of keys; the contract closes it after each test. */
  protected abstract Database openDatabase();

  @Override
  protected JdbcKeyStore newStore(ManualClock clock) {
    database = openDatabase();
    return JdbcKeyStore.builder(database).clock(clock).build();
  }

  /** A second store on the same database, with a cold cache: another replica. */
  @Override
  protected JdbcKeyStore replica() {
    return JdbcKeyStore.builder(database).clock(clock).build();
  }

  @AfterEach
  void closeDatabase() {
    if (database != null) {
      database.close();
    }
  }

  @Test
  void touch_writesLastUsedAtMostOncePerMinutePerKey() {
    store.insert(key("k1"));
    store.insert(key("k2"));
    Instant t0 = clock.instant();

    store.touch("k1", t0);
    assertThat(lastUsed("k1")).isEqualTo(t0);

    clock.advance(Duration.ofSeconds(30));
    store.touch("k1", t0.plusSeconds(30));
    store.touch("k2", t0.plusSeconds(30)); // another key is not held back by k1's write
    assertThat(lastUsed("k1")).isEqualTo(t0);
    assertThat(lastUsed("k2")).isEqualTo(t0.plusSeconds(30));

    clock.advance(Duration.ofSeconds(30));
    store.touch("k1", t0.plusSeconds(60));
    assertThat(lastUsed("k1")).isEqualTo(t0.plusSeconds(60));
  }

  @Test
  void instants_areKeptToTheMicrosecond() {
    Instant created = Instant.parse("2026-03-04T05:06:07.123456789Z");
    store.insert(key("k1", created));

    assertThat(replica().find("k1").orElseThrow().created())
        .isEqualTo(Instant.parse("2026-03-04T05:06:07.123456Z"));
  }

  @Test
  void find_revocationThroughAnotherStore_takesEffectWithinTheCacheTtl() {
    store.insert(key("k1"));
    assertThat(store.find("k1").orElseThrow().revoked()).isNull(); // now cached

    assertThat(replica().revoke("k1", clock.instant())).isTrue();

    clock.advance(Duration.ofSeconds(4));
    assertThat(store.find("k1").orElseThrow().revoked()).isNull();
    clock.advance(Duration.ofSeconds(1));
    assertThat(store.find("k1").orElseThrow().revoked()).isNotNull();
  }

  @Test
  void find_insertThroughAnotherStore_isSeenAfterTheCacheTtl() {
    assertThat(store.find("k1")).isEmpty(); // the absence is cached too

    replica().insert(key("k1"));

    assertThat(store.find("k1")).isEmpty();
    clock.advance(Duration.ofSeconds(5));
    assertThat(store.find("k1")).isPresent();
  }

  @Test
  void find_afterLocalRevoke_seesItAtOnce() {
    store.insert(key("k1"));
    store.find("k1");

    store.revoke("k1", clock.instant());

    assertThat(store.find("k1").orElseThrow().revoked()).isNotNull();
  }

  @Test
  void find_withCacheDisabled_readsTheDatabaseEveryTime() {
    JdbcKeyStore uncached =
        JdbcKeyStore.builder(database).clock(clock).cacheTtl(Duration.ZERO).build();
    uncached.insert(key("k1"));
    uncached.find("k1");

    replica().revoke("k1", clock.instant());

    assertThat(uncached.find("k1").orElseThrow().revoked()).isNotNull();
  }

  @Test
  void find_beyondMaxEntries_staysCorrect() {
    JdbcKeyStore small = JdbcKeyStore.builder(database).clock(clock).maxEntries(2).build();
    for (String id : new String[] {"a", "b", "c", "d"}) {
      small.insert(key(id));
    }
    for (String id : new String[] {"a", "b", "c", "d", "a", "e"}) {
      assertThat(small.find(id).isPresent()).as(id).isEqualTo(!id.equals("e"));
    }
  }

  /** The last use as stored, read past the cache. */
  private Instant lastUsed(String id) {
    return store.list().stream()
        .filter(k -> k.id().equals(id))
        .findFirst()
        .orElseThrow()
        .lastUsed();
  }
}
