package dev.sentinel.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallTracer;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.config.Telemetry;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.RecordingSink;
import dev.sentinel.otel.testing.OtlpReceiver;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * The exporter a {@code telemetry:} section describes, end to end: spans of a real pipeline reach
 * an OTLP/HTTP receiver the test runs, as protobuf, with the service name and headers configured.
 */
class OtlpTracingTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String TRACE = "0af7651916cd43dd8448eb211c80319c";
  private static final String PARENT = "b7ad6b7169203331";

  @Test
  void spans_reachAnOtlpHttpReceiver_asProtobuf() throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      Telemetry telemetry = new Telemetry("edge-gateway", 1.0, new Telemetry.Otlp(
          URI.create(receiver.endpoint()), Map.of("Authorization", "Bearer collector-token"),
          Duration.ofSeconds(10)));
      try (OtlpTracing tracing = OtlpTracing.start(telemetry);
          Sentinel sentinel = Sentinel.builder()
              .authenticator(Authenticator.fixed(Principal.of("ann", "developer")))
              .policy(PolicyEngine.parse("rules:\n  - id: all\n    allow: {}\n", "policy.yaml"))
              .audit(AuditDispatcher.builder().sink(new RecordingSink()).build())
              .tracer(tracing.tracer())
              .build()) {
        assertThat(tracing.enabled()).isTrue();
        sentinel.call(new Call(Credentials.launch(),
                Request.toolCall("fs", "fs__read", JSON.createObjectNode()), null, null, "1")
                .withTraceParent("00-" + TRACE + "-" + PARENT + "-01"),
            request -> JSON.createObjectNode());

        assertThat(tracing.flush()).isTrue();
      }

      List<OtlpReceiver.Received> spans = receiver.spans();
      assertThat(spans).extracting(OtlpReceiver.Received::name).containsExactlyInAnyOrder(
          "tools/call fs__read", "sentinel.decision", "sentinel.limit", "sentinel.backend",
          "sentinel.audit");
      assertThat(spans).allSatisfy(span -> {
        assertThat(span.traceId()).isEqualTo(TRACE);
        assertThat(span.service()).isEqualTo("edge-gateway");
      });
      OtlpReceiver.Received root = spans.stream()
          .filter(s -> s.name().equals("tools/call fs__read")).findFirst().orElseThrow();
      assertThat(root.parentSpanId()).isEqualTo(PARENT);
      assertThat(root.kind()).isEqualTo("SPAN_KIND_SERVER");
      assertThat(root.attributes()).containsEntry("sentinel.principal", "ann")
          .containsEntry("sentinel.outcome", "ALLOWED");
      assertThat(receiver.headers()).isNotEmpty()
          .allSatisfy(headers -> assertThat(headers).containsEntry("authorization", "Bearer collector-token"));
    }
  }

  @Test
  void withoutAnExporter_tracingIsOff_andCostsNothing() {
    try (OtlpTracing tracing = OtlpTracing.start(Telemetry.NONE)) {
      assertThat(tracing.enabled()).isFalse();
      assertThat(tracing.tracer()).isSameAs(CallTracer.none());
      assertThat(tracing.flush()).isTrue();
    }
  }
}
