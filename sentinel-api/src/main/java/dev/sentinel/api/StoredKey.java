package dev.sentinel.api;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * An API key as stored: its public id and the hash of its secret, never the secret.
 *
 * @param id the public key id, embedded in the key text for direct lookup
 * @param hash the secret's hash, as produced by the key issuer (hex)
 * @param principal the id of the principal the key authenticates
 * @param roles the roles the key grants
 * @param name a human label (who or what the key is for)
 * @param created when the key was issued
 * @param expires when the key stops working, or {@code null} for never
 * @param revoked when the key was revoked, or {@code null}
 * @param lastUsed when the key last authenticated a request, or {@code null}
 */
public record StoredKey(
    String id,
    String hash,
    String principal,
    Set<String> roles,
    String name,
    Instant created,
    @Nullable Instant expires,
    @Nullable Instant revoked,
    @Nullable Instant lastUsed) {

  /** Validates and copies. */
  public StoredKey {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(hash, "hash");
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(created, "created");
    roles = Set.copyOf(roles);
    name = name == null ? "" : name;
  }

  /** Whether the key authenticates at the given time: not revoked and not expired. */
  public boolean activeAt(Instant time) {
    return revoked == null && (expires == null || time.isBefore(expires));
  }

  /** The same key, revoked at the given time. */
  public StoredKey revokedAt(Instant time) {
    return new StoredKey(id, hash, principal, roles, name, created, expires, time, lastUsed);
  }

  /** The same key, last used at the given time. */
  public StoredKey usedAt(Instant time) {
    return new StoredKey(id, hash, principal, roles, name, created, expires, revoked, time);
  }
}
