package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.StoredKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link JdbcKeyStore} must do, whatever database it stands on. Each dialect's test
 * extends this and supplies a fresh, empty database per test.
 */
abstract class KeyStoreContract {
  protected final MutableClock clock = new MutableClock();
  private Database database;
  private JdbcKeyStore store;

  /** A freshly created database, empty of keys; the contract closes it after each test. */
  protected abstract Database openDatabase();

  @BeforeEach
  void openStore() {
    database = openDatabase();
    store = newStore();
  }

  @AfterEach
  void closeDatabase() {
    database.close();
  }

  private JdbcKeyStore newStore() {
    return JdbcKeyStore.builder(database).clock(clock).build();
  }

  private StoredKey key(String id, Instant created) {
    return new StoredKey(
        id, "hash-" + id, "alice", Set.of("reader"), "key " + id, created, null, null, null);
  }

  private StoredKey key(String id) {
    return key(id, clock.instant());
  }

  @Test
  void insert_thenFind_returnsTheSameKey() {
    StoredKey key =
        new StoredKey(
            "k1",
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
            "alice",
            Set.of("reader", "writer"),
            "laptop",
            Instant.parse("2026-01-01T00:00:00.123456Z"),
            Instant.parse("2027-01-01T00:00:00Z"),
            null,
            Instant.parse("2026-01-02T03:04:05.000001Z"));

    store.insert(key);

    assertThat(store.find("k1")).contains(key);
    assertThat(newStore().find("k1")).contains(key);
  }

  @Test
  void find_unknownId_isEmpty() {
    assertThat(store.find("nope")).isEmpty();
  }

  @Test
  void insert_duplicateId_throwsAndKeepsTheFirst() {
    StoredKey first = key("k1");
    store.insert(first);

    StoredKey second =
        new StoredKey("k1", "other", "bob", Set.of(), "", clock.instant(), null, null, null);
    assertThatThrownBy(() -> store.insert(second))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("k1")
        .hasMessageContaining("already exists");

    assertThat(newStore().find("k1")).contains(first);
  }

  @Test
  void revoke_activeKey_answersTrueAndRecordsTheTime() {
    store.insert(key("k1"));
    Instant when = clock.instant().plusSeconds(60);

    assertThat(store.revoke("k1", when)).isTrue();

    assertThat(store.find("k1")).hasValueSatisfying(k -> assertThat(k.revoked()).isEqualTo(when));
    assertThat(newStore().find("k1").orElseThrow().activeAt(when)).isFalse();
  }

  @Test
  void revoke_revokedKey_answersFalseAndKeepsTheFirstTime() {
    store.insert(key("k1"));
    Instant first = clock.instant().plusSeconds(60);
    store.revoke("k1", first);

    assertThat(store.revoke("k1", first.plusSeconds(60))).isFalse();

    assertThat(newStore().find("k1").orElseThrow().revoked()).isEqualTo(first);
  }

  @Test
  void revoke_unknownKey_answersFalse() {
    assertThat(store.revoke("nope", clock.instant())).isFalse();
    assertThat(store.list()).isEmpty();
  }

  @Test
  void revoke_expiredKey_answersFalseAndChangesNothing() {
    Instant created = clock.instant();
    StoredKey expiring =
        new StoredKey(
            "k1", "h", "alice", Set.of(), "", created, created.plusSeconds(10), null, null);
    store.insert(expiring);

    assertThat(store.revoke("k1", created.plusSeconds(20))).isFalse();

    assertThat(newStore().find("k1")).contains(expiring);
  }

  @Test
  void list_returnsOldestFirst() {
    Instant t0 = clock.instant();
    store.insert(key("b", t0.plusSeconds(2)));
    store.insert(key("c", t0));
    store.insert(key("a", t0.plusSeconds(1)));

    assertThat(store.list()).extracting(StoredKey::id).containsExactly("c", "a", "b");
  }

  @Test
  void list_empty_isEmpty() {
    assertThat(store.list()).isEmpty();
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
  void touch_neverMovesLastUsedBackwards() {
    store.insert(key("k1"));
    Instant later = clock.instant().plusSeconds(600);
    newStore().touch("k1", later); // another replica saw a later use

    store.touch("k1", clock.instant());

    assertThat(lastUsed("k1")).isEqualTo(later);
  }

  @Test
  void touch_unknownKey_changesNothing() {
    store.touch("nope", clock.instant());
    assertThat(store.find("nope")).isEmpty();
    assertThat(store.list()).isEmpty();
  }

  @Test
  void roles_roundTrip() {
    Set<String> roles = Set.of("admin", "read-only", "with \"quotes\"", "ünïcödé", "a,b", "[x]");
    store.insert(new StoredKey("many", "h", "p", roles, "", clock.instant(), null, null, null));
    store.insert(new StoredKey("none", "h", "p", Set.of(), "", clock.instant(), null, null, null));

    JdbcKeyStore fresh = newStore();
    assertThat(fresh.find("many").orElseThrow().roles()).isEqualTo(roles);
    assertThat(fresh.find("none").orElseThrow().roles()).isEmpty();
  }

  @Test
  void instants_areKeptToTheMicrosecond() {
    Instant created = Instant.parse("2026-03-04T05:06:07.123456789Z");
    store.insert(key("k1", created));

    assertThat(newStore().find("k1").orElseThrow().created())
        .isEqualTo(Instant.parse("2026-03-04T05:06:07.123456Z"));
  }

  @Test
  void find_revocationThroughAnotherStore_takesEffectWithinTheCacheTtl() {
    store.insert(key("k1"));
    assertThat(store.find("k1").orElseThrow().revoked()).isNull(); // now cached

    JdbcKeyStore otherReplica = newStore();
    assertThat(otherReplica.revoke("k1", clock.instant())).isTrue();

    clock.advance(Duration.ofSeconds(4));
    assertThat(store.find("k1").orElseThrow().revoked()).isNull();
    clock.advance(Duration.ofSeconds(1));
    assertThat(store.find("k1").orElseThrow().revoked()).isNotNull();
  }

  @Test
  void find_insertThroughAnotherStore_isSeenAfterTheCacheTtl() {
    assertThat(store.find("k1")).isEmpty(); // the absence is cached too

    newStore().insert(key("k1"));

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

    newStore().revoke("k1", clock.instant());

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

  private Instant lastUsed(String id) {
    return store.list().stream()
        .filter(k -> k.id().equals(id))
        .findFirst()
        .orElseThrow()
        .lastUsed();
  }
}
