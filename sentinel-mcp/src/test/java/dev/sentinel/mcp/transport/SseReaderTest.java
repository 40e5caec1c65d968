package dev.sentinel.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SseReaderTest {

  private static InputStream text(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String data(SseReader.Event event) {
    return new String(event.data(), 0, event.length(), StandardCharsets.UTF_8);
  }

  @Test
  void next_joinsDataLines_skipsComments_tracksIdAndRetry() throws Exception {
    SseReader reader = new SseReader(text(
        ": comment\r\nretry: 1500\nid: 7\ndata: {\"a\":\ndata:1}\n\nevent: other\ndata: x\n\n"
            + "data: unterminated"), 100);

    SseReader.Event first = reader.next();
    assertThat(first.type()).isEqualTo("message");
    assertThat(data(first)).isEqualTo("{\"a\":\n1}");
    assertThat(reader.lastEventId()).isEqualTo("7");
    assertThat(reader.retryMillis()).isEqualTo(1500);
    SseReader.Event second = reader.next();
    assertThat(second.type()).isEqualTo("other");
    assertThat(reader.next()).as("an event without its blank line is dropped").isNull();
  }

  @Test
  void next_oversizedEvent_isFlaggedWithoutBufferingIt() throws Exception {
    InputStream in = new SequenceInputStream(
        new SequenceInputStream(text("id: big\ndata: "), new Garbage(50L * 1024 * 1024, (byte) 'z')),
        text("\n\ndata: {}\n\n"));
    SseReader reader = new SseReader(in, 1024);

    SseReader.Event big = reader.next();
    assertThat(big.oversized()).isTrue();
    assertThat(big.data().length).isLessThanOrEqualTo(1024);
    assertThat(data(reader.next())).isEqualTo("{}");
    assertThat(reader.lastEventId()).isEqualTo("big");
  }

  @Test
  void parser_fedOneByteAtATime_givesTheSameEvents() {
    byte[] bytes = ("id: 1\r\ndata: {\"a\":1}\r\n\r\n: ping\n\nevent: x\ndata: y\n\n"
        + "id: 2\ndata: [\ndata: 2]\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    SseParser parser = new SseParser(100);
    java.util.List<SseReader.Event> events = new java.util.ArrayList<>();
    for (byte b : bytes) {
      parser.feed(java.nio.ByteBuffer.wrap(new byte[] {b}), events::add);
    }

    assertThat(events).extracting(SseReader.Event::type).containsExactly("message", "x", "message");
    assertThat(data(events.get(0))).isEqualTo("{\"a\":1}");
    assertThat(data(events.get(2))).isEqualTo("[\n2]");
    assertThat(parser.lastEventId()).isEqualTo("2");
  }

  @Test
  void parser_stopsWhenTheSinkSaysSo_andResumesWithTheRest() {
    java.nio.ByteBuffer chunk = java.nio.ByteBuffer.wrap(
        "data: 1\n\ndata: 2\n\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    SseParser parser = new SseParser(100);
    java.util.List<String> seen = new java.util.ArrayList<>();

    boolean more = parser.feed(chunk, e -> {
      seen.add(data(e));
      return false;
    });

    assertThat(more).isFalse();
    assertThat(seen).containsExactly("1");
    assertThat(chunk.hasRemaining()).isTrue();
  }
}
