package dev.sentinel.core.approval;

import dev.sentinel.api.Caller;
import dev.sentinel.api.Confirmation;
import dev.sentinel.api.Confirmer;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Policy;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.policy.ConfirmSettings;
import dev.sentinel.core.policy.ConfirmSettings.By;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import tools.jackson.databind.json.JsonMapper;

/**
 * A {@link Confirmer} that sends each call a {@code confirm} rule holds to whoever the rule says
 * confirms it ({@code by:}): the human at the client that made the call ({@link By#CALLER},
 * asked through the call's {@link Caller}), the operators ({@link By#OPERATOR}, through the
 * operators' confirmer, such as an {@link ApprovalConfirmer}), or the caller when it can be asked
 * and the operators otherwise ({@link By#EITHER}). A rule that does not say gets the gateway's
 * default.
 *
 * <p>The caller is shown the request (method, backend, name), its arguments redacted as the audit
 * trail redacts them, and the rule's reason, and has the rule's {@code wait} to answer ({@link
 * ConfirmSettings#CALLER_WAIT} when the rule gives none). Only an accept runs the call. The
 * answer is bound to this call: the question goes to the call's own session under an id of the
 * gateway's, or (MCP 2026-07-28) comes back with a signed state bound to the digest of the
 * principal, the request and the policy revision, which another call cannot use. A caller that
 * cannot be asked, under {@code by: caller}, has the call refused.
 * Thread-safe.
 */
public final class RoutingConfirmer implements Confirmer {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  /** How much of the redacted arguments the question shows. */
  static final int MAX_SHOWN_ARGUMENTS = 1_000;

  private final Confirmer operators;
  private final Supplier<Policy> policy;
  private final Supplier<String> revision;
  private final By fallback;
  private final Redactor redactor;

  private RoutingConfirmer(Confirmer operators, Supplier<Policy> policy, Supplier<String> revision,
      By fallback, Redactor redactor) {
    this.operators = operators;
    this.policy = policy;
    this.revision = revision;
    this.fallback = fallback;
    this.redactor = redactor;
  }

  /**
   * A confirmer routing by the rules' {@code by}.
   *
   * @param operators who confirms for the operators ({@link Confirmer#rejectAll()} without an
   *     approval queue)
   * @param policy the policy in force, read at each call, for its rules' settings
   * @param revision the policy revision in force, read at each call: part of what a caller's
   *     answer is bound to, as an operator's approval is
   * @param fallback who confirms when the rules do not say
   * @param redactor how the caller sees the arguments (as the audit trail's redactor)
   */
  public static RoutingConfirmer create(Confirmer operators, Supplier<Policy> policy,
      Supplier<String> revision, By fallback, Redactor redactor) {
    return new RoutingConfirmer(Objects.requireNonNull(operators, "operators"),
        Objects.requireNonNull(policy, "policy"), Objects.requireNonNull(revision, "revision"),
        Objects.requireNonNull(fallback, "fallback"), Objects.requireNonNull(redactor, "redactor"));
  }

  @Override
  public Confirmation confirm(RequestContext context, Decision decision) {
    return confirm(context, decision, Caller.unreachable());
  }

  @Override
  public Confirmation confirm(RequestContext context, Decision decision, Caller caller) {
    ConfirmSettings settings = ConfirmSettings.strictest(policy.get(), decision.rules());
    By by = settings.by(fallback);
    if (by == By.OPERATOR || by == By.EITHER && !caller.askable()) {
      return operators.confirm(context, decision, caller);
    }
    String rule = rule(decision);
    if (!caller.askable()) {
      return Confirmation.reject(null, "this call needs its caller's confirmation, and the client"
          + " cannot be asked: it did not declare elicitation for forms");
    }
    Duration timeout = settings.waitFor().isZero() ? ConfirmSettings.CALLER_WAIT : settings.waitFor();
    String principal = context.principal().id();
    // The refusal and the audit event name the rules already: the reasons say what happened.
    String binding = ApprovalConfirmer.digest(context, revision.get());
    switch (caller.confirm(question(context.request(), decision, rule), binding, timeout)) {
      case ACCEPTED:
        return new Confirmation(true, principal, "confirmed by the caller " + principal);
      case DECLINED:
        return Confirmation.reject(principal, "the caller declined to confirm this call");
      case CANCELLED:
        return Confirmation.reject(principal, "the caller dismissed the confirmation of this call");
      case TIMED_OUT:
        return Confirmation.reject(null, "the caller did not confirm this call within "
            + timeout.toSeconds() + " s, or cancelled it");
      case INPUT_REQUIRED:
        return Confirmation.reject(null, "the caller was asked to confirm this call (input"
            + " required); its client answers by sending the call again");
      case STALE:
        return Confirmation.reject(null, "the answer sent with this call does not confirm it: it"
            + " was given for another call or policy revision, altered, used before, or expired;"
            + " send the call without it to be asked again");
      default:
        return Confirmation.reject(null, "the caller could not be asked to confirm this call: its"
            + " session ended or its client failed to answer");
    }
  }

  /** What the human at the client reads. */
  String question(Request request, Decision decision, String rule) {
    StringBuilder text = new StringBuilder("Sentinel asks you to confirm this call before it runs.\n");
    text.append(request.method());
    if (request.name() != null) {
      text.append(": ").append(request.name());
    }
    if (request.backend() != null) {
      text.append(" (backend ").append(request.backend()).append(')');
    }
    if (request.arguments() != null && !request.arguments().isNull()) {
      String arguments = JSON.writeValueAsString(redactor.redact(request.arguments()).value());
      text.append("\nArguments: ").append(arguments.length() <= MAX_SHOWN_ARGUMENTS ? arguments
          : arguments.substring(0, MAX_SHOWN_ARGUMENTS) + "... (" + arguments.length() + " characters)");
    }
    text.append("\nWhy: ").append(decision.reason().isEmpty() ? "a confirm rule holds it"
        : decision.reason()).append(" (rule ").append(rule).append(')');
    text.append("\nAccept to run it once; decline to refuse it.");
    return text.toString();
  }

  private static String rule(Decision decision) {
    return decision.rules().isEmpty() ? "confirm" : String.join(", ", decision.rules());
  }
}
