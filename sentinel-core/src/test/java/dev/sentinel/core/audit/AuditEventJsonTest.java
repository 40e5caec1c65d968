package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import dev.sentinel.core.testing.Gen;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
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

  static LongStream seeds() {
    return Gen.seeds(500);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void fromJson_roundTripsToJson(long seed) {
    AuditEvent event = event(new Random(seed));

    assertThat(AuditEventJson.fromJson(AuditEventJson.toJson(event))).isEqualTo(event);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void fromJson_roundTripsParsedLine(long seed) {
    AuditEvent event = event(new Random(seed));
    String line = AuditEventJson.toLine(event);

    AuditEvent back = AuditEventJson.fromJson(MAPPER.readTree(line));

    assertThat(back).isEqualTo(event);
    assertThat(AuditEventJson.toLine(back)).isEqualTo(line);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void canonicalBytes_equalsTheCanonicalFormOfTheTree(long seed) {
    AuditEvent event = event(new Random(seed));

    assertThat(AuditEventJson.canonicalBytes(event))
        .isEqualTo(CanonicalJson.bytes(AuditEventJson.toJson(event)));
  }

  /** An event with every member drawn at random; optional members are often absent. */
  static AuditEvent event(Random random) {
    JsonNode arguments = JsonGenerators.json(random);
    // below 10^14 ns, so the text form stays within a double's exact digits
    long maxNanos = 99_999_999_999_999L;
    return new AuditEvent(
        Gen.alnum(random, 1, 36),
        Instant.ofEpochSecond(random.nextLong(0, 4_102_444_801L), random.nextInt(1_000_000_000)),
        optional(random), optional(random), strings(random), optional(random), optional(random),
        optional(random), JsonGenerators.string(random), optional(random), optional(random),
        arguments, CanonicalJson.sha256(arguments),
        Gen.orNull(random, 0.3, () -> Gen.pick(random, Effect.values())),
        strings(random), JsonGenerators.string(random),
        random.nextBoolean() ? -1 : random.nextLong(0, Long.MAX_VALUE),
        Duration.ofNanos(random.nextLong(0, maxNanos + 1)),
        Gen.pick(random, Outcome.values()), optional(random), optional(random),
        Duration.ofNanos(random.nextLong(0, maxNanos + 1)),
        random.nextLong(-1, (1L << 40) + 1), optional(random), optional(random));
  }

  private static String optional(Random random) {
    return Gen.orNull(random, 0.3, () -> JsonGenerators.string(random));
  }

  private static List<String> strings(Random random) {
    return Gen.list(random, 0, 3, () -> JsonGenerators.string(random));
  }
}
