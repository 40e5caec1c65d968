package dev.sentinel.runner.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.mcp.gateway.RunOptions;
import dev.sentinel.otel.testing.OtlpReceiver;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code sentinel stdio} with {@code telemetry.otlp}: a call carrying a {@code traceparent} in
 * {@code params._meta} is exported, when the gateway stops, as a span of the client's trace.
 */
class StdioTracingTest {
  @TempDir Path dir;

  @Test
  void run_withTelemetry_exportsEachCallAsASpanOfTheClientsTrace() throws Exception {
    String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    String parent = "00f067aa0ba902b7";
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      GatewayConfig config = GatewayConfig.parse(StdioClient.config(
          "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n"
              + "telemetry: { otlp: { endpoint: \"" + receiver.endpoint() + "\" } }\n"),
          "sentinel.yaml", dir, Map.of());
      try (StdioClient client = new StdioClient(config, RunOptions.defaults())) {
        client.initialize();
        ObjectNode params = StdioClient.JSON.createObjectNode().put("name", "tiny__echo");
        params.putObject("arguments").put("text", "hello");
        params.putObject("_meta").put("traceparent", "00-" + trace + "-" + parent + "-01");
        assertThat(client.request("tools/call", params).has("result")).isTrue();
        assertThat(client.stop()).isZero();
      }

      List<OtlpReceiver.Received> spans = receiver.spans();
      OtlpReceiver.Received call = spans.stream().filter(s -> s.name().equals("tools/call tiny__echo"))
          .findFirst().orElseThrow(() -> new AssertionError("no call span in " + spans));
      assertThat(call.traceId()).isEqualTo(trace);
      assertThat(call.parentSpanId()).isEqualTo(parent);
      assertThat(call.service()).isEqualTo("sentinel");
      assertThat(spans).filteredOn(s -> s.parentSpanId().equals(call.spanId()))
          .extracting(OtlpReceiver.Received::name)
          .containsExactly("sentinel.decision", "sentinel.limit", "sentinel.backend", "sentinel.audit");
    }
  }
}
