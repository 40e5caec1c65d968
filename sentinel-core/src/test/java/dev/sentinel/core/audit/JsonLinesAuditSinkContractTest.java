package dev.sentinel.core.audit;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** The {@link AuditSink} contract for {@link JsonLinesAuditSink}, with fsync (durable). */
class JsonLinesAuditSinkContractTest extends AuditSinkContract {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("audit.jsonl");
  }

  @Override
  protected AuditSink newSink() {
    return JsonLinesAuditSink.open(file(), true);
  }

  @Override
  protected List<AuditEvent> stored() throws Exception {
    if (!Files.exists(file())) {
      return List.of();
    }
    return Files.readAllLines(file(), StandardCharsets.UTF_8).stream()
        .map(line -> AuditEventJson.fromJson(MAPPER.readTree(line)))
        .collect(Collectors.toList());
  }

  @Override
  protected boolean expectedDurable() {
    return true;
  }
}
