package dev.sentinel.examples.embedding;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.JsonLinesAuditSink;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.api.Clock;
import dev.sentinel.core.policy.PolicyEngine;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;

/**
 * The application's tools behind Sentinel: every call is authenticated, checked against the
 * policy and limits, and recorded in a JSON Lines audit file.
 *
 * <p>Thread-safe. Close it to flush the audit trail.
 */
public final class GovernedTools implements AutoCloseable {
  private final ToolRegistry tools;
  private final Sentinel sentinel;

  // README snippet begins
  /** Governs the registry's tools for one user, with the policy file and an audit file. */
  public GovernedTools(ToolRegistry tools, Principal user, Path policyFile, Path auditFile) {
    PolicyEngine policy = PolicyEngine.load(policyFile);
    this.tools = tools;
    this.sentinel = Sentinel.builder()
        .authenticator(Authenticator.fixed(user))
        .policy(policy)
        .limits(Limits.of(policy.limits(), LocalRateLimiter.create(Clock.system())))
        .audit(AuditDispatcher.builder().sink(JsonLinesAuditSink.open(auditFile)).build())
        .build();
  }

  /** Calls a tool if the policy and limits allow it; the result says what happened. */
  public CallResult<JsonNode> call(String tool, JsonNode arguments) {
    Request request = Request.toolCall("app", tool, arguments);
    return sentinel.call(Call.of(Credentials.launch(), request),
        allowed -> tools.run(allowed.name(), allowed.arguments()));
  }
  // README snippet ends

  /** Flushes the audit trail and stops its writer. */
  @Override
  public void close() {
    sentinel.close();
  }
}
