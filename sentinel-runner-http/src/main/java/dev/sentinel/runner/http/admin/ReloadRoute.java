package dev.sentinel.runner.http.admin;

import dev.sentinel.core.config.ConfigException;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.operator.Reloading;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /admin/api/reload}: reloads the config file through the operator service; {@code
 * 200} when applied, {@code 422} with each located problem when refused (the running revision
 * keeps serving). A body {@code {"allow_rollback": true}} accepts a signed bundle older than the
 * running one: a forced rollback, recorded in the audit trail.
 */
final class ReloadRoute implements AdminExchange.Route {
  private final Operations operations;

  ReloadRoute(Operations operations) {
    this.operations = operations;
  }

  @Override
  public Answer handle(AdminExchange x) {
    x.exact(1);
    x.allow("POST");
    ObjectNode request = x.body(Set.of("allow_rollback"));
    JsonNode force = request.path("allow_rollback");
    if (!force.isMissingNode() && !force.isBoolean()) {
      throw new AdminExchange.BadRequest(400, "allow_rollback must be true or false");
    }
    // A named operator is the actor on the record; with the shared token, the API.
    Reloading.Result result = force.asBoolean(false)
        ? operations.reloadAllowingRollback(x.operator() != null ? x.operator() : "operator (admin API)")
        : operations.reload();
    ObjectNode body = AdminExchange.NODES.objectNode();
    body.put("applied", result.applied());
    body.put("revision", result.revision());
    body.put("previous", result.previous());
    if (result.applied()) {
      return Answer.ok(body);
    }
    body.put("error", "the config was refused; revision " + result.revision()
        + " keeps serving");
    ArrayNode problems = body.putArray("problems");
    for (ConfigException.Problem problem : result.problems()) {
      problems.addObject()
          .put("source", problem.source())
          .put("line", problem.line())
          .put("column", problem.column())
          .put("path", problem.path())
          .put("message", problem.message())
          .put("text", problem.toString());
    }
    return new Answer(422, body);
  }
}
