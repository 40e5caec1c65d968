package dev.sentinel.core.policy;

import java.time.Duration;
import java.util.Objects;

/**
 * How a policy's {@code break_glass:} section bounds emergency windows. Written beside its rules:
 *
 * <pre>{@code
 * break_glass:
 *   max_ttl: 1h          # the longest window anyone may open (default 1h, at most 24h)
 *   totp_attempts: 5     # wrong TOTP codes in a row before a lockout (default 5)
 *   totp_lockout: 15m    # how long codes are then refused (default 15m)
 *   rules:               # consulted first, only for a principal whose window is open
 *     - id: oncall-db-write
 *       allow: { roles: [oncall], tools: ["db__*"] }
 *       reason: on-call may write to the database in an emergency
 * }</pre>
 *
 * @param maxTtl the longest a window may last, 1 minute to {@link #MAX_TTL}
 * @param totpAttempts wrong codes in a row before codes are refused, 1 to {@value #MAX_ATTEMPTS}
 * @param totpLockout how long codes are refused after that, 1 minute to {@link #MAX_TTL}
 */
public record BreakGlassSettings(Duration maxTtl, int totpAttempts, Duration totpLockout) {
  /** The longest window a policy may allow, and the longest lockout. */
  public static final Duration MAX_TTL = Duration.ofHours(24);
  /** The shortest window, and the shortest lockout. */
  public static final Duration MIN_TTL = Duration.ofMinutes(1);
  /** The most wrong codes a policy may allow before a lockout. */
  public static final int MAX_ATTEMPTS = 100;
  /** Windows of at most an hour; five wrong codes lock codes out for 15 minutes. */
  public static final BreakGlassSettings DEFAULTS =
      new BreakGlassSettings(Duration.ofHours(1), 5, Duration.ofMinutes(15));

  /** Validates. */
  public BreakGlassSettings {
    Objects.requireNonNull(maxTtl, "maxTtl");
    Objects.requireNonNull(totpLockout, "totpLockout");
    if (maxTtl.compareTo(MIN_TTL) < 0 || maxTtl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("max_ttl must be 1m to 24h, got " + maxTtl);
    }
    if (totpAttempts < 1 || totpAttempts > MAX_ATTEMPTS) {
      throw new IllegalArgumentException("totp_attempts must be 1 to " + MAX_ATTEMPTS + ", got "
          + totpAttempts);
    }
    if (totpLockout.compareTo(MIN_TTL) < 0 || totpLockout.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("totp_lockout must be 1m to 24h, got " + totpLockout);
    }
  }
}
