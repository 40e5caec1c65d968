package dev.sentinel.examples.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs the README's first command's demo end to end: {@code bin/sentinel stdio} on the example
 * config, fronting the notes server, both real processes. Runs after {@code package} (see the
 * module's pom): it needs {@code sentinel-cli/target/sentinel.jar} and
 * {@code examples/target/sentinel-examples.jar}.
 */
class StdioDemoTest {
  private static final Path HOME = Path.of("..").toAbsolutePath().normalize();

  @Test
  void run_showsAllowedDeniedLimitedAndTheAuditRecord() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    Path audit = StdioDemo.run(HOME, new PrintStream(bytes, true, StandardCharsets.UTF_8));

    String output = bytes.toString(StandardCharsets.UTF_8);
    assertThat(output.lines()).containsSubsequence(
        "$ bin/sentinel stdio --config examples/stdio/sentinel.yaml",
        "-> initialize",
        "# the backend starts in the background; the gateway announces it:",
        "  <- notifications/tools/list_changed",
        "-> tools/list",
        "  <- notes__list_notes, notes__read_note, notes__write_note",
        "     hidden by the policy: notes__delete_all_notes",
        "-> tools/call notes__read_note {\"id\":\"welcome\"}",
        "  <- ok: Hello! This note is served by NotesServer, through sentinel stdio.",
        "-> tools/call notes__write_note {\"id\":\"drafts/plan\",\"text\":\"try Sentinel\"}",
        "  <- ok: saved drafts/plan (12 characters)",
        "-> tools/call notes__write_note {\"id\":\"welcome\",\"text\":\"overwritten\"}",
        "  <- error -32012 DENIED: denied: no rule allows this request",
        "-> tools/call notes__delete_all_notes {}",
        "  <- error -32012 DENIED (rule no-bulk-delete): denied by rule no-bulk-delete: "
            + "deleting every note cannot be undone; ask a human to do it",
        "-> tools/call notes__write_note {\"id\":\"drafts/note-N\",\"text\":\"note N\"} for N = 2, 3, ...",
        "  <- ok: saved drafts/note-2 (6 characters)",
        "  <- ok: saved drafts/note-5 (6 characters)",
        "# closed the gateway's stdin: it stopped the notes server and exited with code 0");
    assertThat(output).containsPattern("  <- server sentinel-demo \\S+, protocol 2025-11-25\n");
    assertThat(output).containsPattern("  <- error -32014 LIMITED \\(rule writes-per-minute\\): "
        + "rate limited by rule writes-per-minute: too many requests \\(retry after \\d+ ms\\)\n");
    assertThat(output).contains("audit trail: " + audit + " (10 events from this session); "
        + "the record of the denial:");

    JsonNode record = JsonMapper.builder().build().readTree(
        output.substring(output.indexOf("the record of the denial:") + "the record of the denial:".length()));
    assertThat(record.path("name").asString()).isEqualTo("notes__delete_all_notes");
    assertThat(record.path("principal").asString()).isEqualTo("demo-user");
    assertThat(record.path("outcome").asString()).isEqualTo("DENIED");
    assertThat(record.path("rules").get(0).asString()).isEqualTo("no-bulk-delete");
    assertThat(audit).isEqualTo(HOME.resolve("examples/stdio/audit.jsonl"));

    List<ProcessHandle> left = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList();
    assertThat(left).as("processes the demo left running").isEmpty();
  }

  @Test
  void readme_firstCommandRunsThisDemo() throws Exception {
    String readme = Files.readString(HOME.resolve("README.md"));

    assertThat(readme).contains(
        "./mvnw -q -pl sentinel-cli,examples -am package -DskipTests && java -jar examples/target/sentinel-examples.jar");
  }
}
