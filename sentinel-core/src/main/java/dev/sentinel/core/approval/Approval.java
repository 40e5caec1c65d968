package dev.sentinel.core.approval;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One call that a {@code confirm} rule holds for operators' approval, and what became of it.
 *
 * @param id the approval's id: 12 lowercase base32 characters
 * @param principal the caller's principal id
 * @param backend the backend the call goes to, or {@code null}
 * @param method the MCP method ({@code tools/call}, ...)
 * @param name the tool, prompt or resource named
 * @param arguments the call's arguments, redacted as the audit trail keeps them (JSON text)
 * @param digest {@code sha256:} of the canonical JSON of the principal, method, backend, name,
 *     the arguments as sent, and the policy revision: what binds an approval to this exact call
 * @param rule the confirm rule that asked
 * @param reason the rule's reason, shown to operators
 * @param revision the policy revision the call was decided under
 * @param created when the call was first held
 * @param expires when the request, and an approval not yet used, lapse
 * @param quorum how many distinct operators must approve
 * @param approvers who approved so far, in order; never the caller
 * @param status where it stands ({@link #status(Instant)} also says {@code EXPIRED})
 * @param decidedBy who denied it, or {@code null}
 * @param note the denier's reason, or {@code null}
 * @param used when the approved call ran, or {@code null}
 */
public record Approval(String id, String principal, @Nullable String backend, String method, @Nullable String name,
    String arguments, String digest, String rule, String reason, String revision,
    Instant created, Instant expires, int quorum, List<String> approvers, Status status,
    @Nullable String decidedBy, @Nullable String note, @Nullable Instant used) {

  /** Where an approval stands. */
  public enum Status {
    /** Waiting for operators. */
    PENDING,
    /** Enough operators approved; the identical call may run once. */
    APPROVED,
    /** An operator denied it. */
    DENIED,
    /** The approved call ran; it cannot run again on this approval. */
    USED,
    /** It lapsed before it was decided or used (never stored: see {@link #status(Instant)}). */
    EXPIRED
  }

  /** Validates and copies. */
  public Approval {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(created, "created");
    Objects.requireNonNull(expires, "expires");
    Objects.requireNonNull(status, "status");
    if (status == Status.EXPIRED) {
      throw new IllegalArgumentException("EXPIRED is computed from the time, never stored");
    }
    if (quorum < 1) {
      throw new IllegalArgumentException("quorum must be at least 1, got " + quorum);
    }
    approvers = List.copyOf(approvers);
    reason = reason == null ? "" : reason;
    arguments = arguments == null ? "{}" : arguments;
    name = name == null ? "" : name;
  }

  /** The status at {@code now}: {@link Status#EXPIRED} once a pending or unused approval lapsed. */
  public Status status(Instant now) {
    boolean open = status == Status.PENDING || status == Status.APPROVED;
    return open && !now.isBefore(expires) ? Status.EXPIRED : status;
  }

  /** This approval with one more operator's approval, approved once the quorum is met. */
  public Approval approvedBy(String approver) {
    List<String> all = new ArrayList<>(approvers);
    all.add(approver);
    Status next = all.size() >= quorum ? Status.APPROVED : Status.PENDING;
    return new Approval(id, principal, backend, method, name, arguments, digest, rule, reason,
        revision, created, expires, quorum, all, next, decidedBy, note, used);
  }

  /** This approval denied by {@code by}, for {@code why}. */
  public Approval deniedBy(String by, String why) {
    return new Approval(id, principal, backend, method, name, arguments, digest, rule, reason,
        revision, created, expires, quorum, approvers, Status.DENIED, by, why, used);
  }

  /** This approval used by its call at {@code time}. */
  public Approval usedAt(Instant time) {
    return new Approval(id, principal, backend, method, name, arguments, digest, rule, reason,
        revision, created, expires, quorum, approvers, Status.USED, decidedBy, note, time);
  }
}
