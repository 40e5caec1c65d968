package dev.sentinel.examples.embedding;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.JsonLinesAuditSink;
import dev.sentinel.core.policy.PolicyEngine;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;

/**
 * The application's tools behind Sentinel: every call, made for a user the application has
 * authenticated itself, is checked against the policy and the limits its file declares, and
 * recorded in a JSON Lines audit file. One instance serves every user.
 *
 * <p>Thread-safe. Close it to flush the audit trail.
 */
public final class GovernedTools implements AutoCloseable {
  private final ToolRegistry tools;
  private final Sentinel sentinel;

  // README snippet begins
  /** Governs the registry's tools for every user of the application, with a policy and an audit file. */
  public GovernedTools(ToolRegistry tools, Path policyFile, Path auditFile) {
    this.tools = tools;
    this.sentinel = Sentinel.builder()
        .policy(PolicyEngine.load(policyFile)) // its rules, and its limits
        .audit(AuditDispatcher.builder().sink(JsonLinesAuditSink.open(auditFile)).build())
        .build();
  }

  /** Calls a tool for a user the application has authenticated; the result says what happened. */
  public CallResult<JsonNode> call(Principal user, String tool, JsonNode arguments) {
    Request request = Request.toolCall("app", tool, arguments);
    return sentinel.call(Call.as(user, request),
        allowed -> tools.run(allowed.name(), allowed.arguments()));
  }
  // README snippet ends

  /** Flushes the audit trail and stops its writer. */
  @Override
  public void close() {
    sentinel.close();
  }
}
