package dev.sentinel.core.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.KeyStore;
import dev.sentinel.api.StoredKey;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link KeyStore} must have. Each implementation's test extends this and
 * supplies an empty store.
 */
public abstract class KeyStoreContract {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  /** A new, empty store. */
  protected abstract KeyStore store();

  private static StoredKey key(String id, Instant created) {
    return new StoredKey(id, "ab".repeat(32), "alice", Set.of("dev"), "laptop", created, null, null, null);
  }

  @Test
  void find_unknownId_isEmpty() {
    assertThat(store().find("nope")).isEmpty();
  }

  @Test
  void insert_thenFind_returnsTheKey() {
    KeyStore store = store();
    StoredKey key = key("aaaaaaaaaaaa", T0);
    store.insert(key);
    assertThat(store.find("aaaaaaaaaaaa")).contains(key);
  }

  @Test
  void insert_duplicateId_isRejected() {
    KeyStore store = store();
    store.insert(key("aaaaaaaaaaaa", T0));
    assertThatThrownBy(() -> store.insert(key("aaaaaaaaaaaa", T0.plusSeconds(1))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void revoke_marksOnce() {
    KeyStore store = store();
    store.insert(key("aaaaaaaaaaaa", T0));
    assertThat(store.revoke("aaaaaaaaaaaa", T0.plusSeconds(5))).isTrue();
    assertThat(store.revoke("aaaaaaaaaaaa", T0.plusSeconds(6))).isFalse();
    assertThat(store.find("aaaaaaaaaaaa").orElseThrow().revoked()).isEqualTo(T0.plusSeconds(5));
    assertThat(store.revoke("unknown", T0)).isFalse();
  }

  @Test
  void list_oldestFirst() {
    KeyStore store = store();
    store.insert(key("bbbbbbbbbbbb", T0.plusSeconds(10)));
    store.insert(key("aaaaaaaaaaaa", T0));
    store.insert(key("cccccccccccc", T0.plusSeconds(20)));
    assertThat(store.list())
        .extracting(StoredKey::id)
        .containsExactly("aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc");
  }

  @Test
  void touch_recordsLastUse() {
    KeyStore store = store();
    store.insert(key("aaaaaaaaaaaa", T0));
    store.touch("aaaaaaaaaaaa", T0.plusSeconds(30));
    Instant lastUsed = store.find("aaaaaaaaaaaa").orElseThrow().lastUsed();
    // Stores may coarsen or skip touches; if they record one, it is the time given.
    if (lastUsed != null) {
      assertThat(lastUsed).isEqualTo(T0.plusSeconds(30));
    }
    store.touch("unknown", T0);
  }
}
