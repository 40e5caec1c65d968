package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

class JsonLinesAuditSinkTest {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  @TempDir Path dir;

  private static List<AuditEvent> readBack(Path file) throws IOException {
    return Files.readAllLines(file, StandardCharsets.UTF_8).stream()
        .map(line -> AuditEventJson.fromJson(MAPPER.readTree(line)))
        .collect(Collectors.toList());
  }

  @Test
  void write_linesReadBackAsEqualEvents() throws IOException {
    Path file = dir.resolve("audit.jsonl");
    AuditEvent a = TestEvents.event("a", MAPPER.readTree("{\"path\":\"/tmp/ü\",\"n\":[1,2.5]}"));
    AuditEvent b = TestEvents.event("b");

    try (JsonLinesAuditSink sink = JsonLinesAuditSink.open(file)) {
      sink.write(List.of(a));
      sink.write(List.of(b));
      assertThat(sink.durable()).isFalse();
      assertThat(readBack(file)).containsExactly(a, b); // visible after each batch
    }

    assertThat(Files.readString(file)).endsWith("\n");
  }

  @Test
  void open_createsParentDirectories() throws IOException {
    Path file = dir.resolve("a/b/c/audit.jsonl");

    try (JsonLinesAuditSink sink = JsonLinesAuditSink.open(file)) {
      sink.write(List.of(TestEvents.event("x")));
    }

    assertThat(readBack(file)).extracting(AuditEvent::id).containsExactly("x");
  }

  @Test
  void open_appendsAcrossReopen() throws IOException {
    Path file = dir.resolve("audit.jsonl");
    try (JsonLinesAuditSink sink = JsonLinesAuditSink.open(file)) {
      sink.write(List.of(TestEvents.event("1"), TestEvents.event("2")));
    }

    try (JsonLinesAuditSink sink = JsonLinesAuditSink.open(file)) {
      sink.write(List.of(TestEvents.event("3")));
    }

    assertThat(readBack(file)).extracting(AuditEvent::id).containsExactly("1", "2", "3");
  }

  @Test
  void open_endsUnfinishedLastLineFirst() throws IOException {
    Path file = dir.resolve("audit.jsonl");
    Files.writeString(file, AuditEventJson.toLine(TestEvents.event("1")) + "\n{\"id\":\"torn");

    try (JsonLinesAuditSink sink = JsonLinesAuditSink.open(file)) {
      sink.write(List.of(TestEvents.event("2")));
    }

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(1)).isEqualTo("{\"id\":\"torn");
    assertThat(AuditEventJson.fromJson(MAPPER.readTree(lines.get(2))).id()).isEqualTo("2");
  }

  @Test
  void open_fsyncModeIsDurable() throws IOException {
    Path file = dir.resolve("durable.jsonl");

    try (JsonLinesAuditSink sink = JsonLinesAuditSink.open(file, true)) {
      sink.write(List.of(TestEvents.event("d")));
      assertThat(sink.durable()).isTrue();
    }

    assertThat(readBack(file)).extracting(AuditEvent::id).containsExactly("d");
  }

  @Test
  void write_afterCloseFails() throws IOException {
    JsonLinesAuditSink sink = JsonLinesAuditSink.open(dir.resolve("x.jsonl"));
    sink.close();
    sink.close();

    assertThatThrownBy(() -> sink.write(List.of(TestEvents.event("x"))))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void open_unwritablePathFailsNamingIt() throws IOException {
    Path blocker = dir.resolve("file");
    Files.writeString(blocker, "");

    assertThatThrownBy(() -> JsonLinesAuditSink.open(blocker.resolve("audit.jsonl")))
        .hasMessageContaining(blocker.toString());
  }

  @Test
  void dispatcherWritesThroughToFile() throws IOException {
    Path file = dir.resolve("audit.jsonl");
    List<AuditEvent> sent =
        List.of(TestEvents.event("1"), TestEvents.event("2"), TestEvents.event("3"));

    try (AuditDispatcher dispatcher =
        AuditDispatcher.builder().sink(JsonLinesAuditSink.open(file, true)).build()) {
      sent.forEach(dispatcher::record);
    }

    assertThat(readBack(file)).containsExactlyElementsOf(sent);
  }
}
