package dev.sentinel.api;

import java.util.List;
import java.util.Objects;

/**
 * A policy's answer, as a value: the effect, the rules that produced it, a reason that is safe to
 * show the caller, and diagnostics for operators (errors met while deciding).
 *
 * @param effect allow, deny or confirm
 * @param rules the ids of the rules that decided the effect, most significant first; empty for
 *     the default deny
 * @param reason a short text safe to show the caller (it comes from the policy author)
 * @param diagnostics errors and notes for operators; never shown to callers
 */
public record Decision(Effect effect, List<String> rules, String reason, List<String> diagnostics) {

  /** The reason of the default deny. */
  public static final String NO_RULE_ALLOWS = "no rule allows this request";

  private static final Decision DEFAULT_DENY =
      new Decision(Effect.DENY, List.of(), NO_RULE_ALLOWS, List.of());

  /** Validates and copies. */
  public Decision {
    Objects.requireNonNull(effect, "effect");
    rules = List.copyOf(rules);
    reason = reason == null ? "" : reason;
    diagnostics = List.copyOf(diagnostics);
  }

  /** The deny given when no rule matches. */
  public static Decision defaultDeny() {
    return DEFAULT_DENY;
  }

  /** An allow by the given rules. */
  public static Decision allow(List<String> rules, String reason) {
    return new Decision(Effect.ALLOW, rules, reason, List.of());
  }

  /** A deny by the given rules. */
  public static Decision deny(List<String> rules, String reason) {
    return new Decision(Effect.DENY, rules, reason, List.of());
  }

  /**
   * The deny given when a decider failed: fail closed, with the error in the diagnostics and a
   * generic reason for the caller.
   */
  public static Decision failure(String what, Throwable error) {
    return new Decision(
        Effect.DENY,
        List.of(),
        what + " failed; the request was refused",
        List.of(what + " threw " + error.getClass().getName() + ": " + error.getMessage()));
  }

  /** Whether the request may proceed, possibly after confirmation. */
  public boolean permits() {
    return effect.permits();
  }
}
