package dev.sentinel.core.transport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Parses a {@code text/event-stream} body (the WHATWG server-sent events format) into events,
 * keeping the last event id and the server's reconnection delay. An event's data is bounded: an
 * event whose data would exceed the limit is reported as oversized and its data dropped, never
 * buffered whole. Lines end with {@code \n} or {@code \r\n}.
 *
 * <p>Not thread-safe: one reader thread owns it.
 */
final class SseReader {
  /** One dispatched event; {@code data} holds {@code length} bytes unless {@code oversized}. */
  record Event(String type, byte[] data, int length, boolean oversized) {}

  private final LineReader lines;
  private final int maxData;
  private String lastEventId;
  private long retryMillis = -1;

  SseReader(InputStream in, int maxData) {
    // room for the field name before the data
    this.lines = new LineReader(in, maxData + 64);
    this.maxData = maxData;
  }

  /** The next event with data, or null at the end of the stream. */
  Event next() throws IOException {
    String type = null;
    byte[] data = new byte[0];
    int length = 0;
    boolean hasData = false;
    boolean oversized = false;
    while (true) {
      LineReader.Kind kind = lines.next();
      if (kind == LineReader.Kind.END) {
        // an event not ended by a blank line is dropped, as the format says
        return null;
      }
      if (kind == LineReader.Kind.TOO_LONG) {
        // only a data line can sensibly be this long
        oversized = true;
        hasData = true;
        continue;
      }
      byte[] bytes = lines.bytes();
      int n = lines.length();
      if (n == 0) {
        if (hasData) {
          return new Event(type == null ? "message" : type, data, length, oversized);
        }
        type = null;
        continue;
      }
      if (bytes[0] == ':') {
        continue; // a comment, such as a keep-alive
      }
      int colon = -1;
      for (int i = 0; i < n; i++) {
        if (bytes[i] == ':') {
          colon = i;
          break;
        }
      }
      String field = new String(bytes, 0, colon < 0 ? n : colon, StandardCharsets.UTF_8);
      int valueStart = colon < 0 ? n : colon + 1;
      if (valueStart < n && bytes[valueStart] == ' ') {
        valueStart++;
      }
      int valueLength = n - valueStart;
      switch (field) {
        case "data":
          if (oversized) {
            break;
          }
          int needed = length + (hasData ? 1 : 0) + valueLength;
          if (needed > maxData) {
            oversized = true;
            data = new byte[0];
            length = 0;
          } else {
            if (needed > data.length) {
              data = Arrays.copyOf(data, Math.max(needed, Math.min(maxData, data.length * 2)));
            }
            if (hasData) {
              data[length++] = '\n';
            }
            System.arraycopy(bytes, valueStart, data, length, valueLength);
            length += valueLength;
          }
          hasData = true;
          break;
        case "event":
          type = new String(bytes, valueStart, valueLength, StandardCharsets.UTF_8);
          break;
        case "id":
          String id = new String(bytes, valueStart, valueLength, StandardCharsets.UTF_8);
          if (id.indexOf('\0') < 0) {
            lastEventId = id;
          }
          break;
        case "retry":
          String digits = new String(bytes, valueStart, valueLength, StandardCharsets.US_ASCII);
          if (!digits.isEmpty() && digits.length() < 12 && digits.chars().allMatch(Character::isDigit)) {
            retryMillis = Long.parseLong(digits);
          }
          break;
        default:
          break; // unknown fields are ignored
      }
    }
  }

  /** The id of the last event seen, or null. */
  String lastEventId() {
    return lastEventId;
  }

  /** The last {@code retry:} the server sent, in milliseconds, or -1. */
  long retryMillis() {
    return retryMillis;
  }
}
