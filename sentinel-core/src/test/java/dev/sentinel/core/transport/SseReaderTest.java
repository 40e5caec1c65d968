package dev.sentinel.core.transport;

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
}
