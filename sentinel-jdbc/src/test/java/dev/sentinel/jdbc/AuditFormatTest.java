package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.AuditEventJson;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.JsonNodeFactory;

class AuditFormatTest {
  private static final AuditEvent EVENT =
      AuditEvent.builder()
          .id("id-1")
          .time(Instant.parse("2026-01-01T00:00:00Z"))
          .principal(Principal.of("alice, \"admin\"", "dev"))
          .request(Request.toolCall("fs", "fs__read", JsonNodeFactory.instance.objectNode()))
          .arguments(JsonNodeFactory.instance.objectNode().put("p", "a,b\r\nc"), "sha256:00")
          .decision(Decision.allow(List.of("r1", "r2"), "line1\nline2"))
          .outcome(Outcome.ALLOWED)
          .latency(Duration.ofNanos(1_500_000))
          .build();

  private static String write(AuditFormat format, AuditRecord... records) {
    StringWriter out = new StringWriter();
    try (AuditWriter writer = format.writer(out)) {
      for (AuditRecord r : records) {
        writer.write(r);
      }
    }
    return out.toString();
  }

  @Test
  void quote_followsRfc4180() {
    assertThat(AuditFormat.quote("plain")).isEqualTo("plain");
    assertThat(AuditFormat.quote(null)).isEmpty();
    assertThat(AuditFormat.quote("a,b")).isEqualTo("\"a,b\"");
    assertThat(AuditFormat.quote("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
    assertThat(AuditFormat.quote("a\nb")).isEqualTo("\"a\nb\"");
    assertThat(AuditFormat.quote("a\rb")).isEqualTo("\"a\rb\"");
  }

  @Test
  void csv_headerThenOneQuotedLinePerRecord_crlf() {
    String csv = write(AuditFormat.CSV, new AuditRecord(7, EVENT));

    String[] lines = csv.split("\r\n", -1);
    assertThat(lines[0]).isEqualTo(String.join(",", AuditFormat.CSV_COLUMNS));
    assertThat(csv).startsWith(lines[0] + "\r\n7,id-1,2026-01-01T00:00:00Z,,\"alice, \"\"admin\"\"\",dev,");
    assertThat(csv).contains(",\"{\"\"p\"\":\"\"a,b\\r\\nc\"\"}\",sha256:00,ALLOW,r1 r2,\"line1\nline2\",");
    assertThat(csv).contains(",ALLOWED,,,1.5,-1,,");
    assertThat(csv).endsWith("\r\n");
  }

  @Test
  void csv_noRecords_isTheHeaderAlone() {
    assertThat(write(AuditFormat.CSV))
        .isEqualTo(String.join(",", AuditFormat.CSV_COLUMNS) + "\r\n");
  }

  @Test
  void jsonl_isTheEventLine() {
    assertThat(write(AuditFormat.JSONL, new AuditRecord(1, EVENT), new AuditRecord(2, EVENT)))
        .isEqualTo(AuditEventJson.toLine(EVENT) + "\n" + AuditEventJson.toLine(EVENT) + "\n");
  }

  @Test
  void table_oneLinePerRecord_andExplainsPending() {
    AuditEvent pending = new AuditEvent(EVENT.id(), EVENT.time(), null, "bob", List.of(), null,
        null, null, "tools/call", "fs", "a-very-long-tool-name-that-does-not-fit", EVENT.arguments(),
        null, null, List.of(), "", -1, Duration.ZERO, Outcome.PENDING, null, null, Duration.ZERO,
        -1, null, null);

    String table = write(AuditFormat.TABLE, new AuditRecord(1, EVENT), new AuditRecord(2, pending));

    List<String> lines = table.lines().collect(java.util.stream.Collectors.toList());
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).contains("SEQ", "TIME", "PRINCIPAL", "OUTCOME", "LATENCY_MS");
    assertThat(lines.get(1)).contains("alice, \"admin\"", "fs__read", "ALLOWED", "r1", "1.5");
    assertThat(lines.get(2)).contains("bob", "a-very-long-tool-name-t…", "PENDING");
    assertThat(lines.get(3)).startsWith("PENDING: recorded before forwarding");
  }

  @Test
  void table_noRecords_saysSo() {
    assertThat(write(AuditFormat.TABLE)).contains("(no matching audit records)");
  }
}
