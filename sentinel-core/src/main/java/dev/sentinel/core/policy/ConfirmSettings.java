package dev.sentinel.core.policy;

import dev.sentinel.api.Policy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How a {@code confirm} rule's calls are approved: by whom, by how many operators other than the
 * caller, how long the call waits, and how long an approval stays good. Written beside the rule:
 *
 * <pre>{@code
 * - id: refunds
 *   confirm: { tools: ["billing__refund"] }
 *   reason: refunds need a second person
 *   by: operator      # caller, operator or either (default: the gateway's, see below)
 *   approvals: 2      # distinct operators, none of them the caller (default 1)
 *   wait: 2m          # the call waits this long for them (default 0: refused at once, retried)
 *   expires: 1h       # the request, and an approval not yet used, lapse after this (default 1h)
 * }</pre>
 *
 * @param approvals how many distinct operators must approve, 1 to {@value #MAX_APPROVALS}
 * @param waitFor how long a call waits for the approval before it is refused, 0 to {@link #MAX_WAIT}
 * @param expires how long a request and an unused approval stay good, 1 minute to {@link
 *     #MAX_EXPIRES}
 * @param by who confirms, or {@code null} when the rule does not say: then the gateway's default
 *     ({@link By#EITHER} where one person runs the gateway for themselves, {@code sentinel stdio};
 *     {@link By#OPERATOR} where it serves a team, {@code sentinel http})
 */
public record ConfirmSettings(
    int approvals, Duration waitFor, Duration expires, @Nullable By by) {
  /** The most approvals a rule can ask for. */
  public static final int MAX_APPROVALS = 10;
  /** The longest a call may wait: a waiting call holds its client's request open. */
  public static final Duration MAX_WAIT = Duration.ofMinutes(15);
  /** The shortest time a request stays good. */
  public static final Duration MIN_EXPIRES = Duration.ofMinutes(1);
  /** The longest time a request or an approval stays good. */
  public static final Duration MAX_EXPIRES = Duration.ofDays(7);
  /**
   * How long the caller has to answer when the rule gives no {@code wait}: a human reading a
   * question, within the minute MCP clients commonly wait for a request.
   */
  public static final Duration CALLER_WAIT = Duration.ofSeconds(60);
  /** One approval, no waiting, good for an hour, by the gateway's default. */
  public static final ConfirmSettings DEFAULTS =
      new ConfirmSettings(1, Duration.ZERO, Duration.ofHours(1), null);

  /** Who confirms a call. */
  public enum By {
    /**
     * The human at the client that made the call, asked through MCP elicitation; a client that
     * cannot be asked has the call refused. The caller confirms its own call: this trusts the
     * client application to show the question to its human.
     */
    CALLER,
    /** Operators other than the caller, through the approval queue (four eyes). */
    OPERATOR,
    /** The caller if its client can be asked, else the operators. */
    EITHER
  }

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

  /** Settings by the gateway's default confirmer. */
  public ConfirmSettings(int approvals, Duration waitFor, Duration expires) {
    this(approvals, waitFor, expires, null);
  }

  /** Who confirms: the rule's choice, else {@code fallback}. */
  public By by(By fallback) {
    return by != null ? by : Objects.requireNonNull(fallback, "fallback");
  }

  /**
   * The strictest settings of the confirm rules that decided a call, under {@code policy}: the
   * most approvals, the longest wait, the shortest expiry, and operators over the caller ({@link
   * By#OPERATOR} if any rule says so; else the gateway's default if any rule leaves it; else
   * {@link By#EITHER} when the rules disagree). The defaults when
   * the policy is not a {@link PolicyEngine} or no rule gives settings.
   */
  public static ConfirmSettings strictest(Policy policy, List<String> rules) {
    if (!(policy instanceof PolicyEngine)) {
      return DEFAULTS;
    }
    PolicyEngine engine = (PolicyEngine) policy;
    ConfirmSettings strictest = null;
    for (String rule : rules) {
      ConfirmSettings s = engine.confirmation(rule).orElse(null);
      if (s == null) {
        continue;
      }
      strictest = strictest == null ? s : new ConfirmSettings(
          Math.max(strictest.approvals, s.approvals),
          strictest.waitFor.compareTo(s.waitFor) >= 0 ? strictest.waitFor : s.waitFor,
          strictest.expires.compareTo(s.expires) <= 0 ? strictest.expires : s.expires,
          stricter(strictest.by, s.by));
    }
    return strictest == null ? DEFAULTS : strictest;
  }

  /** Operators if either rule says so; else the gateway's default if either rule leaves it. */
  private static @Nullable By stricter(@Nullable By a, @Nullable By b) {
    if (a == By.OPERATOR || b == By.OPERATOR) {
      return By.OPERATOR;
    }
    if (a == null || b == null) {
      return null;
    }
    return a == b ? a : By.EITHER;
  }
}
