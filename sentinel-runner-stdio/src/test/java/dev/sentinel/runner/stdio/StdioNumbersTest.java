package dev.sentinel.runner.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Clock;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.testing.NumbersServer;
import dev.sentinel.jdbc.AuditQuery;
import dev.sentinel.jdbc.AuditRecord;
import dev.sentinel.jdbc.AuditVerifier;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.jdbc.VerifyReport;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Numbers through the real stdio gateway, byte level on both sides: a client writing raw lines
 * on its stdin, and a backend child process ({@link NumbersServer}) that shows the line it
 * received and answers with numbers written by hand. Every number a {@code double} would change
 * arrives as it was sent, the audit trail keeps the short form, and request ids that could not
 * be answered with the same token are refused with id null.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StdioNumbersTest {
  private static final String ARGUMENTS = "{\"a\":12345678901234567.89,\"b\":0.1000000000000000000001,"
      + "\"c\":1e999999,\"d\":-0.0,\"e\":1.10,\"f\":123456789012345678901234567890,\"g\":1.5e1,"
      + "\"h\":-1E-999999}";

  @TempDir Path dir;

  private GatewayConfig config() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String yaml = "backends:\n"
        + "  - name: numbers\n"
        + "    stdio:\n"
        + "      command: " + StdioClient.JSON.writeValueAsString(java) + "\n"
        + "      args: [\"-cp\", " + StdioClient.JSON.writeValueAsString(System.getProperty("java.class.path"))
        + ", \"" + NumbersServer.class.getName() + "\"]\n"
        + "policy:\n"
        + "  rules:\n"
        + "    - id: everything\n"
        + "      allow: {}\n"
        + "    - id: small-amounts\n"
        + "      deny: { tools: [\"*\"], when: { \"/amount\": { gt: 1000 } } }\n"
        + "audit: { sinks: [ { database: {} }, { jsonl: audit.jsonl } ] }\n";
    return GatewayConfig.parse(yaml, "sentinel.yaml", dir, Map.of());
  }

  private static String call(String id, String arguments) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\","
        + "\"params\":{\"name\":\"numbers__numbers\",\"arguments\":" + arguments + "}}";
  }

  @Test
  void toolsCall_numbersCrossTheGatewayAsSent_bothWays_andTheTrailKeepsThemShort() throws Exception {
    String answer;
    try (StdioClient client = new StdioClient(config(), Clock.system())) {
      client.initialize();

      client.sendLine(call("7", ARGUMENTS));
      answer = client.readLine();
      assertThat(client.stop()).isZero();
    }

    JsonNode response = StdioClient.JSON.readTree(answer);
    String atTheBackend = response.path("result").path("content").get(0).path("text").asString();
    assertThat(atTheBackend).contains("\"arguments\":" + ARGUMENTS);
    assertThat(answer).startsWith("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":")
        .contains("\"structuredContent\":{\"back\":[" + NumbersServer.NUMBERS + "]}");

    String line = Files.readAllLines(dir.resolve("audit.jsonl"), StandardCharsets.UTF_8).stream()
        .filter(l -> l.contains("tools/call")).findFirst().orElseThrow();
    assertThat(line).contains("\"arguments\":" + ARGUMENTS).doesNotContain("Infinity").hasSizeLessThan(2048);

    AuditEvent event = trail().stream().filter(e -> "tools/call".equals(e.method())).findFirst().orElseThrow();
    assertThat(event.arguments().path("c").decimalValue()).isEqualByComparingTo(new BigDecimal("1e999999"));
    assertThat(event.arguments().path("b").decimalValue())
        .isEqualByComparingTo(new BigDecimal("0.1000000000000000000001"));
    assertThat(event.arguments().toString()).hasSizeLessThan(512);
  }

  @Test
  void requestIds_thatCannotRoundTripAreRefusedWithNullId_andLongIdsAreAnsweredExactly() throws Exception {
    String refusal = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
        + "\"message\":\"invalid request: \\\"id\\\" must be a string or an integer of at most 64 bits\"}}";
    try (StdioClient client = new StdioClient(config(), Clock.system())) {
      client.initialize();

      client.sendLine("{\"jsonrpc\":\"2.0\",\"id\":1e999,\"method\":\"ping\"}");
      assertThat(client.readLine()).isEqualTo(refusal);
      client.sendLine(call("1e999", "{}"));
      assertThat(client.readLine()).isEqualTo(refusal);
      client.sendLine(call("1.5", "{}"));
      assertThat(client.readLine()).isEqualTo(refusal);
      client.sendLine("{\"jsonrpc\":\"2.0\",\"id\":18446744073709551617,\"method\":\"tools/list\"}");
      assertThat(client.readLine()).isEqualTo(refusal);

      client.sendLine(call("9223372036854775807", "{}"));
      assertThat(client.readLine()).startsWith("{\"jsonrpc\":\"2.0\",\"id\":9223372036854775807,\"result\":");
      client.sendLine("{\"jsonrpc\":\"2.0\",\"id\":-9223372036854775808,\"method\":\"ping\"}");
      assertThat(client.readLine()).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":-9223372036854775808,\"result\":{}}");
      assertThat(client.stop()).isZero();
    }

    assertThat(trail()).filteredOn(e -> "tools/call".equals(e.method()))
        .extracting(AuditEvent::requestId).containsExactly("9223372036854775807");
  }

  /**
   * A number beyond a double's range is still more than 1000: read as a double, {@code 1e999}
   * was Infinity, which no numeric condition matched, so the deny rule let it through.
   */
  @Test
  void toolsCall_amountBeyondDoubleRange_isStillDeniedByANumericRule() throws Exception {
    try (StdioClient client = new StdioClient(config(), Clock.system())) {
      client.initialize();

      client.sendLine(call("1", "{\"amount\":1e999}"));
      String huge = client.readLine();
      client.sendLine(call("2", "{\"amount\":999.99}"));
      String small = client.readLine();
      assertThat(client.stop()).isZero();

      assertThat(huge).startsWith("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32012,");
      assertThat(small).startsWith("{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":");
    }
  }

  /**
   * The longest numbers a client may send (1000 characters) have a canonical form a few
   * characters longer ({@code 1.111...e999}): the trail's reader must read back every record the
   * gateway could write, or one call makes the whole trail unverifiable.
   */
  @Test
  void toolsCall_numbersOfAThousandCharacters_leaveTheTrailVerifiable() throws Exception {
    String arguments = "{\"i\":" + "1".repeat(1000) + ",\"f\":" + "1".repeat(998) + "e5,\"d\":-"
        + "9".repeat(500) + "." + "9".repeat(498) + "}";
    try (StdioClient client = new StdioClient(config(), Clock.system())) {
      client.initialize();

      client.sendLine(call("3", arguments));
      assertThat(client.readLine()).startsWith("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":");
      assertThat(client.stop()).isZero();
    }

    AuditEvent event = trail().stream().filter(e -> "tools/call".equals(e.method())).findFirst().orElseThrow();
    assertThat(event.arguments().path("i").bigIntegerValue()).isEqualTo(new java.math.BigInteger("1".repeat(1000)));
    assertThat(event.arguments().path("f").decimalValue()).isEqualByComparingTo(new BigDecimal("1".repeat(998) + "e5"));
  }

  /** The database trail, after checking that its hash chain verifies. */
  private List<AuditEvent> trail() {
    try (JdbcStores stores = JdbcStores.open(
        DatabaseSettings.of("jdbc:sqlite:" + dir.resolve("sentinel.db"), null, null), Clock.system())) {
      VerifyReport report = AuditVerifier.verify(stores.database());
      assertThat(report.ok()).as(report.problem()).isTrue();
      List<AuditEvent> events = new ArrayList<>();
      AuditQuery.builder().build().forEach(stores.database(), (AuditRecord r) -> events.add(r.event()));
      return events;
    }
  }
}
