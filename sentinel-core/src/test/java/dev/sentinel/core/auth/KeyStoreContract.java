package dev.sentinel.core.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.KeyStore;
import dev.sentinel.api.StoredKey;
import dev.sentinel.core.testing.ManualClock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link KeyStore} must have: what the SPI's Javadoc promises, and nothing
 * an implementation is free to choose (coarsening of touches, the order of keys created at the
 * same instant, caching). Each implementation's test extends this, in sentinel-core's test-jar
 * for other modules, supplies an empty store per test, and adds its own cases.
 */
public abstract class KeyStoreContract {
  /** The time of the store under test (its cache, its touch coarsening); tests advance it. */
  protected final ManualClock clock = new ManualClock();

  /** The store under test, new and empty for each test. */
  protected KeyStore store;

  /** A new, empty store that measures time, if it does, on the given clock. */
  protected abstract KeyStore newStore(ManualClock clock);

  /**
   * Another store over the same stored keys as {@link #store}, as a second replica would open
   * it, to see what was stored rather than what {@link #store} remembers. By default the store
   * itself, for stores that have nothing beyond their own memory.
   */
  protected KeyStore replica() {
    return store;
  }

  @BeforeEach
  void openStore() {
    store = newStore(clock);
  }

  /** A key with every field but the expiry, revocation and last use, created at the given time. */
  protected static StoredKey key(String id, Instant created) {
    return new StoredKey(
        id, "hash-" + id, "alice", Set.of("reader"), "key " + id, created, null, null, null);
  }

  /** A key created now. */
  protected StoredKey key(String id) {
    return key(id, clock.instant());
  }

  @Test
  void find_unknownId_isEmpty() {
    assertThat(store.find("nope")).isEmpty();
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
            Instant.parse("2026-06-01T00:00:00.000001Z"),
            Instant.parse("2026-01-02T03:04:05.000001Z"));

    store.insert(key);

    assertThat(store.find("k1")).contains(key);
    assertThat(replica().find("k1")).contains(key);
    assertThat(replica().list()).containsExactly(key);
  }

  @Test
  void insert_duplicateId_throwsAndKeepsTheFirst() {
    StoredKey first = key("k1");
    store.insert(first);

    StoredKey second =
        new StoredKey("k1", "other", "bob", Set.of(), "", clock.instant(), null, null, null);
    assertThatThrownBy(() -> store.insert(second))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("k1");

    assertThat(store.find("k1")).contains(first);
    assertThat(replica().find("k1")).contains(first);
  }

  @Test
  void roles_roundTrip() {
    Set<String> roles = Set.of("admin", "read-only", "with \"quotes\"", "ünïcödé", "a,b", "[x]");
    store.insert(new StoredKey("many", "h", "p", roles, "", clock.instant(), null, null, null));
    store.insert(new StoredKey("none", "h", "p", Set.of(), "", clock.instant(), null, null, null));

    assertThat(replica().find("many").orElseThrow().roles()).isEqualTo(roles);
    assertThat(replica().find("none").orElseThrow().roles()).isEmpty();
  }

  @Test
  void instants_areKeptToTheMicrosecondOrBetter() {
    Instant created = Instant.parse("2026-03-04T05:06:07.123456789Z");
    store.insert(key("k1", created));

    Instant found = replica().find("k1").orElseThrow().created();

    assertThat(found).isBetween(created.truncatedTo(ChronoUnit.MICROS), created);
  }

  @Test
  void revoke_activeKey_answersTrueAndRecordsTheTime() {
    StoredKey key = key("k1");
    store.insert(key);
    Instant when = clock.instant().plusSeconds(60);

    assertThat(store.revoke("k1", when)).isTrue();

    assertThat(store.find("k1")).contains(key.revokedAt(when));
    assertThat(replica().find("k1")).contains(key.revokedAt(when));
  }

  @Test
  void revoke_revokedKey_answersFalseAndKeepsTheFirstTime() {
    store.insert(key("k1"));
    Instant first = clock.instant().plusSeconds(60);
    store.revoke("k1", first);

    assertThat(store.revoke("k1", first.plusSeconds(60))).isFalse();

    assertThat(store.find("k1").orElseThrow().revoked()).isEqualTo(first);
    assertThat(replica().find("k1").orElseThrow().revoked()).isEqualTo(first);
  }

  @Test
  void revoke_unknownKey_answersFalse() {
    assertThat(store.revoke("nope", clock.instant())).isFalse();

    assertThat(store.find("nope")).isEmpty();
    assertThat(replica().list()).isEmpty();
  }

  @Test
  void revoke_expiredKey_answersFalseAndChangesNothing() {
    Instant created = clock.instant();
    StoredKey expiring =
        new StoredKey(
            "k1", "h", "alice", Set.of(), "", created, created.plusSeconds(10), null, null);
    store.insert(expiring);

    assertThat(store.revoke("k1", created.plusSeconds(20))).isFalse();

    assertThat(store.find("k1")).contains(expiring);
    assertThat(replica().find("k1")).contains(expiring);
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
  void touch_recordsTheTimeGivenOrNothing() {
    StoredKey key = key("k1");
    store.insert(key);
    Instant when = clock.instant().plusSeconds(30);

    store.touch("k1", when);

    // Stores may coarsen or skip touches; one that records a use changes lastUsed only.
    Optional<StoredKey> found = replica().find("k1");
    assertThat(found).isIn(Optional.of(key), Optional.of(key.usedAt(when)));
  }

  @Test
  void touch_neverMovesLastUsedBackwards() {
    Instant later = clock.instant().plusSeconds(600);
    StoredKey usedLater = key("k1").usedAt(later); // as if another replica had seen a later use
    store.insert(usedLater);

    store.touch("k1", clock.instant());

    assertThat(replica().find("k1")).contains(usedLater);
  }

  @Test
  void touch_unknownKey_changesNothing() {
    store.touch("nope", clock.instant());

    assertThat(store.find("nope")).isEmpty();
    assertThat(replica().list()).isEmpty();
  }
}
