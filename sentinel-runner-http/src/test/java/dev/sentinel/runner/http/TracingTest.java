package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.otel.testing.OtlpReceiver;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code telemetry.otlp} on a real {@code sentinel http}: every governed call reaches an OTLP/HTTP
 * receiver the test runs as a span with its stages, joined to the trace its client sent in {@code
 * params._meta.traceparent} or in the {@code traceparent} header (the body's wins), and carrying
 * none of the arguments or answers.
 */
class TracingTest {
  static final String META_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  static final String META_SPAN = "00f067aa0ba902b7";
  static final String HEADER_TRACE = "0af7651916cd43dd8448eb211c80319c";
  static final String HEADER_SPAN = "b7ad6b7169203331";
  static final String SECRET = "an-argument-no-span-may-carry";

  @TempDir static Path dir;
  static OtlpReceiver receiver;
  static Fixture fixture;
  static List<OtlpReceiver.Received> spans;

  @BeforeAll
  static void start() throws Exception {
    receiver = OtlpReceiver.start();
    String yaml = Fixture.backend()
        + "policy:\n"
        + "  rules:\n"
        + "    - id: no-announcements\n"
        + "      deny: { tools: [\"fx__changed\"] }\n"
        + "    - id: everything\n"
        + "      allow: {}\n"
        + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n"
        + "telemetry:\n"
        + "  service_name: sentinel-under-test\n"
        + "  otlp: { endpoint: \"" + receiver.endpoint() + "\" }\n";
    fixture = new Fixture(dir, yaml, UnaryOperator.identity());
    HttpGateway gateway = fixture.start(fixture.gateway());
    Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.initialize();

    assertThat(alice.post(meta(1, "00-" + META_TRACE + "-" + META_SPAN + "-01")).body()).contains(SECRET);
    assertThat(alice.post(Client.call(2, "fx__echo", SECRET),
        "traceparent", "00-" + HEADER_TRACE + "-" + HEADER_SPAN + "-01").body()).contains(SECRET);
    // Both: the body's context wins over the header's.
    assertThat(alice.post(meta(3, "00-" + META_TRACE + "-" + META_SPAN + "-01"),
        "traceparent", "00-" + HEADER_TRACE + "-" + HEADER_SPAN + "-01").body()).contains(SECRET);
    // A malformed header is ignored: the call starts a trace of its own.
    assertThat(alice.post(Client.call(4, "fx__echo", SECRET), "traceparent", "00-not-a-trace-01").body())
        .contains(SECRET);
    assertThat(alice.post(Client.call(5, "fx__changed", SECRET)).body()).contains("DENIED");
    // Closing the gateway exports every span still queued.
    gateway.close();
    spans = receiver.spans();
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  static String meta(int id, String traceParent) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"fx__echo\","
        + "\"arguments\":{\"text\":\"" + SECRET + "\"},\"_meta\":{\"traceparent\":\"" + traceParent + "\"}}}";
  }

  static OtlpReceiver.Received call(String requestId) {
    return spans.stream()
        .filter(s -> s.kind().equals("SPAN_KIND_SERVER") && requestId.equals(s.attributes().get("jsonrpc.request.id")))
        .findFirst().orElseThrow(() -> new AssertionError("no span of request " + requestId + " in " + spans));
  }

  static List<String> children(OtlpReceiver.Received parent) {
    return spans.stream().filter(s -> s.parentSpanId().equals(parent.spanId()))
        .map(OtlpReceiver.Received::name).collect(Collectors.toList());
  }

  @Test
  void aCall_isAServerSpan_withAChildPerStage() {
    OtlpReceiver.Received call = call("2");
    assertThat(call.name()).isEqualTo("tools/call fx__echo");
    assertThat(call.service()).isEqualTo("sentinel-under-test");
    assertThat(call.attributes()).containsEntry("sentinel.principal", "alice")
        .containsEntry("sentinel.outcome", "ALLOWED")
        .containsEntry("sentinel.backend", "fx")
        .containsEntry("gen_ai.tool.name", "fx__echo")
        .containsKey("mcp.session.id");
    assertThat(children(call)).containsExactly(
        "sentinel.decision", "sentinel.limit", "sentinel.backend", "sentinel.audit");
  }

  @Test
  void theTraceParentInMeta_isTheCallsParent() {
    OtlpReceiver.Received call = call("1");
    assertThat(call.traceId()).isEqualTo(META_TRACE);
    assertThat(call.parentSpanId()).isEqualTo(META_SPAN);
  }

  @Test
  void theTraceParentHeader_isTheCallsParent() {
    OtlpReceiver.Received call = call("2");
    assertThat(call.traceId()).isEqualTo(HEADER_TRACE);
    assertThat(call.parentSpanId()).isEqualTo(HEADER_SPAN);
  }

  @Test
  void theBodysTraceParent_winsOverTheHeader() {
    assertThat(call("3").traceId()).isEqualTo(META_TRACE);
  }

  @Test
  void aMalformedTraceParent_startsATraceOfItsOwn() {
    OtlpReceiver.Received call = call("4");
    assertThat(call.parentSpanId()).isEmpty();
    assertThat(call.traceId()).isNotIn(META_TRACE, HEADER_TRACE);
  }

  @Test
  void aDeniedCall_marksItsDecision_andNoBackendSpan() {
    OtlpReceiver.Received call = call("5");
    assertThat(call.error()).isTrue();
    assertThat(call.attributes()).containsEntry("sentinel.outcome", "DENIED")
        .containsEntry("sentinel.rules", "no-announcements");
    assertThat(children(call)).containsExactly("sentinel.decision", "sentinel.audit");
  }

  @Test
  void noSpan_carriesTheArgumentsOrTheAnswer() {
    assertThat(spans).isNotEmpty().allSatisfy(span ->
        assertThat(span.attributes().toString()).doesNotContain(SECRET));
  }
}
