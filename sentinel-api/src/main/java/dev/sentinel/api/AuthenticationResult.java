package dev.sentinel.api;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The answer of an {@link Authenticator}: a principal, or a refusal with a reason for the audit
 * trail. Callers are only ever told a generic message, never the reason.
 *
 * @param principal the authenticated principal, or {@code null} when refused
 * @param reason why authentication failed (for the audit trail), or {@code null} on success
 */
public record AuthenticationResult(@Nullable Principal principal, @Nullable String reason) {

  /** Validates that exactly one of the two is present. */
  public AuthenticationResult {
    if ((principal == null) == (reason == null)) {
      throw new IllegalArgumentException("exactly one of principal and reason must be set");
    }
  }

  /** A successful authentication. */
  public static AuthenticationResult success(Principal principal) {
    return new AuthenticationResult(Objects.requireNonNull(principal, "principal"), null);
  }

  /** A refusal; the reason goes to the audit trail, not to the caller. */
  public static AuthenticationResult failure(String reason) {
    return new AuthenticationResult(null, Objects.requireNonNull(reason, "reason"));
  }

  /** Whether a principal was established. */
  public boolean authenticated() {
    return principal != null;
  }
}
