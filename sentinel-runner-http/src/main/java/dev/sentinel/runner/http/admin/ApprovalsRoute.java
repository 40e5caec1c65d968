package dev.sentinel.runner.http.admin;

import dev.sentinel.api.Clock;
import dev.sentinel.core.approval.Approval;
import dev.sentinel.operator.ApprovalOperations;
import dev.sentinel.operator.Operations;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import dev.sentinel.runner.http.admin.AdminExchange.BadRequest;
import java.time.Instant;
import java.util.Set;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /admin/api/approvals}: the calls {@code confirm} rules hold ({@code GET}, pending ones
 * unless {@code all=true}), one of them ({@code GET .../{id}}), and decisions ({@code POST
 * .../{id}/approve} or {@code .../deny} with {@code {"by": principal}} and, to deny, an optional
 * {@code reason}), over the operator service's {@link ApprovalOperations}.
 */
final class ApprovalsRoute implements AdminExchange.Route {
  private static final Logger log = LoggerFactory.getLogger(ApprovalsRoute.class);
  private static final Set<String> LIST_PARAMS = Set.of("all", "limit");
  private static final Set<String> APPROVE_FIELDS = Set.of("by");
  private static final Set<String> DENY_FIELDS = Set.of("by", "reason");

  private final Operations operations;
  private final Clock clock;

  ApprovalsRoute(Operations operations, Clock clock) {
    this.operations = operations;
    this.clock = clock;
  }

  @Override
  public Answer handle(AdminExchange x) {
    ApprovalOperations approvals = operations.approvals();
    if (x.segments(1)) {
      x.allow("GET", "HEAD");
      return Answer.ok(list(approvals, x.params(LIST_PARAMS)));
    }
    if (x.segments(2)) {
      x.allow("GET", "HEAD");
      return Answer.ok(json(approvals.show(x.parts()[1]), clock.instant()));
    }
    if (x.segments(3) && x.parts()[2].equals("approve")) {
      x.allow("POST");
      String by = x.by(x.body(APPROVE_FIELDS), null);
      Approval a = approvals.approve(x.parts()[1], by);
      log.info("operator {} approved {} ({} of {})", by, a.id(), a.approvers().size(),
          a.quorum());
      return Answer.ok(json(a, clock.instant()));
    }
    if (x.segments(3) && x.parts()[2].equals("deny")) {
      x.allow("POST");
      ObjectNode body = x.body(DENY_FIELDS);
      String by = x.by(body, null);
      Approval a = approvals.deny(x.parts()[1], by, AdminExchange.text(body, "reason"));
      log.info("operator {} denied {}", by, a.id());
      return Answer.ok(json(a, clock.instant()));
    }
    throw AdminExchange.notFound();
  }

  private ObjectNode list(ApprovalOperations approvals, Fields params) {
    String all = AdminExchange.param(params, "all");
    if (all != null && !all.equals("true") && !all.equals("false")) {
      throw new BadRequest(400, "'all' must be true or false");
    }
    int limit = 50;
    String text = AdminExchange.param(params, "limit");
    if (text != null) {
      try {
        limit = Integer.parseInt(text.strip());
      } catch (NumberFormatException e) {
        throw new BadRequest(400, "'limit' must be a whole number");
      }
    }
    Instant now = clock.instant();
    ObjectNode body = AdminExchange.NODES.objectNode();
    ArrayNode list = body.putArray("approvals");
    for (Approval a : approvals.list("true".equals(all), limit)) {
      list.add(json(a, now));
    }
    return body;
  }

  private static ObjectNode json(Approval a, Instant now) {
    ObjectNode node = AdminExchange.NODES.objectNode()
        .put("id", a.id())
        .put("status", ApprovalOperations.label(a.status(now)))
        .put("principal", a.principal())
        .put("backend", a.backend())
        .put("method", a.method())
        .put("name", a.name())
        .put("rule", a.rule())
        .put("reason", a.reason())
        .put("revision", a.revision())
        .put("digest", a.digest())
        .put("created", a.created().toString())
        .put("expires", a.expires().toString())
        .put("quorum", a.quorum())
        .put("decided_by", a.decidedBy())
        .put("note", a.note())
        .put("used", a.used() == null ? null : a.used().toString());
    ArrayNode approvers = node.putArray("approvers");
    a.approvers().forEach(approvers::add);
    try {
      node.set("arguments", AdminExchange.MAPPER.readTree(a.arguments()));
    } catch (JacksonException e) {
      node.put("arguments", a.arguments());
    }
    return node;
  }
}
