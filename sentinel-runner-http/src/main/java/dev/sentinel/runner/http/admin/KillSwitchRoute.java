package dev.sentinel.runner.http.admin;

import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.operator.KillSwitchOperations;
import dev.sentinel.operator.Operations;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import dev.sentinel.runner.http.admin.AdminExchange.BadRequest;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /admin/api/killswitch}: the state in force ({@code GET}), the operators' whole state
 * replaced ({@code PUT}), and one target switched off or on ({@code POST .../disable}, {@code
 * .../enable}), over the operator service's {@link KillSwitchOperations}. Every change answers the
 * state in force after it.
 */
final class KillSwitchRoute implements AdminExchange.Route {
  private static final Logger log = LoggerFactory.getLogger(KillSwitchRoute.class);
  private static final Set<String> CHANGE_FIELDS = Set.of("scope", "target", "reason");
  private static final Set<String> STATE_FIELDS =
      Set.of("all", "backends", "tools", "principals");

  private final Operations operations;

  KillSwitchRoute(Operations operations) {
    this.operations = operations;
  }

  @Override
  public Answer handle(AdminExchange x) {
    KillSwitchOperations killSwitch = operations.killSwitch();
    if (x.segments(1)) {
      x.allow("GET", "HEAD", "PUT");
      if (x.is("PUT")) {
        KillSwitch.State next = parse(x.body(STATE_FIELDS));
        log.info("operator replaced the kill switch: {}", next);
        return Answer.ok(json(killSwitch.replace(next)));
      }
      return Answer.ok(json(killSwitch.state()));
    }
    if (x.segments(2) && (x.parts()[1].equals("disable") || x.parts()[1].equals("enable"))) {
      x.allow("POST");
      boolean disable = x.parts()[1].equals("disable");
      ObjectNode body = x.body(CHANGE_FIELDS);
      KillSwitchOperations.Scope scope =
          KillSwitchOperations.Scope.parse(AdminExchange.requiredText(body, "scope"));
      String target = AdminExchange.text(body, "target");
      String reason = AdminExchange.text(body, "reason");
      KillSwitch.State now = disable ? killSwitch.disable(scope, target, reason)
          : killSwitch.enable(scope, target);
      log.info("operator {}d the kill switch for {}{}", x.parts()[1], scope.label(),
          target == null ? "" : " '" + target + "'");
      return Answer.ok(json(now));
    }
    throw AdminExchange.notFound();
  }

  private static KillSwitch.State parse(ObjectNode body) {
    JsonNode all = body.path("all");
    if (!all.isMissingNode() && !all.isNull() && !all.isString()) {
      throw new BadRequest(400, "'all' must be a reason (a string) or null");
    }
    try {
      return new KillSwitch.State(all.isString() ? all.stringValue() : null,
          reasons(body, "backends"), reasons(body, "tools"), reasons(body, "principals"));
    } catch (IllegalArgumentException e) {
      throw new BadRequest(400, "invalid kill switch: " + e.getMessage());
    }
  }

  private static Map<String, String> reasons(ObjectNode body, String field) {
    JsonNode node = body.path(field);
    if (node.isMissingNode() || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw new BadRequest(400, "'" + field + "' must be an object of names to reasons");
    }
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      if (!entry.getValue().isString() || entry.getKey().isBlank()) {
        throw new BadRequest(400, "'" + field + "' must map non-blank names to reasons (strings)");
      }
      out.put(entry.getKey(), entry.getValue().stringValue());
    }
    return out;
  }

  /** A kill-switch state as the admin API and the status show it. */
  static ObjectNode json(KillSwitch.State state) {
    ObjectNode body = AdminExchange.NODES.objectNode();
    body.put("all", state.all());
    ObjectNode backends = body.putObject("backends");
    state.backends().forEach(backends::put);
    ObjectNode tools = body.putObject("tools");
    state.tools().forEach(tools::put);
    ObjectNode principals = body.putObject("principals");
    state.principals().forEach(principals::put);
    return body;
  }
}
