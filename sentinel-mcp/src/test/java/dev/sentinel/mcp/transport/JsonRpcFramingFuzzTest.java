package dev.sentinel.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Fuzz targets for the JSON-RPC framing: what a client or backend can put on the wire
 * ({@code benchmarks/fuzz JsonRpcFramingFuzzTest}).
 */
class JsonRpcFramingFuzzTest {
  private static final JsonFraming SMALL = new JsonFraming(new FrameLimits(4096, 16));
  private static final JsonFraming DEFAULTS = new JsonFraming(FrameLimits.defaults());

  /**
   * Any bytes are either a message or a {@link FrameException} with a JSON-RPC code, never
   * another exception; a message is classified without throwing, is framed as one line no longer
   * than the input, and the frame parses back to an equal tree.
   */
  @FuzzTest
  void parseMessage_anyBytes_isMessageOrFrameException(byte[] bytes) {
    JsonNode message;
    try {
      message = SMALL.parseMessage(bytes, 0, bytes.length);
    } catch (FrameException e) {
      assertThat(e.code()).isIn(FrameException.PARSE_ERROR, FrameException.INVALID_REQUEST);
      assertThat(e.getMessage()).isNotBlank().doesNotContain("\n");
      return;
    }
    assertThat(message.isObject() || message.isArray()).isTrue();

    JsonRpcMessage classified = JsonRpc.classify(message);
    assertThat(classified.raw()).isSameAs(message);
    if (classified.kind() == JsonRpcMessage.Kind.INVALID) {
      assertThat(JsonRpc.invalidRequest(classified).path("error").path("code").intValue())
          .isEqualTo(-32600);
    } else {
      assertThat(message.path("jsonrpc").stringValue()).isEqualTo("2.0");
      assertThat(classified.id() == null || JsonRpc.validId(classified.id())).isTrue();
    }

    byte[] frame = DEFAULTS.frame(message);
    assertThat(frame[frame.length - 1]).isEqualTo((byte) '\n');
    for (int i = 0; i < frame.length - 1; i++) {
      assertThat(frame[i]).as("no newline inside a frame").isNotEqualTo((byte) '\n');
    }
    assertThat(DEFAULTS.parseMessage(frame, 0, frame.length - 1)).isEqualTo(message);
    // numbers are written as received and whitespace is dropped: never larger than the input
    // (1e999999 expanded into its digits would be a million bytes)
    assertThat(frame.length - 1).isLessThanOrEqualTo(bytes.length);
  }

  /**
   * Whatever the bytes and however the stream splits them into reads, the line reader returns
   * exactly the lines of the input (a trailing {@code \r} dropped), reports every line longer
   * than the limit as {@link LineReader.Kind#TOO_LONG}, and never holds more than the limit.
   */
  @FuzzTest
  void lineReader_anyBytesAnyReads_agreesWithSplittingOnNewlines(FuzzedDataProvider data)
      throws IOException {
    int max = data.consumeInt(1, 64);
    int[] reads = new int[data.consumeInt(1, 8)];
    for (int i = 0; i < reads.length; i++) {
      reads[i] = data.consumeInt(1, 100);
    }
    byte[] input = data.consumeRemainingAsBytes();

    LineReader reader = new LineReader(new ChoppyStream(input, reads), max);
    List<String> actual = new ArrayList<>();
    for (LineReader.Kind kind = reader.next(); kind != LineReader.Kind.END; kind = reader.next()) {
      if (kind == LineReader.Kind.LINE) {
        assertThat(reader.length()).isLessThanOrEqualTo(max);
        actual.add("LINE " + Arrays.toString(Arrays.copyOf(reader.bytes(), reader.length())));
      } else {
        actual.add("TOO_LONG");
      }
      assertThat(reader.highWater()).isLessThanOrEqualTo(Math.max(1024, max + 1));
    }

    assertThat(actual).isEqualTo(expectedLines(input, max));
  }

  /** The reference: split on {@code \n}, drop one trailing {@code \r}, compare with the limit. */
  private static List<String> expectedLines(byte[] input, int max) {
    List<String> lines = new ArrayList<>();
    int start = 0;
    while (start < input.length) {
      int end = start;
      while (end < input.length && input[end] != '\n') {
        end++;
      }
      int length = end - start;
      if (length > 0 && input[end - 1] == '\r') {
        length--;
      }
      lines.add(length > max
          ? "TOO_LONG"
          : "LINE " + Arrays.toString(Arrays.copyOfRange(input, start, start + length)));
      start = end + 1;
    }
    return lines;
  }

  /** A stream that hands out its bytes in reads of the given sizes, in turn. */
  private static final class ChoppyStream extends InputStream {
    private final ByteArrayInputStream in;
    private final int[] reads;
    private int next;

    ChoppyStream(byte[] bytes, int[] reads) {
      this.in = new ByteArrayInputStream(bytes);
      this.reads = reads;
    }

    @Override
    public int read() {
      return in.read();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      int size = reads[next++ % reads.length];
      return in.read(b, off, Math.min(len, size));
    }
  }
}
