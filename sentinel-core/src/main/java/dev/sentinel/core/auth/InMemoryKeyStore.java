package dev.sentinel.core.auth;

import dev.sentinel.api.KeyStore;
import dev.sentinel.api.StoredKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link KeyStore} in memory, for tests, embedding, and gateways without a database. Keys are
 * lost when the process ends.
 *
 * <p>Thread-safe: keys sit in a {@link ConcurrentHashMap}, and revocation is a compare-and-set
 * so that of two concurrent revocations exactly one reports the key as active.
 */
public final class InMemoryKeyStore implements KeyStore {
  private static final Comparator<Slot> OLDEST_FIRST =
      Comparator.comparing((Slot slot) -> slot.key.created()).thenComparingLong(slot -> slot.order);

  private final ConcurrentHashMap<String, Slot> keys = new ConcurrentHashMap<>();
  private final AtomicLong inserted = new AtomicLong();

  private InMemoryKeyStore() {}

  /** An empty store. */
  public static InMemoryKeyStore create() {
    return new InMemoryKeyStore();
  }

  /** The key with this id, revoked or not. */
  @Override
  public Optional<StoredKey> find(String id) {
    if (id == null) {
      return Optional.empty();
    }
    Slot slot = keys.get(id);
    return slot == null ? Optional.empty() : Optional.of(slot.key);
  }

  /**
   * Stores a new key.
   *
   * @throws IllegalArgumentException if a key with the same id exists
   */
  @Override
  public void insert(StoredKey key) {
    Objects.requireNonNull(key, "key");
    if (keys.putIfAbsent(key.id(), new Slot(key, inserted.getAndIncrement())) != null) {
      throw new IllegalArgumentException("an API key with id '" + key.id() + "' already exists");
    }
  }

  /**
   * Marks a key revoked; answers whether a key with that id existed and was active at the given
   * time. A revoked, expired or unknown key is left unchanged.
   */
  @Override
  public boolean revoke(String id, Instant time) {
    Objects.requireNonNull(time, "time");
    while (true) {
      Slot slot = id == null ? null : keys.get(id);
      if (slot == null || !slot.key.activeAt(time)) {
        return false;
      }
      if (keys.replace(id, slot, new Slot(slot.key.revokedAt(time), slot.order))) {
        return true;
      }
    }
  }

  /** Every stored key, oldest first (by creation time, then by insertion). */
  @Override
  public List<StoredKey> list() {
    List<Slot> slots = new ArrayList<>(keys.values());
    slots.sort(OLDEST_FIRST);
    List<StoredKey> out = new ArrayList<>(slots.size());
    for (Slot slot : slots) {
      out.add(slot.key);
    }
    return List.copyOf(out);
  }

  /** Records the time a key was last used, unless a later use is already recorded. */
  @Override
  public void touch(String id, Instant time) {
    if (id == null || time == null) {
      return;
    }
    keys.computeIfPresent(id, (k, slot) -> {
      Instant last = slot.key.lastUsed();
      return last != null && !time.isAfter(last) ? slot : new Slot(slot.key.usedAt(time), slot.order);
    });
  }

  /** A stored key and its insertion order; compared by identity for compare-and-set. */
  private static final class Slot {
    final StoredKey key;
    final long order;

    Slot(StoredKey key, long order) {
      this.key = key;
      this.order = order;
    }
  }
}
