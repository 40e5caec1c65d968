package dev.sentinel.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Why a request was refused, in a safe, stable form for the caller: the outcome (a stable code),
 * the deciding rule ids, a reason from the policy author or a fixed text, and for limits the
 * wait before a retry can succeed. Never contains secrets, stack traces or other principals'
 * data.
 *
 * @param outcome the refusal's kind; {@link Outcome#refusal()} is true
 * @param rules the ids of the deciding rules or limits; may be empty
 * @param reason a short text for the caller
 * @param retryAfter the wait before a retry may succeed; zero when not applicable
 */
public record Refusal(Outcome outcome, List<String> rules, String reason, Duration retryAfter) {

  /** Validates and copies. */
  public Refusal {
    Objects.requireNonNull(outcome, "outcome");
    if (!outcome.refusal()) {
      throw new IllegalArgumentException(outcome + " is not a refusal");
    }
    rules = List.copyOf(rules);
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(retryAfter, "retryAfter");
  }

  /** A refusal with no retry hint. */
  public static Refusal of(Outcome outcome, List<String> rules, String reason) {
    return new Refusal(outcome, rules, reason, Duration.ZERO);
  }

  /**
   * One line for the caller, such as {@code denied by rule no-destructive-sql: destructive SQL is
   * not allowed}.
   */
  public String message() {
    StringBuilder text = new StringBuilder(verb());
    if (!rules.isEmpty()) {
      text.append(rules.size() == 1 ? " by rule " : " by rules ").append(String.join(", ", rules));
    }
    if (!reason.isEmpty()) {
      text.append(": ").append(reason);
    }
    if (!retryAfter.isZero()) {
      text.append(" (retry after ").append(Math.max(1, retryAfter.toMillis())).append(" ms)");
    }
    return text.toString();
  }

  /**
   * The stable JSON-RPC error code every Sentinel front end answers this refusal with (the
   * gateways, the MCP SDK adapter): {@code -32011} unauthenticated, {@code -32012} denied by the
   * policy, {@code -32013} disabled by the kill switch, {@code -32014} rate limited, {@code -32015}
   * not confirmed, {@code -32016} the audit trail is unavailable.
   */
  public int code() {
    switch (outcome) {
      case UNAUTHENTICATED:
        return -32011;
      case DISABLED:
        return -32013;
      case LIMITED:
        return -32014;
      case UNCONFIRMED:
        return -32015;
      case UNAVAILABLE:
        return -32016;
      default:
        return -32012;
    }
  }

  private String verb() {
    switch (outcome) {
      case UNAUTHENTICATED:
        return "authentication failed";
      case DISABLED:
        return "disabled by the kill switch";
      case LIMITED:
        return "rate limited";
      case UNCONFIRMED:
        return "not confirmed";
      case UNAVAILABLE:
        return "refused while the audit trail is unavailable";
      default:
        return "denied";
    }
  }
}
