package dev.sentinel.core;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Refusal;
import org.jspecify.annotations.Nullable;

/**
 * The answer to {@link Sentinel#check}: what the pipeline would decide, without invoking,
 * consuming limits or writing the audit trail.
 *
 * @param decision the policy's decision, or {@code null} when refused before the policy
 * @param refusal the refusal the call would get from authentication, the kill switch or the
 *     policy, or {@code null} when it would proceed (subject to limits and confirmation)
 */
public record Check(@Nullable Decision decision, @Nullable Refusal refusal) {

  /** Whether the call would proceed past authentication, the kill switch and the policy. */
  public boolean permitted() {
    return refusal == null;
  }
}
