package dev.sentinel.runner.http.admin;

import dev.sentinel.api.Clock;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.operator.Operations;
import dev.sentinel.mcp.engine.BackendStatus;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntSupplier;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code GET /admin/api/status}: the revision, uptime, sessions, backends, the audit pipeline's
 * counters, the kill switch in force, and which operator features this gateway has.
 */
final class StatusRoute implements AdminExchange.Route {
  private final GatewayRuntime runtime;
  private final Operations operations;
  private final IntSupplier sessions;
  private final Clock clock;
  private final Instant started;

  StatusRoute(GatewayRuntime runtime, Operations operations, IntSupplier sessions, Clock clock) {
    this.runtime = runtime;
    this.operations = operations;
    this.sessions = sessions;
    this.clock = clock;
    this.started = clock.instant();
  }

  @Override
  public Answer handle(AdminExchange x) {
    x.exact(1);
    x.allow("GET", "HEAD");
    ObjectNode body = AdminExchange.NODES.objectNode();
    body.put("revision", runtime.sentinel().revision());
    body.put("started", started.toString());
    body.put("uptime_seconds",
        Math.max(0, Duration.between(started, clock.instant()).toSeconds()));
    body.put("sessions", sessions.getAsInt());
    // Who is asking: a named operator (their own credentials), or null for the shared token.
    body.put("operator", x.operator());
    runtime.config().fromBundle().ifPresentOrElse(bundle -> {
      ObjectNode node = body.putObject("bundle")
          .put("digest", bundle.digest())
          .put("sequence", bundle.sequence())
          .put("rollback", bundle.rollback());
      bundle.signers().forEach(node.putArray("signers")::add);
    }, () -> body.putNull("bundle"));
    ArrayNode backends = body.putArray("backends");
    for (Map.Entry<String, BackendStatus> entry : new TreeMap<>(runtime.backends()).entrySet()) {
      BackendStatus backend = entry.getValue();
      backends.addObject()
          .put("name", backend.name())
          .put("state", backend.state().name())
          .put("protocol_version", backend.protocolVersion())
          .put("restarts", backend.restarts())
          .put("last_error", backend.lastError())
          .put("isolation", backend.isolation().name().toLowerCase(Locale.ROOT))
          .put("connections", backend.connections());
    }
    AuditDispatcher.Stats stats = runtime.sentinel().audit().stats();
    body.putObject("audit")
        .put("recorded", stats.recorded())
        .put("written", stats.written())
        .put("failed_writes", stats.failedWrites())
        .put("dropped", stats.dropped())
        .put("queue_depth", stats.queueDepth())
        .put("healthy", stats.healthy());
    body.set("kill_switch", KillSwitchRoute.json(runtime.sentinel().killSwitch().state()));
    body.put("reload", operations.has(Operations.Part.RELOAD));
    body.put("keys", operations.has(Operations.Part.KEYS));
    body.put("audit_query", operations.has(Operations.Part.AUDIT));
    body.put("approvals", operations.has(Operations.Part.APPROVALS));
    body.put("pins", operations.has(Operations.Part.PINS));
    return Answer.ok(body);
  }
}
