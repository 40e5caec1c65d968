package dev.sentinel.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LineReaderTest {

  private static InputStream text(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String line(LineReader reader) {
    return new String(reader.bytes(), 0, reader.length(), StandardCharsets.UTF_8);
  }

  @Test
  void next_splitsOnNewline_dropsCarriageReturn_keepsLastUnterminatedLine() throws Exception {
    LineReader reader = new LineReader(text("one\r\ntwo\n\nthree"), 100);

    assertThat(reader.next()).isEqualTo(LineReader.Kind.LINE);
    assertThat(line(reader)).isEqualTo("one");
    assertThat(reader.next()).isEqualTo(LineReader.Kind.LINE);
    assertThat(line(reader)).isEqualTo("two");
    assertThat(reader.next()).isEqualTo(LineReader.Kind.LINE);
    assertThat(reader.blank()).isTrue();
    assertThat(reader.next()).isEqualTo(LineReader.Kind.LINE);
    assertThat(line(reader)).isEqualTo("three");
    assertThat(reader.next()).isEqualTo(LineReader.Kind.END);
  }

  @Test
  void next_lineOverLimit_isSkippedToItsNewline() throws Exception {
    LineReader reader = new LineReader(text("12345\n123456\nok\n"), 5);

    assertThat(reader.next()).isEqualTo(LineReader.Kind.LINE);
    assertThat(line(reader)).isEqualTo("12345");
    assertThat(reader.next()).isEqualTo(LineReader.Kind.TOO_LONG);
    assertThat(reader.skippedBytes()).isEqualTo(6);
    assertThat(reader.next()).isEqualTo(LineReader.Kind.LINE);
    assertThat(line(reader)).isEqualTo("ok");
  }

  @Test
  void next_hundredMegabyteLine_isSkippedWithBoundedMemory() throws Exception {
    long huge = 100L * 1024 * 1024;
    InputStream in = new SequenceInputStream(
        new Garbage(huge, (byte) 'x'), text("\n{\"after\":true}\n"));
    LineReader reader = new LineReader(in, 1024 * 1024);

    assertThat(reader.next()).isEqualTo(LineReader.Kind.TOO_LONG);
    assertThat(reader.skippedBytes()).isEqualTo(huge);
    assertThat(reader.next()).isEqualTo(LineReader.Kind.LINE);
    assertThat(line(reader)).isEqualTo("{\"after\":true}");
    assertThat(reader.highWater()).isLessThanOrEqualTo(1024 * 1024 + 1);
  }

  @Test
  void next_overLongLastLineWithoutNewline_isTooLong() throws Exception {
    LineReader reader = new LineReader(text("abcdefgh"), 4);

    assertThat(reader.next()).isEqualTo(LineReader.Kind.TOO_LONG);
    assertThat(reader.next()).isEqualTo(LineReader.Kind.END);
  }

  /** Found by JsonRpcFramingFuzzTest: the spare byte kept for a {@code \r} leaked at the end. */
  @Test
  void next_lastLineWithoutNewlineOneOverLimit_isTooLong() throws Exception {
    LineReader reader = new LineReader(text("abcde"), 4);

    assertThat(reader.next()).isEqualTo(LineReader.Kind.TOO_LONG);
    assertThat(reader.skippedBytes()).isEqualTo(5);
    assertThat(reader.next()).isEqualTo(LineReader.Kind.END);
  }
}
