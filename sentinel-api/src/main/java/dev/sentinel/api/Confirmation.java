package dev.sentinel.api;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A human's answer to a request that needed confirmation.
 *
 * @param approved whether the request may proceed
 * @param by who answered (an operator id), or {@code null} when nobody did
 * @param reason why, for the audit trail and the caller; may be empty
 */
public record Confirmation(boolean approved, @Nullable String by, String reason) {

  /** Validates. */
  public Confirmation {
    Objects.requireNonNull(reason, "reason");
  }

  /** Approved by someone. */
  public static Confirmation approve(@Nullable String by) {
    return new Confirmation(true, by, "");
  }

  /** Rejected, with a reason. */
  public static Confirmation reject(@Nullable String by, String reason) {
    return new Confirmation(false, by, reason);
  }
}
