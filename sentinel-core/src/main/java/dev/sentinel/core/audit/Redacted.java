package dev.sentinel.core.audit;

import java.util.Objects;
import tools.jackson.databind.JsonNode;

/**
 * A value made safe for the audit trail, with the fingerprint of what it was.
 *
 * @param value the redacted, size-bounded copy; never the caller's node
 * @param digest {@code sha256:} and the lowercase hex SHA-256 of the original value's {@link
 *     CanonicalJson canonical} bytes
 * @param size the length in bytes of the original value's canonical form
 */
public record Redacted(JsonNode value, String digest, long size) {

  /** Validates. */
  public Redacted {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(digest, "digest");
    if (!digest.startsWith("sha256:")) {
      throw new IllegalArgumentException("digest must start with sha256:, got " + digest);
    }
    if (size < 0) {
      throw new IllegalArgumentException("size must not be negative, got " + size);
    }
  }
}
