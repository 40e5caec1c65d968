package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The behaviour every {@link AuditSink} must have: what it is given is what it stores, batch by
 * batch, in order, and reads back as the same JSON. Each implementation's test extends this (in
 * sentinel-core's test-jar for other modules), supplies a new, empty store per test and a way to
 * read back everything stored, and adds its own cases.
 *
 * <p>Events are compared by their canonical JSON ({@link CanonicalJson#bytes} of {@link
 * AuditEventJson#toJson}): a store may keep {@code 1.0} as {@code 1}, but not change a value.
 */
public abstract class AuditSinkContract {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  /** The sink under test, new and over an empty store for each test. */
  protected AuditSink sink;

  /** A new sink over a new, empty store. */
  protected abstract AuditSink newSink() throws Exception;

  /** Everything the store holds, in the order it was written, read as a new reader would. */
  protected abstract List<AuditEvent> stored() throws Exception;

  /** Whether this implementation (as the test configures it) promises durability. */
  protected abstract boolean expectedDurable();

  @BeforeEach
  void openSink() throws Exception {
    sink = newSink();
  }

  @AfterEach
  void closeSink() throws Exception {
    if (sink != null) {
      sink.close();
    }
  }

  /** A small allowed tools/call event. */
  protected static AuditEvent event(String id) {
    return TestEvents.event(id);
  }

  /** The canonical JSON text of events, for comparisons by value. */
  protected static List<String> canonical(List<AuditEvent> events) {
    return events.stream()
        .map(e -> new String(CanonicalJson.bytes(AuditEventJson.toJson(e)), StandardCharsets.UTF_8))
        .collect(Collectors.toList());
  }

  @Test
  void write_oneBatch_storesEveryEventInOrder() throws Exception {
    List<AuditEvent> batch = List.of(event("a"), event("b"), event("c"));

    sink.write(batch);

    assertThat(canonical(stored())).containsExactlyElementsOf(canonical(batch));
  }

  @Test
  void write_severalBatches_keepTheirOrder() throws Exception {
    sink.write(List.of(event("1"), event("2")));
    sink.write(List.of(event("3")));
    sink.write(List.of(event("4"), event("5")));

    assertThat(stored()).extracting(AuditEvent::id).containsExactly("1", "2", "3", "4", "5");
  }

  @Test
  void write_emptyBatch_storesNothing() throws Exception {
    sink.write(List.of());

    assertThat(stored()).isEmpty();
  }

  @Test
  void write_sameIdTwice_storesBoth() throws Exception {
    // An intent and its final record share the event id.
    AuditEvent intent = withOutcome(event("x"), Outcome.PENDING);
    AuditEvent last = event("x");

    sink.write(List.of(intent));
    sink.write(List.of(last));

    assertThat(stored())
        .extracting(AuditEvent::outcome)
        .containsExactly(Outcome.PENDING, Outcome.ALLOWED);
  }

  @Test
  void write_everyFieldAndAwkwardValues_readBackAsTheSameJson() throws Exception {
    JsonNode arguments =
        MAPPER.readTree(
            "{\"path\":\"/tmp/\u00fc/\u65e5\u672c/\ud83d\ude00\",\"quote\":\"a\\\"b\\\\c\","
                + "\"control\":\"\\u0000\\u0001\\n\\t\",\"n\":[1,2.5,-0.0,1e300,123456789012345678901234567890,"
                + "0.1000000000000000055511151231257827],\"nested\":{\"z\":null,\"a\":[true,false,{}]}}");
    AuditEvent full =
        AuditEvent.builder()
            .id("0190f5f0-full")
            .time(Instant.parse("2026-03-04T05:06:07.123456789Z"))
            .instance("gw-\u00e9")
            .principal(dev.sentinel.api.Principal.of("alice, \"the admin\"", "admin", "dev"))
            .session("s,1", "client\n2")
            .requestId("42")
            .request(Request.toolCall("fs", "fs__write_file", arguments))
            .arguments(arguments, CanonicalJson.sha256(arguments))
            .decision(dev.sentinel.api.Decision.allow(List.of("rule-1", "rule-2"), "because"))
            .rateRemaining(7)
            .outcome(Outcome.FAILED)
            .error("java.io.IOException", "boom, \"quoted\"")
            .latency(Duration.ofNanos(1_234_567_891))
            .response(10, "sha256:ab")
            .revision("r9")
            .build();
    AuditEvent refused =
        AuditEvent.builder()
            .id("0190f5f0-refused")
            .time(Instant.parse("2026-03-04T05:06:08Z"))
            .request(Request.of("tools/list"))
            .arguments(MAPPER.readTree("{}"), null)
            .refusal(new Refusal(Outcome.LIMITED, List.of("per-user"), "too many", Duration.ofMillis(1500)))
            .outcome(Outcome.LIMITED)
            .build();

    sink.write(List.of(full, refused));

    List<AuditEvent> back = stored();
    assertThat(canonical(back)).containsExactlyElementsOf(canonical(List.of(full, refused)));
    assertThat(back.get(0).effect()).isEqualTo(Effect.ALLOW);
    assertThat(back.get(0).time()).isEqualTo(full.time());
    assertThat(back.get(0).latency()).isEqualTo(full.latency());
  }

  @Test
  void write_largeBatch_storesAll() throws Exception {
    List<AuditEvent> batch = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      batch.add(event("e" + i));
    }

    sink.write(batch);

    assertThat(stored()).extracting(AuditEvent::id).containsExactlyElementsOf(
        batch.stream().map(AuditEvent::id).collect(Collectors.toList()));
  }

  @Test
  void durable_isWhatTheImplementationPromises() {
    assertThat(sink.durable()).isEqualTo(expectedDurable());
  }

  @Test
  void write_afterClose_failsAndStoresNothing() throws Exception {
    sink.write(List.of(event("before")));
    sink.close();
    AuditSink closed = sink;
    sink = null;

    assertThatThrownBy(() -> closed.write(List.of(event("after")))).isInstanceOf(Exception.class);
    assertThat(stored()).extracting(AuditEvent::id).containsExactly("before");
  }

  /** The event with another outcome. */
  protected static AuditEvent withOutcome(AuditEvent e, Outcome outcome) {
    return new AuditEvent(e.id(), e.time(), e.instance(), e.principal(), e.roles(), e.session(),
        e.client(), e.requestId(), e.method(), e.backend(), e.name(), e.arguments(),
        e.argumentsDigest(), e.effect(), e.rules(), e.reason(), e.rateRemaining(), e.retryAfter(),
        outcome, e.errorClass(), e.errorMessage(), e.latency(), e.responseSize(),
        e.responseDigest(), e.revision());
  }
}
