package dev.sentinel.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.RecordingSink;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real pipeline traced into the SDK's in-memory exporter: one server span per call with a child
 * span per stage, the refusing stage marked, the caller's trace joined, the arguments nowhere.
 */
class OtelTracerTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String POLICY = String.join("\n",
      "rules:",
      "  - id: no-drops",
      "    deny: { tools: [\"db__drop\"] }",
      "  - id: everything",
      "    allow: {}",
      "");
  private static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CLIENT_SPAN = "00f067aa0ba902b7";
  private static final String SECRET = "hunter2-do-not-trace";

  private final InMemorySpanExporter exported = InMemorySpanExporter.create();
  private SdkTracerProvider provider;
  private Sentinel sentinel;

  @AfterEach
  void close() {
    if (sentinel != null) {
      sentinel.close();
    }
    if (provider != null) {
      provider.shutdown();
    }
  }

  private Sentinel sentinel(Sampler sampler) {
    provider = SdkTracerProvider.builder()
        .setSampler(sampler)
        .addSpanProcessor(SimpleSpanProcessor.create(exported))
        .build();
    sentinel = Sentinel.builder()
        .authenticator(Authenticator.fixed(Principal.of("ann", "developer")))
        .policy(PolicyEngine.parse(POLICY, "policy.yaml"))
        .audit(AuditDispatcher.builder().sink(new RecordingSink()).build())
        .tracer(OtelTracer.create(provider.get(OtelTracer.SCOPE)))
        .build();
    return sentinel;
  }

  private static Call call(String tool) {
    JsonNode arguments = JSON.createObjectNode().put("sql", "select 1").put("password", SECRET);
    return new Call(Credentials.launch(), Request.toolCall("db", tool, arguments), "session-1",
        "client", "7", null);
  }

  private void run(Call call) {
    sentinel.call(call, request -> JSON.createObjectNode().put("rows", SECRET));
  }

  private static SpanData root(List<SpanData> spans) {
    return spans.stream().filter(s -> s.getKind() == SpanKind.SERVER).findFirst().orElseThrow();
  }

  @Test
  void allowedCall_isAServerSpan_withAChildPerStage() {
    sentinel(Sampler.alwaysOn());

    run(call("db__query"));

    List<SpanData> spans = exported.getFinishedSpanItems();
    SpanData root = root(spans);
    assertThat(root.getName()).isEqualTo("tools/call db__query");
    assertThat(root.getParentSpanContext().isValid()).isFalse();
    assertThat(root.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    Map<String, Object> attributes = attributes(root);
    assertThat(attributes).containsEntry("mcp.method.name", "tools/call")
        .containsEntry("gen_ai.tool.name", "db__query")
        .containsEntry("sentinel.backend", "db")
        .containsEntry("sentinel.principal", "ann")
        .containsEntry("sentinel.outcome", "ALLOWED")
        .containsEntry("sentinel.decision", "ALLOW")
        .containsEntry("sentinel.rules", List.of("everything"))
        .containsEntry("mcp.session.id", "session-1")
        .containsEntry("jsonrpc.request.id", "7")
        .containsKey("sentinel.audit.id");
    List<SpanData> children = spans.stream().filter(s -> s != root).collect(Collectors.toList());
    assertThat(children).extracting(SpanData::getName).containsExactly(
        "sentinel.decision", "sentinel.limit", "sentinel.backend", "sentinel.audit");
    assertThat(children).allSatisfy(child -> {
      assertThat(child.getParentSpanId()).isEqualTo(root.getSpanId());
      assertThat(child.getTraceId()).isEqualTo(root.getTraceId());
      assertThat(child.getStartEpochNanos()).isGreaterThanOrEqualTo(root.getStartEpochNanos());
      assertThat(child.getEndEpochNanos()).isLessThanOrEqualTo(root.getEndEpochNanos());
    });
    for (int i = 1; i < children.size(); i++) {
      assertThat(children.get(i).getStartEpochNanos())
          .isGreaterThanOrEqualTo(children.get(i - 1).getEndEpochNanos());
    }
  }

  @Test
  void deniedCall_marksTheDecisionAndTheCall_andReachesNoBackendSpan() {
    sentinel(Sampler.alwaysOn());

    run(call("db__drop"));

    List<SpanData> spans = exported.getFinishedSpanItems();
    SpanData root = root(spans);
    assertThat(root.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(attributes(root)).containsEntry("sentinel.outcome", "DENIED")
        .containsEntry("error.type", "DENIED")
        .containsEntry("sentinel.rules", List.of("no-drops"));
    assertThat(spans).extracting(SpanData::getName)
        .containsExactlyInAnyOrder("tools/call db__drop", "sentinel.decision", "sentinel.audit");
    SpanData decision = spans.stream().filter(s -> s.getName().equals("sentinel.decision"))
        .findFirst().orElseThrow();
    assertThat(decision.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(attributes(decision)).containsEntry("sentinel.outcome", "DENIED")
        .containsEntry("sentinel.rules", List.of("no-drops"));
  }

  @Test
  void spans_neverCarryTheArgumentsOrTheResponse() {
    sentinel(Sampler.alwaysOn());

    run(call("db__query"));
    run(call("db__drop"));

    assertThat(exported.getFinishedSpanItems()).isNotEmpty().allSatisfy(span -> {
      assertThat(span.getAttributes().toString()).doesNotContain(SECRET).doesNotContain("select 1");
      assertThat(span.getEvents().toString()).doesNotContain(SECRET);
    });
  }

  @Test
  void aClientsTraceParent_becomesTheParentOfTheCallsSpan() {
    sentinel(Sampler.parentBased(Sampler.alwaysOff()));

    run(call("db__query").withTraceParent("00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01"));

    SpanData root = root(exported.getFinishedSpanItems());
    assertThat(root.getTraceId()).isEqualTo(CLIENT_TRACE);
    assertThat(root.getParentSpanId()).isEqualTo(CLIENT_SPAN);
    assertThat(root.getParentSpanContext().isRemote()).isTrue();
  }

  @Test
  void aClientsUnsampledTrace_isNotRecorded() {
    sentinel(Sampler.parentBased(Sampler.alwaysOn()));

    run(call("db__query").withTraceParent("00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-00"));

    assertThat(exported.getFinishedSpanItems()).isEmpty();
    assertThat(sentinel.listenerFailures()).isZero();
  }

  @Test
  void aCallWithoutTraceParent_startsATraceOfItsOwn() {
    sentinel(Sampler.alwaysOn());

    run(call("db__query"));
    run(call("db__query"));

    List<String> traces = exported.getFinishedSpanItems().stream()
        .filter(s -> s.getKind() == SpanKind.SERVER).map(SpanData::getTraceId)
        .collect(Collectors.toList());
    assertThat(traces).hasSize(2).doesNotHaveDuplicates();
    assertThat(sentinel.listenerFailures()).isZero();
  }

  @Test
  void aRefusalBeforeThePipeline_isASpanToo() {
    sentinel(Sampler.alwaysOn());

    sentinel.refuse(call("db__query"), dev.sentinel.api.Refusal.of(Outcome.LIMITED,
        List.of("max_in_flight_per_principal"), "too many requests in flight"));

    SpanData root = root(exported.getFinishedSpanItems());
    assertThat(attributes(root)).containsEntry("sentinel.outcome", "LIMITED")
        .containsEntry("sentinel.rules", List.of("max_in_flight_per_principal"));
  }

  private static Map<String, Object> attributes(SpanData span) {
    return span.getAttributes().asMap().entrySet().stream()
        .collect(Collectors.toMap(e -> ((AttributeKey<?>) e.getKey()).getKey(), Map.Entry::getValue));
  }
}
