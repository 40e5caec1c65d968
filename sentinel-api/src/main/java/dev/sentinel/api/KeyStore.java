package dev.sentinel.api;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Stored API keys, looked up by their public id. Implementations: in memory (core), SQLite and
 * PostgreSQL (sentinel-jdbc).
 *
 * <p>A key is kept as inserted, every field, until {@link #revoke} or {@link #touch} change it;
 * instants are kept at least to the microsecond (a store may drop finer digits).
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
   * @throws IllegalArgumentException if a key with the same id exists, which is left unchanged;
   *     the message names the id
   */
  void insert(StoredKey key);

  /**
   * Marks a key revoked; answers whether a key with that id existed and was active. Only a key
   * {@linkplain StoredKey#activeAt active at} {@code time} is changed, to revoked at {@code
   * time}; a revoked, expired or unknown key is left unchanged.
   */
  boolean revoke(String id, Instant time);

  /**
   * Every stored key, oldest first (by creation time; the order of keys created at the same
   * instant is up to the store).
   */
  List<StoredKey> list();

  /**
   * Records that a key authenticated a request. Stores may coarsen this (write at most once a
   * minute per key) to keep it off the hot path; the default does nothing. A store that records
   * the use changes only the key's {@code lastUsed}, to {@code time}, and never moves it
   * backwards: a time not after the recorded one, or an unknown id, changes nothing.
   */
  default void touch(String id, Instant time) {}
}
