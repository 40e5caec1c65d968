package dev.sentinel.runner.http.admin;

import dev.sentinel.core.audit.AuditEventJson;
import dev.sentinel.core.operator.AuditFilter;
import dev.sentinel.operator.AuditOperations;
import dev.sentinel.core.operator.AuditTrail;
import dev.sentinel.operator.Operations;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import java.time.Instant;
import java.util.Set;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /admin/api/audit}: the events matching a filter, newest first ({@code GET}); the hash
 * chain checked ({@code GET .../verify}); the oldest records purged ({@code POST .../purge}); all
 * over the operator service's {@link AuditOperations}, with its one parser for times.
 */
final class AuditRoute implements AdminExchange.Route {
  private static final Logger log = LoggerFactory.getLogger(AuditRoute.class);
  /** The number of events a query answers unless it asks for another. */
  static final int DEFAULT_LIMIT = 50;
  /** The most events one query answers. */
  static final int MAX_LIMIT = 500;
  private static final Set<String> PARAMS =
      Set.of("since", "until", "principal", "tool", "outcome", "rule", "limit");
  private static final Set<String> PURGE_FIELDS = Set.of("before", "older_than");

  private final Operations operations;

  AuditRoute(Operations operations) {
    this.operations = operations;
  }

  @Override
  public Answer handle(AdminExchange x) {
    AuditOperations audit = operations.audit();
    if (x.segments(1)) {
      x.allow("GET", "HEAD");
      return Answer.ok(search(audit, x.params(PARAMS)));
    }
    if (x.segments(2) && x.parts()[1].equals("verify")) {
      x.allow("GET", "HEAD");
      return Answer.ok(verify(audit));
    }
    if (x.segments(2) && x.parts()[1].equals("purge")) {
      x.allow("POST");
      return Answer.ok(purge(audit, x.body(PURGE_FIELDS)));
    }
    throw AdminExchange.notFound();
  }

  private static ObjectNode search(AuditOperations audit, Fields params) {
    AuditFilter filter = audit.filter()
        .from("'since'", AdminExchange.param(params, "since"))
        .to("'until'", AdminExchange.param(params, "until"))
        .principal(AdminExchange.param(params, "principal"))
        .tool(AdminExchange.param(params, "tool"))
        .outcome("'outcome'", AdminExchange.param(params, "outcome"))
        .rule(AdminExchange.param(params, "rule"))
        .limit("'limit'", AdminExchange.param(params, "limit"))
        .newestFirst(true)
        .build();
    // Unset is the default; anything above the cap is the cap (the page asks for "all").
    long limit = filter.limit() == Long.MAX_VALUE ? DEFAULT_LIMIT
        : Math.min(filter.limit(), MAX_LIMIT);
    filter = filter.withLimit(limit);
    ObjectNode body = AdminExchange.NODES.objectNode();
    body.put("limit", limit);
    ArrayNode events = body.putArray("events");
    audit.search(filter, (seq, event) -> events.add(AuditEventJson.toJson(event).put("seq", seq)));
    return body;
  }

  private static ObjectNode verify(AuditOperations audit) {
    AuditTrail.Verification v = audit.verify();
    ObjectNode body = AdminExchange.NODES.objectNode();
    body.put("intact", v.intact());
    body.put("checked", v.checked());
    if (v.intact()) {
      body.put("head", audit.head());
    } else {
      body.put("first_bad_seq", v.firstBadSeq());
      body.put("problem", v.problem());
    }
    return body;
  }

  private static ObjectNode purge(AuditOperations audit, ObjectNode request) {
    Instant cut = audit.purgeCut(AdminExchange.text(request, "before"), "'before'",
        AdminExchange.text(request, "older_than"), "'older_than'");
    long deleted = audit.purge(cut);
    log.info("operator purged {} audit records before {}", deleted, cut);
    return AdminExchange.NODES.objectNode()
        .put("deleted", deleted)
        .put("before", cut.toString());
  }
}
