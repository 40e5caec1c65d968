package dev.sentinel.examples.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.TextContent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class NotesServerTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static String text(CallToolResult result) {
    return ((TextContent) result.content().get(0)).text();
  }

  @Test
  void listNotes_startsWithTheWelcomeNotes() {
    CallToolResult result = new NotesServer().listNotes();

    assertThat(result.isError()).isFalse();
    assertThat(text(result)).isEqualTo("howto/policy\nwelcome");
  }

  @Test
  void writeNote_thenRead_givesTheText() {
    NotesServer server = new NotesServer();

    assertThat(text(server.writeNote("drafts/a", "hello"))).isEqualTo("saved drafts/a (5 characters)");
    assertThat(text(server.writeNote("drafts/a", "hello again"))).isEqualTo("replaced drafts/a (11 characters)");
    assertThat(text(server.readNote("drafts/a"))).isEqualTo("hello again");
  }

  @Test
  void readNote_unknownOrMissingId_isAnErrorResult() {
    NotesServer server = new NotesServer();

    assertThat(server.readNote("nope").isError()).isTrue();
    assertThat(text(server.readNote("nope"))).isEqualTo("no note with id 'nope'");
    assertThat(server.readNote(null).isError()).isTrue();
  }

  @Test
  void writeNote_blankIdOrNoText_isAnErrorResult() {
    NotesServer server = new NotesServer();

    assertThat(server.writeNote(" ", "x").isError()).isTrue();
    assertThat(server.writeNote("drafts/a", null).isError()).isTrue();
    assertThat(text(server.listNotes())).doesNotContain("drafts/a");
  }

  @Test
  void deleteAllNotes_forgetsEveryNote() {
    NotesServer server = new NotesServer();

    assertThat(text(server.deleteAllNotes())).isEqualTo("deleted 2 notes");
    assertThat(text(server.listNotes())).isEqualTo("(no notes)");
  }

  @Test
  void main_servesMcpOnStdioAndExitsWhenStdinCloses() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = List.of(java, "-cp", System.getProperty("java.class.path"),
        NotesServer.class.getName());
    Path log = Path.of("target", "notes-server-test.log");
    try (StdioProcess server = StdioProcess.start("the notes server", command, Path.of("."), log)) {
      JsonNode init = server.request("initialize", JSON.readTree(
          "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
              + "\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}"));
      server.notify("notifications/initialized");
      JsonNode tools = server.request("tools/list", JSON.createObjectNode());
      JsonNode call = server.request("tools/call",
          JSON.readTree("{\"name\":\"read_note\",\"arguments\":{\"id\":\"welcome\"}}"));

      assertThat(init.path("result").path("serverInfo").path("name").asString()).isEqualTo("notes");
      List<String> names = new ArrayList<>();
      tools.path("result").path("tools").forEach(tool -> names.add(tool.path("name").asString()));
      assertThat(names).containsExactlyInAnyOrderElementsOf(NotesServer.TOOLS);
      assertThat(call.path("result").path("content").get(0).path("text").asString()).startsWith("Hello!");
      assertThat(server.stop()).as("exit code after stdin closed").isZero();
    }
  }
}
