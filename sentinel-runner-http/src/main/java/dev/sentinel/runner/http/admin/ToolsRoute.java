package dev.sentinel.runner.http.admin;

import dev.sentinel.operator.Operations;
import dev.sentinel.operator.PinOperations;
import dev.sentinel.core.pinning.ToolDefinitions;
import dev.sentinel.core.pinning.ToolPin;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import dev.sentinel.runner.http.admin.AdminExchange.BadRequest;
import java.util.List;
import java.util.Set;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /admin/api/tools}: the tool-definition pins over the operator service's {@link
 * PinOperations}. {@code GET pins} lists them ({@code ?held=true}: only those held); {@code GET
 * pins/BACKEND/TOOL} shows one with its semantic diff and hidden instructions; {@code POST
 * pins/BACKEND/TOOL/approve} ({@code {"digest": ..., "by": ...}}) and {@code .../reject} decide a
 * held definition; {@code POST pin} ({@code {"backend": ..., "tools": [...]}}) pins ahead. A
 * change made here applies to this gateway at once, and to the others on the database within a
 * second.
 */
final class ToolsRoute implements AdminExchange.Route {
  private static final Logger log = LoggerFactory.getLogger(ToolsRoute.class);
  private static final Set<String> LIST_PARAMS = Set.of("held");
  private static final Set<String> DECIDE_FIELDS = Set.of("digest", "by");
  private static final Set<String> PIN_FIELDS = Set.of("backend", "tools", "by");
  /** Who decides when the request does not say: the admin API's one token names nobody. */
  static final String DEFAULT_BY = "admin-api";

  private final Operations operations;

  ToolsRoute(Operations operations) {
    this.operations = operations;
  }

  @Override
  public Answer handle(AdminExchange x) {
    PinOperations pins = operations.pins();
    String[] parts = x.parts();
    if (x.segments(2) && parts[1].equals("pins")) {
      x.allow("GET", "HEAD");
      Fields params = x.params(LIST_PARAMS);
      String held = AdminExchange.param(params, "held");
      if (held != null && !held.equals("true") && !held.equals("false")) {
        throw new BadRequest(400, "'held' must be true or false");
      }
      List<ToolPin> list = "true".equals(held) ? pins.held() : pins.list();
      ObjectNode body = AdminExchange.NODES.objectNode();
      ArrayNode items = body.putArray("pins");
      list.forEach(pin -> items.add(json(pin)));
      return Answer.ok(body);
    }
    if (x.segments(4) && parts[1].equals("pins")) {
      x.allow("GET", "HEAD");
      return Answer.ok(json(pins.review(parts[2], parts[3])));
    }
    if (x.segments(5) && parts[1].equals("pins")
        && (parts[4].equals("approve") || parts[4].equals("reject"))) {
      x.allow("POST");
      ObjectNode body = x.body(DECIDE_FIELDS);
      String by = x.by(body, DEFAULT_BY);
      ToolPin pin;
      if (parts[4].equals("approve")) {
        pin = pins.approve(parts[2], parts[3], AdminExchange.text(body, "digest"), by);
      } else {
        if (body.has("digest")) {
          throw new BadRequest(400, "'digest' goes with approve");
        }
        pin = pins.reject(parts[2], parts[3], by);
      }
      log.info("{} {}d the held definition of tool {} of backend {}", by, parts[4],
          parts[3], parts[2]);
      return Answer.ok(json(pin));
    }
    if (x.segments(2) && parts[1].equals("pin")) {
      x.allow("POST");
      ObjectNode body = x.body(PIN_FIELDS);
      String by = x.by(body, DEFAULT_BY);
      JsonNode tools = body.path("tools");
      if (!tools.isArray()) {
        throw new BadRequest(400, "'tools' must be a list of tool definitions, as tools/list"
            + " answers them");
      }
      List<ToolPin> pinned = pins.pin(AdminExchange.requiredText(body, "backend"), tools, by);
      log.info("{} pinned {} tool definitions ahead for backend {}", by, pinned.size(),
          body.path("backend").asString());
      ObjectNode answer = AdminExchange.NODES.objectNode();
      ArrayNode items = answer.putArray("pinned");
      pinned.forEach(pin -> items.add(json(pin)));
      return Answer.ok(answer);
    }
    throw AdminExchange.notFound();
  }

  /** A pin as the admin API shows it: digests and state, never the definitions' text. */
  static ObjectNode json(ToolPin pin) {
    ObjectNode node = AdminExchange.NODES.objectNode();
    node.put("backend", pin.backend());
    node.put("tool", pin.tool());
    node.put("state", !pin.held() ? "pinned" : pin.rejected() ? "rejected" : "held");
    node.put("digest", pin.digest());
    node.put("pending_digest", pin.pendingDigest());
    node.put("updated_at", pin.updatedAt().toString());
    node.put("updated_by", pin.updatedBy());
    return node;
  }

  /** A review: the pin, both definitions, what changed and what hides in the new one. */
  static ObjectNode json(PinOperations.Review review) {
    ObjectNode node = json(review.pin());
    ToolPin pin = review.pin();
    node.set("definition", pin.definition() == null ? null
        : ToolDefinitions.parse(pin.definition()));
    node.set("pending_definition", pin.pendingDefinition() == null ? null
        : ToolDefinitions.parse(pin.pendingDefinition()));
    ArrayNode changes = node.putArray("changes");
    for (ToolDefinitions.Change change : review.changes()) {
      ObjectNode item = changes.addObject().put("pointer", change.pointer());
      item.set("before", change.before());
      item.set("after", change.after());
    }
    ArrayNode findings = node.putArray("findings");
    for (ToolDefinitions.Finding finding : review.findings()) {
      findings.addObject().put("pointer", finding.pointer()).put("kind", finding.kind())
          .put("detail", finding.detail());
    }
    return node;
  }
}
