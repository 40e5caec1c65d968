package dev.sentinel.core.approval;

import dev.sentinel.api.Caller;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Confirmation;
import dev.sentinel.api.Confirmer;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Policy;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.core.policy.ConfirmSettings;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A {@link Confirmer} that asks operators through an {@link ApprovalStore}: the first time a
 * {@code confirm} rule holds a call, a pending approval is queued for it; the call waits for the
 * rule's {@code wait} (refused at once by default) and, once the rule's quorum of operators other
 * than the caller approved, the identical call (same principal, method, backend, name, arguments
 * and policy revision) runs, once. A denied, expired or still pending approval refuses the call
 * with its id and what to do, so that the caller (or the agent's human) can ask an operator and
 * call again.
 *
 * <p>The binding is the digest of the canonical JSON of the call as sent: another tool, other
 * arguments, another principal or a changed policy make another digest, which no approval
 * covers. Thread-safe.
 */
public final class ApprovalConfirmer implements Confirmer {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
  private static final Duration POLL = Duration.ofMillis(250);
  private static final int NOTICE_SECONDS = 5;
  /** How often a waiting caller hears that it still waits. */
  private static final Duration NOTICE = Duration.ofSeconds(NOTICE_SECONDS);

  private final ApprovalStore store;
  private final Clock clock;
  private final Supplier<Policy> policy;
  private final Supplier<String> revision;
  private final Redactor redactor;
  private final Duration poll;
  private final Notifier notifier;
  private final SecureRandom random = new SecureRandom();

  private ApprovalConfirmer(ApprovalStore store, Clock clock, Supplier<Policy> policy,
      Supplier<String> revision, Redactor redactor, Duration poll, Notifier notifier) {
    this.store = store;
    this.clock = clock;
    this.policy = policy;
    this.revision = revision;
    this.redactor = redactor;
    this.poll = poll;
    this.notifier = notifier;
  }

  /**
   * A confirmer on {@code store}.
   *
   * @param policy the policy in force, read at each call: its confirm rules' {@link
   *     ConfirmSettings} (a policy that is not a {@code PolicyEngine} gets the defaults)
   * @param revision the revision in force, read at each call: part of what an approval binds
   * @param redactor how the arguments operators see are redacted (as the audit trail's)
   */
  public static ApprovalConfirmer create(ApprovalStore store, Clock clock,
      Supplier<Policy> policy, Supplier<String> revision, Redactor redactor) {
    return new ApprovalConfirmer(Objects.requireNonNull(store, "store"),
        Objects.requireNonNull(clock, "clock"), Objects.requireNonNull(policy, "policy"),
        Objects.requireNonNull(revision, "revision"), Objects.requireNonNull(redactor, "redactor"),
        POLL, Notifier.none());
  }

  /** This confirmer looking at the store every {@code interval} while a call waits. */
  public ApprovalConfirmer polling(Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("the poll interval must be positive");
    }
    return new ApprovalConfirmer(store, clock, policy, revision, redactor, interval, notifier);
  }

  /**
   * This confirmer telling {@code notifier} of each call it queues ({@code approval.pending}),
   * so that operators need not watch the queue.
   */
  public ApprovalConfirmer notifying(Notifier notifier) {
    return new ApprovalConfirmer(store, clock, policy, revision, redactor, poll,
        Objects.requireNonNull(notifier, "notifier"));
  }

  @Override
  public Confirmation confirm(RequestContext context, Decision decision) {
    return confirm(context, decision, Caller.unreachable());
  }

  /**
   * Queues the call (or finds its open approval) and waits up to the rule's {@code wait} for the
   * operators; while it waits, the caller hears every {@value #NOTICE_SECONDS} seconds that it does
   * (as progress, when it asked for that), and a caller that gives up stops the wait.
   */
  @Override
  public Confirmation confirm(RequestContext context, Decision decision, Caller caller) {
    ConfirmSettings settings = ConfirmSettings.strictest(policy.get(), decision.rules());
    String policyRevision = revision.get();
    String digest = digest(context, policyRevision);
    String principal = context.principal().id();
    Instant now = clock.instant();
    Approval approval = store.open(principal, digest, now)
        .orElseGet(() -> queue(context, decision, settings, digest, policyRevision, now));
    long started = clock.nanoTime();
    long deadline = started + settings.waitFor().toNanos();
    long nextNotice = started + NOTICE.toNanos();
    while (true) {
      Optional<Confirmation> answer = answer(approval.id());
      if (answer.isPresent()) {
        return answer.get();
      }
      long ticks = clock.nanoTime();
      long left = deadline - ticks;
      if (left <= 0) {
        return Confirmation.reject(null, pending(approval));
      }
      if (ticks - nextNotice >= 0) {
        caller.waiting(Duration.ofNanos(ticks - started), "waiting for an operator to approve "
            + approval.id());
        nextNotice = ticks + NOTICE.toNanos();
      }
      LockSupport.parkNanos(Math.min(left, poll.toNanos()));
      if (Thread.currentThread().isInterrupted() || caller.cancelled()) {
        return Confirmation.reject(null, pending(approval));
      }
    }
  }

  /** The final answer for the approval now, or empty while it is pending. */
  private Optional<Confirmation> answer(String id) {
    Instant now = clock.instant();
    Approval current = store.find(id).orElse(null);
    if (current == null) {
      return Optional.of(Confirmation.reject(null, "approval " + id + " was removed"));
    }
    switch (current.status(now)) {
      case APPROVED:
        // Used at most once: of two identical calls racing, one takes it.
        boolean[] took = {false};
        Approval taken = store.update(id, a -> {
          // Set on every run: a store may run the change again after a conflict.
          took[0] = a.status(now) == Approval.Status.APPROVED;
          return took[0] ? a.usedAt(now) : a;
        }).orElse(current);
        if (took[0]) {
          String approvers = String.join(",", taken.approvers());
          return Optional.of(new Confirmation(true, approvers, "approved by " + approvers
              + " (approval " + id + ")"));
        }
        return Optional.of(Confirmation.reject(null, "approval " + id
            + " was used by another call; call again to ask for a new one"));
      case DENIED:
        return Optional.of(Confirmation.reject(current.decidedBy(), "approval " + id
            + " was denied by " + current.decidedBy()
            + (current.note() == null || current.note().isBlank() ? "" : ": " + current.note())));
      case USED:
        return Optional.of(Confirmation.reject(null, "approval " + id + " was used already"));
      case EXPIRED:
        return Optional.of(Confirmation.reject(null, "approval " + id + " expired at "
            + current.expires() + "; call again to ask for a new one"));
      default:
        return Optional.empty();
    }
  }

  private Approval queue(RequestContext context, Decision decision, ConfirmSettings settings,
      String digest, String policyRevision, Instant now) {
    Request request = context.request();
    String rule = decision.rules().isEmpty() ? "confirm" : decision.rules().get(0);
    String arguments = JSON.writeValueAsString(redactor.redact(request.arguments()).value());
    Approval approval = new Approval(newId(), context.principal().id(), request.backend(),
        request.method(), request.name(), arguments, digest, rule, decision.reason(),
        policyRevision, now, now.plus(settings.expires()), settings.approvals(), List.of(),
        Approval.Status.PENDING, null, null, null);
    store.create(approval);
    notifier.send(ApprovalEvents.pending(approval));
    return approval;
  }

  private static String pending(Approval approval) {
    int missing = approval.quorum() - approval.approvers().size();
    return "this call needs approval: approval " + approval.id() + " is pending ("
        + (approval.quorum() == 1 ? "an operator's approval"
            : missing + " more of " + approval.quorum() + " operators' approvals")
        + ", until " + approval.expires() + "): ask an operator to run 'sentinel approvals "
        + "approve " + approval.id() + "', then call again";
  }

  /**
   * What binds an answer to one call: the SHA-256 of the canonical JSON of its principal, method,
   * backend, name, arguments and the policy revision. An operator's approval, a caller's
   * confirmation and a continued call's state ({@link dev.sentinel.api.Caller#continues}) are
   * each bound to it: another tool, other arguments, another principal or another policy
   * revision give another binding.
   *
   * @param context the call as decided
   * @param revision the policy revision in force
   */
  public static String binding(RequestContext context, String revision) {
    return digest(context, revision);
  }

  /** What binds an approval to the call: its canonical JSON's SHA-256. */
  static String digest(RequestContext context, String revision) {
    Request request = context.request();
    ObjectNode call = NODES.objectNode()
        .put("principal", context.principal().id())
        .put("method", request.method())
        .put("backend", request.backend())
        .put("name", request.name())
        .put("revision", revision);
    call.set("arguments", request.arguments() == null ? NODES.nullNode() : request.arguments());
    return CanonicalJson.sha256(call);
  }

  private String newId() {
    char[] id = new char[12];
    for (int i = 0; i < id.length; i++) {
      id[i] = BASE32[random.nextInt(BASE32.length)];
    }
    return new String(id);
  }
}
