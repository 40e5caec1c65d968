package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import dev.sentinel.core.internal.WireJson;
import dev.sentinel.core.testing.Gen;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The JSON Lines audit line is written by streaming (no tree, reused buffers): these pin it to
 * the line the tree gave before, byte for byte, on the values most likely to tell them apart.
 */
class AuditLineFormatTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final WireJson WIRE = new WireJson(StreamReadConstraints.defaults());

  @TempDir Path dir;

  /** The line as it was written before: the event's tree through a default mapper, then UTF-8. */
  private static String oracle(AuditEvent event) {
    return JsonMapper.builder().build().writeValueAsString(AuditEventJson.toJson(event));
  }

  private static byte[] oracleBytes(List<AuditEvent> events) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (AuditEvent event : events) {
      out.writeBytes((oracle(event) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  private byte[] sinkBytes(List<List<AuditEvent>> batches) throws IOException {
    Path file = dir.resolve("audit-" + System.nanoTime() + ".jsonl");
    try (JsonLinesAuditSink sink = JsonLinesAuditSink.open(file)) {
      for (List<AuditEvent> batch : batches) {
        sink.write(batch);
      }
    }
    return Files.readAllBytes(file);
  }

  /** Every character class that JSON or UTF-8 treats specially. */
  static Stream<String> trickyStrings() {
    StringBuilder controls = new StringBuilder();
    for (char c = 0; c < 0x20; c++) {
      controls.append(c);
    }
    return Stream.of(
        "",
        controls.toString(),
        "\u007f\u0080\u009f\u00a0 \u2028\u2029 \ufeff \ufffe\uffff",
        "quote \" backslash \\ slash / </script>",
        "é ü ß 中文 한국어 עברית العربية e\u0301",
        "emoji \ud83d\ude00 \ud83c\udff3\ufe0f\u200d\ud83c\udf08",
        "lone high \ud800 then text",
        "lone low \udc00",
        "ends high \ud83d",
        "two highs \ud83d\ud83d\ude00",
        "reversed \ude00\ud83d",
        "x".repeat(70_000));
  }

  @ParameterizedTest
  @MethodSource("trickyStrings")
  void toLine_equalsTheTreeLine_onTrickyStringsInEveryMember(String text) throws IOException {
    ObjectNode arguments = NODES.objectNode();
    arguments.put(text, text);
    arguments.putArray("list").add(text).addObject().put("k", text);
    AuditEvent event = new AuditEvent(text, Instant.parse("2026-12-06T08:00:00.123456789Z"), text, text,
        List.of(text, text), text, text, text, text, text, text, arguments, text, Effect.DENY,
        List.of(text), text, 7, Duration.ofMillis(1500), Outcome.DENIED, text, text,
        Duration.ofNanos(1), 0, text, text);

    assertThat(AuditEventJson.toLine(event)).isEqualTo(oracle(event));
    assertThat(sinkBytes(List.of(List.of(event)))).isEqualTo(oracleBytes(List.of(event)));
  }

  @Test
  void toLine_equalsTheTreeLine_onNumbersAsReceived() throws IOException {
    byte[] text = ("{\"big\":123456789012345678901234567890,\"neg\":-9223372036854775809,"
        + "\"exp\":1e400,\"tiny\":1E-400,\"negzero\":-0.0,\"zero\":-0,\"trailing\":1.10,"
        + "\"frac\":0.1000000000000000000001,\"small\":0.0000001,\"max\":9223372036854775807,"
        + "\"min\":-9223372036854775808,\"pi\":3.14159,\"arr\":[1,2.50,3e-2,[{\"d\":1.0e+2}]]}")
        .getBytes(StandardCharsets.UTF_8);
    JsonNode wire = WIRE.read(text, 0, text.length);
    ObjectNode built = NODES.objectNode();
    built.put("double", 0.1 + 0.2);
    built.put("float", 1.5f);
    built.put("nan", Double.NaN);
    built.put("bigint", new BigInteger("-1" + "0".repeat(60)));
    built.put("decimal", new BigDecimal("1E+5"));
    built.set("wire", wire);
    List<AuditEvent> events = new ArrayList<>();
    for (Duration d : List.of(Duration.ZERO, Duration.ofNanos(1), Duration.ofNanos(-1_500_000),
        Duration.ofSeconds(3), Duration.ofSeconds(Long.MAX_VALUE / 2, 999_999_999),
        Duration.ofSeconds(Long.MIN_VALUE / 2))) {
      events.add(new AuditEvent("n", Instant.EPOCH, null, null, List.of(), null, null, null, "tools/call",
          null, null, built, null, null, List.of(), null, Long.MIN_VALUE, d, Outcome.FAILED, null, null, d,
          Long.MAX_VALUE, null, null));
    }

    for (AuditEvent event : events) {
      assertThat(AuditEventJson.toLine(event)).isEqualTo(oracle(event));
    }
    assertThat(sinkBytes(List.of(events))).isEqualTo(oracleBytes(events));
  }

  @Test
  void toLine_equalsTheTreeLine_onDeepAndNullMembers() throws IOException {
    JsonNode deep = NODES.stringNode("bottom");
    for (int i = 0; i < 200; i++) {
      ArrayNode level = NODES.arrayNode().add(deep).addNull().add(true);
      deep = i % 2 == 0 ? level : NODES.objectNode().set("k" + i, level);
    }
    AuditEvent nulls = new AuditEvent("id", Instant.EPOCH, null, null, List.of(), null, null, null, "m",
        null, null, NODES.nullNode(), null, null, List.of(), null, -1, Duration.ZERO, Outcome.ALLOWED,
        null, null, Duration.ZERO, -1, null, null);
    AuditEvent nested = TestEvents.event("deep", deep);

    assertThat(AuditEventJson.toLine(nulls)).isEqualTo(oracle(nulls));
    assertThat(AuditEventJson.toLine(nested)).isEqualTo(oracle(nested));
    assertThat(sinkBytes(List.of(List.of(nulls, nested)))).isEqualTo(oracleBytes(List.of(nulls, nested)));
  }

  static LongStream seeds() {
    return Gen.seeds(300);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void sink_writesTheTreeLines_forRandomEvents(long seed) throws IOException {
    Random random = new Random(seed);
    List<AuditEvent> first = new ArrayList<>();
    for (int i = random.nextInt(1, 6); i > 0; i--) {
      first.add(withAnyChars(AuditEventJsonTest.event(random), random));
    }
    List<AuditEvent> second = List.of(AuditEventJsonTest.event(random));

    for (AuditEvent event : first) {
      assertThat(AuditEventJson.toLine(event)).isEqualTo(oracle(event));
    }
    List<AuditEvent> all = new ArrayList<>(first);
    all.addAll(second);
    assertThat(sinkBytes(List.of(first, second))).isEqualTo(oracleBytes(all));
  }

  @Test
  void sink_largeBatchThenSmallOnes_sameBytes() throws IOException {
    // Over the kept buffer: the sink grows its buffers for this batch and lets them go after it.
    ObjectNode big = NODES.objectNode().put("text", "ü".repeat(JsonLinesAuditSink.KEPT_BUFFER));
    List<AuditEvent> large = List.of(TestEvents.event("1", big), TestEvents.event("2", big));
    List<AuditEvent> small = List.of(TestEvents.event("3"));

    byte[] written = sinkBytes(List.of(small, large, small, small));

    List<AuditEvent> all = new ArrayList<>(small);
    all.addAll(large);
    all.addAll(small);
    all.addAll(small);
    assertThat(written).isEqualTo(oracleBytes(all));
  }

  /** The event with a string member and an argument of any UTF-16 units, surrogates included. */
  private static AuditEvent withAnyChars(AuditEvent event, Random random) {
    StringBuilder text = new StringBuilder();
    for (int i = random.nextInt(20); i > 0; i--) {
      text.append((char) random.nextInt(0x10000));
    }
    ObjectNode arguments = NODES.objectNode();
    arguments.set("original", event.arguments());
    arguments.put(text.toString(), text.toString());
    return new AuditEvent(event.id(), event.time(), event.instance(), event.principal(), event.roles(),
        event.session(), event.client(), event.requestId(), event.method(), event.backend(), event.name(),
        arguments, event.argumentsDigest(), event.effect(), event.rules(), text.toString(),
        event.rateRemaining(), event.retryAfter(), event.outcome(), event.errorClass(), event.errorMessage(),
        event.latency(), event.responseSize(), event.responseDigest(), event.revision());
  }
}
