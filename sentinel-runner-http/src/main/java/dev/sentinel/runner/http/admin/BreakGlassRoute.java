package dev.sentinel.runner.http.admin;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.core.Call;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.breakglass.BreakGlassWindow;
import dev.sentinel.operator.BreakGlassOperations;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import dev.sentinel.runner.http.admin.AdminExchange.BadRequest;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /admin/api/breakglass}: the windows ({@code GET}, open ones unless {@code all=true}),
 * opening one ({@code POST} with {@code {"principal", "reason", "ttl", "by"}}), closing one early
 * ({@code POST .../{id}/close} with {@code {"by"}}), and enrolling a principal's TOTP secret
 * ({@code POST .../enroll} with {@code {"principal"}}, answering its {@code otpauth://} URI
 * once), over the operator service's {@link BreakGlassOperations}; all with the operators'
 * token.
 *
 * <p>{@code POST .../self} with {@code {"code", "reason", "ttl"}} is the principal's own door:
 * authenticated by the principal's credentials (its API key or token, as for MCP requests), never
 * by the admin token; it opens a window for that principal alone. A refused code is recorded in
 * the audit trail (method {@value #SELF_METHOD}, rule {@code break_glass}); so is every window
 * opened here, by an operator or with a code ({@value #SELF_METHOD}, allowed), and every early
 * close ({@value #CLOSE_METHOD}).
 */
final class BreakGlassRoute implements AdminExchange.Route {
  /** The method openings, and refused self-service attempts, are recorded under in the audit trail. */
  static final String SELF_METHOD = "sentinel/breakglass/open";
  private static final Logger log = LoggerFactory.getLogger(BreakGlassRoute.class);
  private static final Set<String> LIST_PARAMS = Set.of("all", "limit");
  private static final Set<String> OPEN_FIELDS = Set.of("principal", "reason", "ttl", "by");
  private static final Set<String> CLOSE_FIELDS = Set.of("by");
  private static final Set<String> ENROLL_FIELDS = Set.of("principal");
  private static final Set<String> SELF_FIELDS = Set.of("code", "reason", "ttl");

  /** The method an early close is recorded under in the audit trail. */
  static final String CLOSE_METHOD = "sentinel/breakglass/close";

  private final Operations operations;
  private final Clock clock;
  private final Supplier<Sentinel> sentinel;

  /** @param sentinel the pipeline in force, whose audit trail records each opening and closing */
  BreakGlassRoute(Operations operations, Clock clock, Supplier<Sentinel> sentinel) {
    this.operations = operations;
    this.clock = clock;
    this.sentinel = sentinel;
  }

  /** An opened window, on the record: who opened it, for whom, until when, and why. */
  private void opened(BreakGlassWindow w, String actor) {
    sentinel.get().recordEvent(actor, SELF_METHOD, w.id(), Outcome.ALLOWED,
        "opened a break-glass window for " + w.principal() + " until " + w.expires() + ": "
            + w.reason());
  }

  /** The refusal's reason: the exception's message, which an operator exception always has. */
  private static String reason(OperatorException e) {
    String message = e.getMessage();
    return message == null ? "break-glass code refused" : message;
  }

  @Override
  public Answer handle(AdminExchange x) {
    BreakGlassOperations ops = operations.breakGlass();
    if (x.segments(1)) {
      if (x.is("POST")) {
        ObjectNode body = x.body(OPEN_FIELDS);
        String by = x.by(body, null);
        BreakGlassWindow w = ops.open(AdminExchange.requiredText(body, "principal"),
            AdminExchange.text(body, "reason"), AdminExchange.text(body, "ttl"), by);
        opened(w, by);
        return Answer.ok(json(w, clock.instant()));
      }
      x.allow("GET", "HEAD", "POST");
      return Answer.ok(list(ops, x.params(LIST_PARAMS)));
    }
    if (x.segments(2) && x.parts()[1].equals("enroll")) {
      x.allow("POST");
      String principal = AdminExchange.requiredText(x.body(ENROLL_FIELDS), "principal");
      return Answer.ok(AdminExchange.NODES.objectNode().put("principal", principal.strip())
          .put("uri", ops.enroll(principal)));
    }
    if (x.segments(3) && x.parts()[2].equals("close")) {
      x.allow("POST");
      String by = x.by(x.body(CLOSE_FIELDS), null);
      BreakGlassWindow w = ops.close(x.parts()[1], by);
      sentinel.get().recordEvent(by, CLOSE_METHOD, w.id(), Outcome.ALLOWED,
          "closed the break-glass window of " + w.principal() + " early");
      return Answer.ok(json(w, clock.instant()));
    }
    throw AdminExchange.notFound();
  }

  /**
   * {@code POST /admin/api/breakglass/self}, for a principal its own credentials authenticated.
   */
  Answer self(AdminExchange x, Principal principal, Sentinel sentinel) {
    x.allow("POST");
    ObjectNode body = x.body(SELF_FIELDS);
    String code = AdminExchange.requiredText(body, "code");
    try {
      BreakGlassWindow w = operations.breakGlass().openWithCode(principal.id(), code,
          AdminExchange.text(body, "reason"), AdminExchange.text(body, "ttl"));
      opened(w, w.openedBy());
      return Answer.ok(json(w, clock.instant()));
    } catch (OperatorException e) {
      if (e.kind() == OperatorException.Kind.CONFLICT) {
        // A wrong, replayed or locked-out code: on the record, as refused calls are.
        sentinel.refuse(Call.as(principal, new dev.sentinel.api.Request(SELF_METHOD, null, null,
                AdminExchange.NODES.objectNode())),
            Refusal.of(Outcome.DENIED, List.of(Sentinel.BREAK_GLASS), reason(e)));
        log.info("refused a break-glass code of {}", principal.id());
      }
      throw e;
    }
  }

  private ObjectNode list(BreakGlassOperations ops, Fields params) {
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
    ArrayNode list = body.putArray("windows");
    for (BreakGlassWindow w : ops.list("true".equals(all), limit)) {
      list.add(json(w, now));
    }
    return body;
  }

  private static ObjectNode json(BreakGlassWindow w, Instant now) {
    return AdminExchange.NODES.objectNode()
        .put("id", w.id())
        .put("status", w.status(now))
        .put("principal", w.principal())
        .put("opened_by", w.openedBy())
        .put("reason", w.reason())
        .put("opened", w.opened().toString())
        .put("expires", w.expires().toString())
        .put("closed_by", w.closedBy())
        .put("closed", w.closed() == null ? null : w.closed().toString());
  }
}
