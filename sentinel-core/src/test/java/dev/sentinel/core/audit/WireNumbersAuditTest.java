package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.core.internal.WireJson;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Arguments as the wire reads them (exact decimals that keep their text) on every audit path:
 * redaction, the digest, the canonical bytes of the hash chain, the JSON line. A few bytes with a
 * huge exponent stay a few bytes everywhere, and a record written with them reads back to the
 * same canonical bytes, as one written when floats were read as doubles still does.
 */
class WireNumbersAuditTest {
  private static final String ARGUMENTS = "{\"a\":1e999999,\"b\":1.10,\"c\":-0.0,\"d\":12345678901234567.89,"
      + "\"e\":0.1000000000000000000001,\"f\":1.5e1,\"g\":-1E-999999,\"h\":123456789012345678901234567890}";
  private static final WireJson WIRE = new WireJson(StreamReadConstraints.defaults());
  /** How the database sink's reader parses a stored record (sentinel-jdbc's AuditRows). */
  private static final JsonMapper STORED =
      JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();
  /** How every reader parsed floats before: as doubles. */
  private static final JsonMapper DOUBLES = JsonMapper.builder().build();

  private static JsonNode wire(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    return WIRE.read(bytes, 0, bytes.length);
  }

  @Test
  void canonicalBytes_ofWireNumbers_areByValueAndAsShortAsReceived() {
    assertThat(new String(CanonicalJson.bytes(wire(ARGUMENTS)), StandardCharsets.UTF_8))
        .isEqualTo("{\"a\":1e999999,\"b\":1.1,\"c\":0,\"d\":12345678901234567.89,\"e\":0.1000000000000000000001,"
            + "\"f\":15,\"g\":-1e-999999,\"h\":1.2345678901234567890123456789e29}");
    assertThat(CanonicalJson.sha256(wire("{\"n\":1.10}"))).isEqualTo(CanonicalJson.sha256(wire("{\"n\":1.1}")))
        .isEqualTo(CanonicalJson.sha256(DOUBLES.readTree("{\"n\":1.1}")));
  }

  @Test
  void redact_wireNumbers_keepsThemAsReceived() {
    Redactor redactor = Redactor.defaults();
    Redacted redacted = redactor.redact(wire(ARGUMENTS));

    assertThat(redacted.value().toString()).isEqualTo(ARGUMENTS);
    assertThat(redacted.size()).isLessThan(256);
    // digests are keyed now (hmac-sha256:<key id>:...): the digest is of the values as received
    assertThat(redactor.digestKey().matches(wire(ARGUMENTS), redacted.digest())).isTrue();
  }

  @Test
  void recordWithWireNumbers_isShortOnEveryPath_andReadsBackToTheSameCanonicalBytes() {
    AuditEvent event = TestEvents.event("e-1", wire(ARGUMENTS));

    String line = AuditEventJson.toLine(event);
    byte[] canonical = AuditEventJson.canonicalBytes(event);

    assertThat(line).contains("\"arguments\":" + ARGUMENTS).hasSizeLessThan(1024);
    assertThat(canonical).hasSizeLessThan(1024);
    assertThat(AuditEventJson.canonicalBytes(stored(event))).isEqualTo(canonical);
    assertThat(AuditEventJson.canonicalBytes(AuditEventJson.fromJson(STORED.readTree(line)))).isEqualTo(canonical);
  }

  /**
   * Chains written while floats were read as doubles: their records (the canonical JSON of
   * events whose arguments held doubles) still read back to the bytes that were hashed.
   */
  @Test
  void recordWrittenWhenFloatsWereDoubles_stillReadsBackToTheSameCanonicalBytes() {
    AuditEvent event = TestEvents.event("e-0", DOUBLES.readTree(
        "{\"a\":1e999,\"b\":0.1,\"d\":12345678901234567.89,\"x\":2.82879384806159E17,\"z\":-0.0,\"w\":1.5e300}"));

    assertThat(AuditEventJson.canonicalBytes(stored(event))).isEqualTo(AuditEventJson.canonicalBytes(event));
  }

  /** The event as the database sink stores it (its canonical JSON) and its reader reads it back. */
  private static AuditEvent stored(AuditEvent event) {
    String record = new String(CanonicalJson.bytes(AuditEventJson.toJson(event)), StandardCharsets.UTF_8);
    return AuditEventJson.fromJson(STORED.readTree(record));
  }
}
