package dev.sentinel.core.auth;

import dev.sentinel.api.StoredKey;
import java.util.Objects;

/**
 * A newly issued API key: the full key text, shown to its owner once and never stored, and the
 * record that was stored.
 *
 * @param secret the full key text ({@code snk_<id>_<secret>}) to hand to the key's owner
 * @param key the stored record, which holds only the secret's hash
 */
public record IssuedKey(String secret, StoredKey key) {

  /** Validates that the secret is a key and belongs to the stored record. */
  public IssuedKey {
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(key, "key");
    if (!ApiKeys.looksLikeKey(secret) || !ApiKeys.idOf(secret).equals(key.id())) {
      throw new IllegalArgumentException("secret is not an API key with id '" + key.id() + "'");
    }
  }

  /** The key's public id. */
  public String id() {
    return key.id();
  }

  /** Shows the id and principal, never the secret. */
  @Override
  public String toString() {
    return "IssuedKey[id=" + key.id() + ", principal=" + key.principal() + ", secret=<redacted>]";
  }
}
