package dev.sentinel.core.policy;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@code confirm} rule's calls are approved: by how many operators other than the caller,
 * how long the call waits for them, and how long an approval stays good. Written beside the rule:
 *
 * <pre>{@code
 * - id: refunds
 *   confirm: { tools: ["billing__refund"] }
 *   reason: refunds need a second person
 *   approvals: 2      # distinct operators, none of them the caller (default 1)
 *   wait: 2m          # the call waits this long for them (default 0: refused at once, retried)
 *   expires: 1h       # the request, and an approval not yet used, lapse after this (default 1h)
 * }</pre>
 *
 * @param approvals how many distinct operators must approve, 1 to {@value #MAX_APPROVALS}
 * @param waitFor how long a call waits for the approval before it is refused, 0 to {@link #MAX_WAIT}
 * @param expires how long a request and an unused approval stay good, 1 minute to {@link
 *     #MAX_EXPIRES}
 */
public record ConfirmSettings(int approvals, Duration waitFor, Duration expires) {
  /** The most approvals a rule can ask for. */
  public static final int MAX_APPROVALS = 10;
  /** The longest a call may wait: a waiting call holds its client's request open. */
  public static final Duration MAX_WAIT = Duration.ofMinutes(15);
  /** The shortest time a request stays good. */
  public static final Duration MIN_EXPIRES = Duration.ofMinutes(1);
  /** The longest time a request or an approval stays good. */
  public static final Duration MAX_EXPIRES = Duration.ofDays(7);
  /** One approval, no waiting, good for an hour. */
  public static final ConfirmSettings DEFAULTS =
      new ConfirmSettings(1, Duration.ZERO, Duration.ofHours(1));

  /** Validates. */
  public ConfirmSettings {
    Objects.requireNonNull(waitFor, "waitFor");
    Objects.requireNonNull(expires, "expires");
    if (approvals < 1 || approvals > MAX_APPROVALS) {
      throw new IllegalArgumentException("approvals must be 1 to " + MAX_APPROVALS + ", got "
          + approvals);
    }
    if (waitFor.isNegative() || waitFor.compareTo(MAX_WAIT) > 0) {
      throw new IllegalArgumentException("wait must be 0 to 15m, got " + waitFor);
    }
    if (expires.compareTo(MIN_EXPIRES) < 0 || expires.compareTo(MAX_EXPIRES) > 0) {
      throw new IllegalArgumentException("expires must be 1m to 7d, got " + expires);
    }
  }
}
