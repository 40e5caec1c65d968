package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.core.operator.Times;
import dev.sentinel.api.Clock;
import dev.sentinel.core.approval.Approval;
import dev.sentinel.core.approval.ApprovalEvents;
import dev.sentinel.core.approval.ApprovalStore;
import dev.sentinel.core.notify.Notifier;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The approval queue as operators work it: list, show, approve, deny. The rules are here, once:
 * the approver is never the caller (four eyes), each operator counts once toward a quorum, and
 * only a pending approval that has not expired can be decided. Each decision is one atomic update
 * of the stored approval, so two operators deciding at once on two gateways both count, or the
 * second is told it was decided already. Thread-safe as its store is.
 */
public final class ApprovalOperations {
  /** The most approvals a list answers. */
  public static final int MAX_LIST = 500;

  private final ApprovalStore store;
  private final Clock clock;
  private final Notifier notifier;

  ApprovalOperations(ApprovalStore store, Clock clock, Notifier notifier) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.notifier = Objects.requireNonNull(notifier, "notifier");
  }

  /**
   * The newest approvals first.
   *
   * @param all every approval, or only those still pending (not expired)
   * @param limit at most this many, 1 to {@value #MAX_LIST}
   */
  public List<Approval> list(boolean all, int limit) {
    if (limit < 1 || limit > MAX_LIST) {
      throw OperatorException.invalid("the limit must be 1 to " + MAX_LIST + ", got " + limit);
    }
    Instant now = clock.instant();
    List<Approval> newest = store.list(all ? limit : MAX_LIST);
    return all ? newest : newest.stream()
        .filter(a -> a.status(now) == Approval.Status.PENDING).limit(limit).toList();
  }

  /**
   * One approval.
   *
   * @throws OperatorException ({@code NOT_FOUND}) without one of this id
   */
  public Approval show(String id) {
    if (id == null || id.isBlank()) {
      throw OperatorException.invalid("the approval id must not be blank");
    }
    return store.find(id.strip()).orElseThrow(() -> OperatorException.notFound(
        "no approval with id '" + id + "'"));
  }

  /**
   * Approves, as {@code approver}.
   *
   * @return the approval now: {@code APPROVED} once its quorum is met, else still pending
   * @throws OperatorException {@code INVALID} without an approver; {@code NOT_FOUND}; {@code
   *     CONFLICT} when the approver is the caller, approved it already, or it is not pending
   */
  public Approval approve(String id, String approver) {
    String by = who(approver);
    return decide(id, by, a -> {
      if (a.principal().equals(by)) {
        throw OperatorException.conflict("four eyes: " + by + " made this call and cannot "
            + "approve it; another operator must");
      }
      if (a.approvers().contains(by)) {
        throw OperatorException.conflict(by + " approved " + a.id() + " already; it needs "
            + (a.quorum() - a.approvers().size()) + " more approval(s) from other operators");
      }
      return a.approvedBy(by);
    });
  }

  /**
   * Denies, as {@code approver}, for {@code reason} ({@code null} for none); the call is refused
   * with it.
   *
   * @throws OperatorException {@code INVALID} without an approver; {@code NOT_FOUND}; {@code
   *     CONFLICT} when it is not pending
   */
  public Approval deny(String id, String approver, @Nullable String reason) {
    String by = who(approver);
    String why = reason == null ? "" : reason.strip();
    return decide(id, by, a -> a.deniedBy(by, why));
  }

  private Approval decide(String id, String by, java.util.function.UnaryOperator<Approval> step) {
    Approval before = show(id);
    Instant now = clock.instant();
    Approval after = store.update(before.id(), a -> {
      Approval.Status status = a.status(now);
      if (status != Approval.Status.PENDING) {
        throw OperatorException.conflict("approval " + a.id() + " is " + label(status)
            + (status == Approval.Status.EXPIRED ? " (at " + Times.format(a.expires()) + ")"
                : "") + "; only a pending approval can be decided");
      }
      return step.apply(a);
    }).orElseThrow(() -> OperatorException.notFound("no approval with id '" + id + "'"));
    notifier.send(ApprovalEvents.decided(after, by, now));
    return after;
  }

  private static String who(String approver) {
    if (approver == null || approver.isBlank()) {
      throw OperatorException.invalid("say who decides: the approver's principal id");
    }
    return approver.strip();
  }

  /** A status as operators read it. */
  public static String label(Approval.Status status) {
    return status.name().toLowerCase(java.util.Locale.ROOT);
  }
}
