package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class AuditEventJsonTest {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  @Test
  void toJson_snakeCaseMembersInStableOrder() {
    ObjectNode json = AuditEventJson.toJson(TestEvents.event("id-1"));

    List<String> names = new ArrayList<>(json.propertyNames());
    assertThat(names)
        .containsExactly(
            "id", "time", "instance", "principal", "roles", "session", "client", "request_id",
            "method", "backend", "name", "arguments", "arguments_digest", "effect", "rules",
            "reason", "rate_remaining", "retry_after_ms", "outcome", "error_class",
            "error_message", "latency_ms", "response_size", "response_digest", "revision");
    assertThat(json.get("time").stringValue()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(json.get("latency_ms").decimalValue()).isEqualByComparingTo("1.234567");
    assertThat(json.get("principal").isNull()).isTrue();
    assertThat(json.get("outcome").stringValue()).isEqualTo("ALLOWED");
  }

  @Test
  void toLine_isOneCompactLine() {
    AuditEvent event = TestEvents.event("id-1", MAPPER.readTree("{\"text\":\"a\\nb\"}"));

    String line = AuditEventJson.toLine(event);

    assertThat(line).doesNotContain("\n", "\r").startsWith("{\"id\":\"id-1\",\"time\":");
    assertThat(line).contains("\"latency_ms\":1.234567,");
    assertThat(AuditEventJson.fromJson(MAPPER.readTree(line))).isEqualTo(event);
  }

  @Test
  void millis_exactToTheNanosecond() {
    assertThat(AuditEventJson.millis(Duration.ofNanos(1)).toPlainString()).isEqualTo("0.000001");
    assertThat(AuditEventJson.millis(Duration.ofSeconds(3)).toPlainString()).isEqualTo("3000");
    assertThat(AuditEventJson.millis(Duration.ofMillis(1500)).toPlainString()).isEqualTo("1500");
    assertThat(AuditEventJson.millis(Duration.ofNanos(-1_500_000)).toPlainString()).isEqualTo("-1.5");
    assertThat(AuditEventJson.duration(AuditEventJson.millis(Duration.ofSeconds(86_400 * 365, 7))))
        .isEqualTo(Duration.ofSeconds(86_400 * 365, 7));
  }

  @Test
  void toJson_returnsCopyOfArguments() {
    AuditEvent event = TestEvents.event("id-1", MAPPER.readTree("{\"a\":1}"));

    ((ObjectNode) AuditEventJson.toJson(event).get("arguments")).put("b", 2);

    assertThat(event.arguments().has("b")).isFalse();
  }

  @Test
  void fromJson_toleratesMissingOptionalAndUnknownMembers() {
    JsonNode json =
        MAPPER.readTree(
            "{\"id\":\"x\",\"time\":\"2026-01-01T00:00:00.5Z\",\"method\":\"ping\","
                + "\"outcome\":\"DENIED\",\"arguments\":{},\"future_field\":[1]}");

    AuditEvent event = AuditEventJson.fromJson(json);

    assertThat(event.rateRemaining()).isEqualTo(-1);
    assertThat(event.responseSize()).isEqualTo(-1);
    assertThat(event.latency()).isEqualTo(Duration.ZERO);
    assertThat(event.roles()).isEmpty();
    assertThat(event.time()).isEqualTo(Instant.parse("2026-01-01T00:00:00.500Z"));
  }

  @Test
  void fromJson_namesTheBadMember() {
    assertThatThrownBy(() -> AuditEventJson.fromJson(MAPPER.readTree("{\"id\":\"x\",\"arguments\":{}}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'time'");
    assertThatThrownBy(
            () ->
                AuditEventJson.fromJson(
                    MAPPER.readTree(
                        "{\"id\":\"x\",\"time\":\"2026-01-01T00:00:00Z\",\"method\":\"m\","
                            + "\"outcome\":\"NOPE\",\"arguments\":{}}")))
        .hasMessageContaining("'outcome'")
        .hasMessageContaining("NOPE");
    assertThatThrownBy(
            () ->
                AuditEventJson.fromJson(
                    MAPPER.readTree(
                        "{\"id\":\"x\",\"time\":\"2026-01-01T00:00:00Z\",\"method\":\"m\","
                            + "\"outcome\":\"ALLOWED\",\"arguments\":{},\"latency_ms\":\"slow\"}")))
        .hasMessageContaining("'latency_ms'");
    assertThatThrownBy(() -> AuditEventJson.fromJson(MAPPER.readTree("[]")))
        .hasMessageContaining("object");
  }

  @Property(tries = 500)
  void fromJson_roundTripsToJson(@ForAll("events") AuditEvent event) {
    assertThat(AuditEventJson.fromJson(AuditEventJson.toJson(event))).isEqualTo(event);
  }

  @Property(tries = 500)
  void fromJson_roundTripsParsedLine(@ForAll("events") AuditEvent event) {
    String line = AuditEventJson.toLine(event);

    AuditEvent back = AuditEventJson.fromJson(MAPPER.readTree(line));

    assertThat(back).isEqualTo(event);
    assertThat(AuditEventJson.toLine(back)).isEqualTo(line);
  }

  private record Who(
      String id, Instant time, String instance, String principal, String session, String client,
      String requestId, String revision) {}

  private record What(
      String method, String backend, String name, JsonNode arguments, Effect effect,
      List<String> rules, String reason, List<String> roles) {}

  private record How(
      long rateRemaining, Duration retryAfter, Outcome outcome, String errorClass,
      String errorMessage, Duration latency, long responseSize, String responseDigest) {}

  @Property
  void canonicalBytes_equalsTheCanonicalFormOfTheTree(@ForAll("events") AuditEvent event) {
    assertThat(AuditEventJson.canonicalBytes(event))
        .isEqualTo(CanonicalJson.bytes(AuditEventJson.toJson(event)));
  }

  @Provide
  Arbitrary<AuditEvent> events() {
    Arbitrary<String> text = JsonArbitraries.strings();
    Arbitrary<String> optional = text.injectNull(0.3);
    Arbitrary<List<String>> list = text.list().ofMaxSize(3);
    Arbitrary<Instant> time =
        Combinators.combine(
                Arbitraries.longs().between(0, 4_102_444_800L),
                Arbitraries.integers().between(0, 999_999_999))
            .as(Instant::ofEpochSecond);
    // below 10^14 ns, so the text form stays within a double's exact digits
    Arbitrary<Duration> duration =
        Arbitraries.longs().between(0, 99_999_999_999_999L).map(Duration::ofNanos);
    Arbitrary<Who> who =
        Combinators.combine(
                JsonArbitraries.alnum(1, 36), time, optional, optional, optional, optional,
                optional, optional)
            .as(Who::new);
    Arbitrary<What> what =
        Combinators.combine(
                text, optional, optional, JsonArbitraries.json(),
                Arbitraries.of(Effect.class).injectNull(0.3), list, text, list)
            .as(What::new);
    Arbitrary<How> how =
        Combinators.combine(
                Arbitraries.longs().between(-1, Long.MAX_VALUE), duration,
                Arbitraries.of(Outcome.class), optional, optional, duration,
                Arbitraries.longs().between(-1, 1L << 40), optional)
            .as(How::new);
    return Combinators.combine(who, what, how)
        .as((w, x, h) ->
            new AuditEvent(
                w.id(), w.time(), w.instance(), w.principal(), x.roles(), w.session(),
                w.client(), w.requestId(), x.method(), x.backend(), x.name(), x.arguments(),
                CanonicalJson.sha256(x.arguments()), x.effect(), x.rules(), x.reason(),
                h.rateRemaining(), h.retryAfter(), h.outcome(), h.errorClass(),
                h.errorMessage(), h.latency(), h.responseSize(), h.responseDigest(),
                w.revision()));
  }
}
