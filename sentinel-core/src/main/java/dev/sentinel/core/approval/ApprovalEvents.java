package dev.sentinel.core.approval;

import dev.sentinel.core.notify.Notification;
import java.time.Instant;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The notifications of the approval queue: {@code approval.pending} when a call is queued,
 * {@code approval.decided} when an operator approves or denies. They name the approval, the
 * caller, the call and the rule, never the arguments (operators read those with {@code sentinel
 * approvals show}). Stateless.
 */
public final class ApprovalEvents {
  private ApprovalEvents() {}

  /** A call is waiting for approval. */
  public static Notification pending(Approval a) {
    return new Notification("approval.pending", a.created(),
        a.principal() + " asks to run " + a.name() + " (rule " + a.rule()
            + (a.reason().isEmpty() ? "" : ": " + a.reason()) + "); approve with"
            + " 'sentinel approvals approve " + a.id() + " --as <you>' before " + a.expires(),
        fields(a));
  }

  /** An operator approved or denied; {@code by} is who. */
  public static Notification decided(Approval a, String by, Instant time) {
    String verb = a.status() == Approval.Status.DENIED ? "denied"
        : a.status() == Approval.Status.APPROVED ? "approved" : "approved (" + a.approvers().size()
            + " of " + a.quorum() + ")";
    ObjectNode data = fields(a).put("by", by);
    return new Notification("approval.decided", time,
        by + " " + verb + " " + a.principal() + "'s " + a.name() + " (approval " + a.id() + ")",
        data);
  }

  private static ObjectNode fields(Approval a) {
    ObjectNode data = JsonNodeFactory.instance.objectNode()
        .put("approval", a.id())
        .put("status", a.status().name().toLowerCase(java.util.Locale.ROOT))
        .put("principal", a.principal())
        .put("backend", a.backend())
        .put("method", a.method())
        .put("name", a.name())
        .put("rule", a.rule())
        .put("reason", a.reason())
        .put("quorum", a.quorum())
        .put("expires", a.expires().toString());
    a.approvers().forEach(data.putArray("approvers")::add);
    return data;
  }
}
