package dev.sentinel.core.audit;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import java.time.Duration;
import java.time.Instant;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/** Small audit events for tests. */
final class TestEvents {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private TestEvents() {}

  /** An allowed tools/call event with the given id and empty arguments. */
  static AuditEvent event(String id) {
    return event(id, JsonNodeFactory.instance.objectNode());
  }

  /** An allowed tools/call event carrying the given (already redacted) arguments. */
  static AuditEvent event(String id, JsonNode arguments) {
    return AuditEvent.builder()
        .id(id)
        .time(T0)
        .instance("gw-1")
        .session("s-1", "claude-code/1.0")
        .requestId("7")
        .arguments(arguments, CanonicalJson.sha256(arguments))
        .outcome(Outcome.ALLOWED)
        .latency(Duration.ofNanos(1_234_567))
        .response(42, "sha256:00")
        .revision("r1")
        .request(dev.sentinel.api.Request.toolCall("fs", "read_file", arguments))
        .build();
  }
}
