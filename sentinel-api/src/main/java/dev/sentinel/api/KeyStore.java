package dev.sentinel.api;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Stored API keys, looked up by their public id. Implementations: in memory (core), SQLite and
 * PostgreSQL (sentinel-jdbc).
 *
 * <p>Implementations must be thread-safe. {@link #find} is on the hot path of every
 * authenticated request and should be fast or cached.
 */
public interface KeyStore {

  /** The key with this id, revoked or not. */
  Optional<StoredKey> find(String id);

  /**
   * Stores a new key.
   *
   * @throws IllegalArgumentException if a key with the same id exists
   */
  void insert(StoredKey key);

  /** Marks a key revoked; answers whether a key with that id existed and was active. */
  boolean revoke(String id, Instant time);

  /** Every stored key, oldest first. */
  List<StoredKey> list();

  /**
   * Records that a key authenticated a request. Stores may coarsen this (write at most once a
   * minute per key) to keep it off the hot path; the default does nothing.
   */
  default void touch(String id, Instant time) {}
}
