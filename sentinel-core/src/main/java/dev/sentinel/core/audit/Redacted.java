package dev.sentinel.core.audit;

import java.util.Objects;
import tools.jackson.databind.JsonNode;

/**
 * A value made safe for the audit trail, with the fingerprint of what it was.
 *
 * @param value the redacted, size-bounded copy; never the caller's node
 * @param digest the keyed digest of the original value's {@link CanonicalJson canonical} bytes,
 *     {@code hmac-sha256:<key id>:<hex>} (see {@link DigestKey}); never a plain hash, which would
 *     give a redacted low-entropy secret back to anyone hashing guesses
 * @param size the length in bytes of the original value's canonical form
 */
public record Redacted(JsonNode value, String digest, long size) {

  /** Validates. */
  public Redacted {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(digest, "digest");
    if (!digest.startsWith(DigestKey.PREFIX)) {
      throw new IllegalArgumentException(
          "digest must be keyed, starting with " + DigestKey.PREFIX + ", got " + digest);
    }
    if (size < 0) {
      throw new IllegalArgumentException("size must not be negative, got " + size);
    }
  }
}
