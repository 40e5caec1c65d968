package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.core.operator.Times;
import dev.sentinel.api.Clock;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.StoredKey;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.IssuedKey;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The API keys' lifecycle as operators run it: create, list, revoke, rotate. A key's secret is in
 * the {@link IssuedKey} that {@link #create} and {@link #rotate} answer, once; the store keeps only
 * its hash, and nothing here answers a hash. Field names in messages are the adapter's ({@code
 * --expires}, {@code 'expires'}), given as {@code expiresField}.
 *
 * <p>Thread-safe as its key store is.
 */
public final class KeyOperations {
  private final KeyStore store;
  private final ApiKeys keys;
  private final Clock clock;

  KeyOperations(KeyStore store, Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.keys = ApiKeys.create(store, clock);
  }

  /** Every key, oldest first; records hold hashes, which adapters never show. */
  public List<StoredKey> list() {
    return keys.list();
  }

  /**
   * Issues a key.
   *
   * @param principal the principal it authenticates as; not blank (stripped)
   * @param roles the roles it grants, each not blank (stripped)
   * @param name a label, or {@code null}
   * @param expires when it stops working, as {@link Times#time} reads it ({@code 30d}, {@code
   *     2026-12-31}), or {@code null} for never; must be in the future
   * @param expiresField the option or field {@code expires} came in, for messages
   * @throws OperatorException ({@code INVALID}) naming the field
   */
  public IssuedKey create(String principal, Collection<String> roles, @Nullable String name,
      @Nullable String expires, String expiresField) {
    if (principal == null || principal.isBlank()) {
      throw OperatorException.invalid("the principal must not be blank");
    }
    Set<String> granted = new LinkedHashSet<>();
    for (String role : roles == null ? List.<String>of() : roles) {
      if (role == null || role.isBlank()) {
        throw OperatorException.invalid("a role must not be blank");
      }
      granted.add(role.strip());
    }
    Instant expiry = expiry(expires, expiresField);
    try {
      return keys.issue(principal.strip(), granted, name, expiry);
    } catch (IllegalArgumentException e) {
      throw OperatorException.invalid(Objects.requireNonNullElse(e.getMessage(), e.toString()));
    }
  }

  /** What {@link #revoke} did. */
  public enum Revocation {
    /** The key was active and is revoked now. */
    REVOKED,
    /** The key had been revoked before; nothing changed. */
    ALREADY_REVOKED,
    /** The key had expired, so it no longer worked; nothing changed. */
    EXPIRED
  }

  /**
   * The outcome of {@link #revoke}.
   *
   * @param key the key as it is now
   * @param revocation what happened
   */
  public record Revoked(StoredKey key, Revocation revocation) {
    /** Validates. */
    public Revoked {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(revocation, "revocation");
    }
  }

  /**
   * Revokes a key at once; gateways on the store stop accepting it within their key cache's
   * lifetime (5 s).
   *
   * @throws OperatorException ({@code NOT_FOUND}) if there is no key with that id
   */
  public Revoked revoke(String id) {
    StoredKey key = find(id);
    if (key.revoked() != null) {
      return new Revoked(key, Revocation.ALREADY_REVOKED);
    }
    if (!keys.revoke(id)) {
      return new Revoked(key, Revocation.EXPIRED);
    }
    return new Revoked(store.find(id).orElse(key), Revocation.REVOKED);
  }

  /**
   * Replaces a key: issues one with the same principal, roles and name, and revokes the old one.
   *
   * @param expires when the new key stops working ({@code 30d}, {@code 2026-12-31}), or {@code
   *     null} for the old key's expiry
   * @throws OperatorException {@code NOT_FOUND} without such a key; {@code CONFLICT} if it was
   *     revoked (rotation must not revive it) or, without {@code expires}, it has expired
   */
  public IssuedKey rotate(String id, @Nullable String expires, String expiresField) {
    StoredKey old = find(id);
    if (old.revoked() != null) {
      throw OperatorException.conflict("API key " + id + " was revoked at "
          + Times.format(old.revoked()) + "; rotation must not revive it: create a new key");
    }
    Instant expiry = expiry(expires, expiresField);
    if (expiry == null && old.expires() != null) {
      if (!old.expires().isAfter(clock.instant())) {
        throw OperatorException.conflict("API key " + id + " expired at "
            + Times.format(old.expires()) + "; give " + expiresField + " for its replacement");
      }
      expiry = old.expires();
    }
    try {
      return keys.rotate(id, expiry);
    } catch (IllegalArgumentException | IllegalStateException e) {
      // Another operator revoked or removed it between find and rotate.
      throw OperatorException.conflict(Objects.requireNonNullElse(e.getMessage(), e.toString()));
    }
  }

  /** A key's status at {@code now}: {@code active}, {@code expired} or {@code revoked}. */
  public static String status(StoredKey key, Instant now) {
    return key.revoked() != null ? "revoked" : key.activeAt(now) ? "active" : "expired";
  }

  private StoredKey find(String id) {
    if (id == null || id.isBlank()) {
      throw OperatorException.invalid("the key id must not be blank");
    }
    return store.find(id).orElseThrow(() -> OperatorException.notFound(
        "no API key with id '" + id + "'"));
  }

  private @Nullable Instant expiry(@Nullable String text, String field) {
    if (text == null || text.isBlank()) {
      return null;
    }
    Instant now = clock.instant();
    Instant when = Times.time(field, text, now, Times.Direction.AHEAD);
    if (!when.isAfter(now)) {
      throw OperatorException.invalid(field + ": " + Times.format(when)
          + " is not in the future");
    }
    return when;
  }
}
