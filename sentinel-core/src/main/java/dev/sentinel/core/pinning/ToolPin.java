package dev.sentinel.core.pinning;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What is pinned for one backend tool: the approved definition, and the definition the backend
 * lists now when it differs (held until an operator approves it).
 *
 * @param backend the backend's name
 * @param tool the tool's name as the backend lists it (without the gateway's prefix)
 * @param digest the approved definition's digest ({@link ToolDefinitions#digest}), or {@code
 *     null} when no definition is approved yet (one first seen with hidden instructions while
 *     they are blocked)
 * @param definition the approved definition's canonical JSON, or {@code null} with {@code digest}
 * @param pendingDigest the digest of a listed definition that differs from the approved one and
 *     awaits an operator, or {@code null} when none does
 * @param pendingDefinition its canonical JSON, or {@code null} with {@code pendingDigest}
 * @param rejected whether an operator rejected the pending definition (it stays held)
 * @param updatedAt when the pin last changed
 * @param updatedBy who changed it last: {@code first-use}, {@code gateway} or an operator's name
 */
public record ToolPin(
    String backend,
    String tool,
    @Nullable String digest,
    @Nullable String definition,
    @Nullable String pendingDigest,
    @Nullable String pendingDefinition,
    boolean rejected,
    Instant updatedAt,
    String updatedBy) {

  /** Validates. */
  public ToolPin {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(updatedAt, "updatedAt");
    Objects.requireNonNull(updatedBy, "updatedBy");
    if ((digest == null) != (definition == null)) {
      throw new IllegalArgumentException("digest and definition go together");
    }
    if ((pendingDigest == null) != (pendingDefinition == null)) {
      throw new IllegalArgumentException("pendingDigest and pendingDefinition go together");
    }
    if (digest == null && pendingDigest == null) {
      throw new IllegalArgumentException("a pin needs an approved or a pending definition");
    }
    if (rejected && pendingDigest == null) {
      throw new IllegalArgumentException("only a pending definition can be rejected");
    }
  }

  /** Whether a listed definition awaits an operator. */
  public boolean held() {
    return pendingDigest != null;
  }

  /** Whether the definition with this digest is the approved one. */
  public boolean approves(String listedDigest) {
    return digest != null && digest.equals(listedDigest);
  }

  /** A copy with the pending definition cleared. */
  ToolPin settled(String definitionDigest, String canonical, Instant at, String by) {
    return new ToolPin(backend, tool, definitionDigest, canonical, null, null, false, at, by);
  }

  /** A copy holding another definition for an operator. */
  ToolPin holding(String listedDigest, String canonical, Instant at, String by) {
    return new ToolPin(backend, tool, digest, definition, listedDigest, canonical, false, at, by);
  }

  /** A copy whose pending definition is rejected. */
  ToolPin reject(Instant at, String by) {
    return new ToolPin(backend, tool, digest, definition, pendingDigest, pendingDefinition, true,
        at, by);
  }
}
