package dev.sentinel.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.JsonNodeFactory;

/** Label bounding and counting of {@link GatewayMetrics}, fed audit events directly. */
class GatewayMetricsTest {

  private static AuditEvent event(String method, String name, Outcome outcome, List<String> rules) {
    return AuditEvent.builder()
        .id("e").time(Instant.EPOCH).request(new dev.sentinel.api.Request(method, "fx", name, null))
        .arguments(JsonNodeFactory.instance.objectNode(), null)
        .decision(new Decision(Effect.DENY, rules, "test", List.of()))
        .outcome(outcome)
        .latency(Duration.ofMillis(3))
        .build();
  }

  private static String scrape(GatewayMetrics metrics) {
    return metrics.scrape(null).body();
  }

  @Test
  void callsInABreakGlassWindow_areCountedByOutcome_andNoOthers() {
    GatewayMetrics metrics = GatewayMetrics.create(Set.of("fx__echo")::contains);
    metrics.completed(event("tools/call", "fx__echo", Outcome.ALLOWED,
        List.of("oncall", "break_glass")));
    metrics.completed(event("tools/call", "fx__echo", Outcome.DENIED, List.of("break_glass")));
    metrics.completed(event("tools/call", "fx__echo", Outcome.ALLOWED, List.of("oncall")));

    String text = scrape(metrics);
    assertThat(text).contains("sentinel_break_glass_calls_total{outcome=\"allowed\"} 1.0")
        .contains("sentinel_break_glass_calls_total{outcome=\"denied\"} 1.0");
  }

  @Test
  void unknownTools_foldIntoOther() {
    GatewayMetrics metrics = GatewayMetrics.create(Set.of("fx__echo")::contains);
    metrics.completed(event("tools/call", "fx__echo", Outcome.ALLOWED, List.of()));
    metrics.completed(event("tools/call", "fx__made-up", Outcome.FAILED, List.of()));
    metrics.completed(event("tools/call", "fx__also-made-up", Outcome.FAILED, List.of()));

    String text = scrape(metrics);
    assertThat(text).contains("sentinel_requests_total{method=\"tools/call\",outcome=\"allowed\",tool=\"fx__echo\"} 1.0");
    assertThat(text).contains("sentinel_requests_total{method=\"tools/call\",outcome=\"failed\",tool=\"other\"} 2.0");
    assertThat(text).doesNotContain("made-up");
  }

  @Test
  void labelValues_areCapped() {
    GatewayMetrics metrics = GatewayMetrics.create(name -> true);
    for (int i = 0; i < GatewayMetrics.MAX_LABEL_VALUES + 50; i++) {
      metrics.completed(event("tools/call", "fx__tool" + i, Outcome.ALLOWED, List.of()));
      metrics.completed(event("tools/call", "fx__tool" + i, Outcome.DENIED, List.of("rule" + i)));
    }
    String text = scrape(metrics);
    long tools = text.lines().filter(l -> l.startsWith("sentinel_requests_total{") && l.contains("outcome=\"allowed\"")).count();
    long rules = text.lines().filter(l -> l.startsWith("sentinel_denials_total{")).count();
    assertThat(tools).isEqualTo(GatewayMetrics.MAX_LABEL_VALUES + 1);
    assertThat(rules).isEqualTo(GatewayMetrics.MAX_LABEL_VALUES + 1);
    assertThat(text).contains("sentinel_denials_total{rule=\"other\"} 50.0");
  }

  @Test
  void unknownMethods_areOther_andPendingIsNotCounted() {
    GatewayMetrics metrics = GatewayMetrics.create(name -> false);
    metrics.completed(event("x/made-up", null, Outcome.DENIED, List.of()));
    metrics.completed(event("tools/call", "fx__echo", Outcome.PENDING, List.of()));

    String text = scrape(metrics);
    assertThat(text).contains("sentinel_requests_total{method=\"other\",outcome=\"denied\",tool=\"\"} 1.0");
    assertThat(text).contains("sentinel_denials_total{rule=\"default\"} 1.0");
    assertThat(text).doesNotContain("made-up").doesNotContain("outcome=\"pending\"");
  }

  @Test
  void latency_isAHistogramInSeconds() {
    GatewayMetrics metrics = GatewayMetrics.create(name -> true);
    metrics.completed(event("tools/call", "fx__echo", Outcome.ALLOWED, List.of()));
    String text = scrape(metrics);
    assertThat(text).contains("sentinel_request_duration_seconds_bucket{method=\"tools/call\",le=\"0.0025\"} 0");
    assertThat(text).contains("sentinel_request_duration_seconds_bucket{method=\"tools/call\",le=\"0.005\"} 1");
    assertThat(text).contains("sentinel_request_duration_seconds_bucket{method=\"tools/call\",le=\"1.0E-4\"} 0");
    assertThat(text).contains("sentinel_request_duration_seconds_bucket{method=\"tools/call\",le=\"10.0\"} 1");
  }
}
