package dev.sentinel.examples.stdio;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

/**
 * A small MCP server over stdio, built on the official MCP Java SDK: notes kept in memory, with
 * four tools, {@code list_notes}, {@code read_note {id}}, {@code write_note {id, text}} and
 * {@code delete_all_notes}. It governs nothing itself; the demo puts {@code sentinel stdio} in
 * front of it (see {@code examples/stdio/sentinel.yaml}).
 *
 * <p>{@code java -cp examples/target/sentinel-examples.jar dev.sentinel.examples.stdio.NotesServer}
 * serves one client on stdin/stdout and exits when stdin closes. Its notes start as two
 * welcome notes and are forgotten when it stops. Thread-safe.
 */
public final class NotesServer {
  /** The names of the server's tools, in the order it lists them. */
  public static final List<String> TOOLS =
      List.of("list_notes", "read_note", "write_note", "delete_all_notes");

  private final NavigableMap<String, String> notes = new ConcurrentSkipListMap<>();

  /** A server whose store holds the two welcome notes. */
  public NotesServer() {
    notes.put("welcome", "Hello! This note is served by NotesServer, through sentinel stdio.");
    notes.put("howto/policy", "Edit examples/stdio/policy.yaml to change what the agent may do.");
  }

  /** Serves one client on stdin/stdout until stdin closes. */
  public static void main(String[] args) throws InterruptedException {
    CountDownLatch endOfInput = new CountDownLatch(1);
    McpSyncServer server = new NotesServer().start(new EndAware(System.in, endOfInput));
    endOfInput.await();
    server.closeGracefully();
  }

  /** Starts serving the MCP protocol on {@code in} and the process's stdout. */
  McpSyncServer start(InputStream in) {
    McpJsonMapper mapper = new JacksonMcpJsonMapper(JsonMapper.builder().build());
    return McpServer.sync(new StdioServerTransportProvider(mapper, in, System.out))
        .serverInfo("notes", "1.0.0")
        .instructions("A notebook: list, read and write notes by id.")
        .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
        .toolCall(tool(mapper, "list_notes", "Lists the ids of all notes", "{}", List.of()),
            (exchange, request) -> listNotes())
        .toolCall(tool(mapper, "read_note", "Reads one note", "{\"id\":{\"type\":\"string\"}}",
                List.of("id")),
            (exchange, request) -> readNote(text(request.arguments(), "id")))
        .toolCall(tool(mapper, "write_note", "Creates or replaces a note",
                "{\"id\":{\"type\":\"string\"},\"text\":{\"type\":\"string\"}}", List.of("id", "text")),
            (exchange, request) -> writeNote(text(request.arguments(), "id"),
                text(request.arguments(), "text")))
        .toolCall(tool(mapper, "delete_all_notes", "Deletes every note, for good", "{}", List.of()),
            (exchange, request) -> deleteAllNotes())
        .build();
  }

  /** {@code list_notes}: the ids of all notes, one a line. */
  CallToolResult listNotes() {
    return ok(notes.isEmpty() ? "(no notes)" : String.join("\n", notes.keySet()));
  }

  /** {@code read_note}: the note's text, or an error result if there is no such note. */
  CallToolResult readNote(@Nullable String id) {
    String text = id == null ? null : notes.get(id);
    return text == null ? error("no note with id '" + id + "'") : ok(text);
  }

  /** {@code write_note}: stores the note, replacing any with the same id. */
  CallToolResult writeNote(@Nullable String id, @Nullable String text) {
    if (id == null || id.isBlank() || text == null) {
      return error("write_note needs a non-blank 'id' and a 'text'");
    }
    boolean replaced = notes.put(id, text) != null;
    return ok((replaced ? "replaced " : "saved ") + id + " (" + text.length() + " characters)");
  }

  /** {@code delete_all_notes}: forgets every note. */
  CallToolResult deleteAllNotes() {
    int count = notes.size();
    notes.clear();
    return ok("deleted " + count + " notes");
  }

  private static McpSchema.Tool tool(
      McpJsonMapper mapper, String name, String description, String properties, List<String> required) {
    String requiredJson = required.isEmpty() ? "[]" : "[\"" + String.join("\",\"", required) + "\"]";
    return McpSchema.Tool.builder(name, mapper,
            "{\"type\":\"object\",\"properties\":" + properties + ",\"required\":" + requiredJson + "}")
        .description(description)
        .build();
  }

  /** A string argument, or null when it is missing or not a string. */
  private static @Nullable String text(@Nullable Map<String, Object> arguments, String key) {
    Object value = arguments == null ? null : arguments.get(key);
    return value instanceof String ? (String) value : null;
  }

  private static CallToolResult ok(String text) {
    return CallToolResult.builder().addTextContent(text).isError(false).build();
  }

  private static CallToolResult error(String text) {
    return CallToolResult.builder().addTextContent(text).isError(true).build();
  }

  /** Stdin that says when it ends, so that the server exits with its client. */
  private static final class EndAware extends FilterInputStream {
    private final CountDownLatch ended;

    EndAware(InputStream in, CountDownLatch ended) {
      super(in);
      this.ended = ended;
    }

    @Override
    public int read() throws IOException {
      try {
        return ended(super.read());
      } catch (IOException e) {
        ended.countDown();
        throw e;
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return ended(super.read(b, off, len));
      } catch (IOException e) {
        ended.countDown();
        throw e;
      }
    }

    private int ended(int n) {
      if (n < 0) {
        ended.countDown();
      }
      return n;
    }
  }
}
