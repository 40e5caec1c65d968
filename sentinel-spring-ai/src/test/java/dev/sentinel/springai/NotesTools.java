package dev.sentinel.springai;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.ai.tool.annotation.Tool;

/** The example's tools: plain Spring AI {@code @Tool} methods that know nothing of Sentinel. */
public class NotesTools {
  /** What each tool was called with, in order. */
  final List<String> calls = new CopyOnWriteArrayList<>();
  private final Map<String, String> notes = new ConcurrentHashMap<>(Map.of("welcome", "hello"));

  @Tool(name = "read_note", description = "Reads a note")
  public String readNote(String title) {
    calls.add("read_note " + title);
    return notes.getOrDefault(title, "");
  }

  @Tool(name = "write_note", description = "Writes a note")
  public String writeNote(String title, String body) {
    calls.add("write_note " + title);
    notes.put(title, body);
    return "saved";
  }

  @Tool(name = "export_notes", description = "Exports the notes")
  public String exportNotes() {
    calls.add("export_notes");
    throw new IllegalStateException("the export service is unreachable");
  }
}
