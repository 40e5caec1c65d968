package dev.sentinel.mcp.transport;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Parses a {@code text/event-stream} body (the WHATWG server-sent events format) as it arrives,
 * chunk by chunk, into events, keeping the last event id and the server's reconnection delay.
 * An event's data is bounded: an event whose data would exceed the limit is reported as
 * oversized and its data dropped, never buffered whole. Lines end with {@code \n} or {@code
 * \r\n}; a line over the bound is dropped (and marks its event oversized).
 *
 * <p>Not thread-safe: one stream's callbacks own it (they run one at a time).
 */
final class SseParser {
  private final int maxData;
  private final int maxLine;
  private byte[] line = new byte[256];
  private int lineLength;
  private boolean lineTooLong;

  private @Nullable String type;
  private byte[] data = new byte[0];
  private int length;
  private boolean hasData;
  private boolean oversized;

  private @Nullable String lastEventId;
  private long retryMillis = -1;

  SseParser(int maxData) {
    this.maxData = maxData;
    // room for the field name before the data, and a trailing \r
    this.maxLine = maxData + 65;
  }

  /**
   * Consumes the chunk, handing each completed event to {@code sink}; stops early (leaving the
   * rest of the chunk unread) when the sink answers false.
   *
   * @return false when the sink asked to stop
   */
  boolean feed(ByteBuffer chunk, Predicate<SseReader.Event> sink) {
    while (chunk.hasRemaining()) {
      byte b = chunk.get();
      if (b != '\n') {
        if (lineTooLong) {
          continue;
        }
        if (lineLength == maxLine) {
          lineTooLong = true;
          continue;
        }
        if (lineLength == line.length) {
          line = Arrays.copyOf(line, Math.min(maxLine, line.length * 2));
        }
        line[lineLength++] = b;
        continue;
      }
      SseReader.Event event = endLine();
      if (event != null && !sink.test(event)) {
        return false;
      }
    }
    return true;
  }

  /** Handles one complete line; returns an event when the line dispatches one. */
  private SseReader.@Nullable Event endLine() {
    if (lineTooLong) {
      lineTooLong = false;
      lineLength = 0;
      // only a data line can sensibly be this long
      oversized = true;
      hasData = true;
      data = new byte[0];
      length = 0;
      return null;
    }
    int n = lineLength;
    lineLength = 0;
    if (n > 0 && line[n - 1] == '\r') {
      n--;
    }
    if (line.length > 4096) {
      // do not keep a large buffer after one large event
      byte[] kept = line;
      line = new byte[256];
      return field(kept, n);
    }
    return field(line, n);
  }

  private SseReader.@Nullable Event field(byte[] bytes, int n) {
    if (n == 0) {
      SseReader.Event event = null;
      if (hasData) {
        event = new SseReader.Event(type == null ? "message" : type, data, length, oversized);
      }
      type = null;
      data = new byte[0];
      length = 0;
      hasData = false;
      oversized = false;
      return event;
    }
    if (bytes[0] == ':') {
      return null; // a comment, such as a keep-alive
    }
    int colon = -1;
    for (int i = 0; i < n; i++) {
      if (bytes[i] == ':') {
        colon = i;
        break;
      }
    }
    String name = new String(bytes, 0, colon < 0 ? n : colon, StandardCharsets.UTF_8);
    int valueStart = colon < 0 ? n : colon + 1;
    if (valueStart < n && bytes[valueStart] == ' ') {
      valueStart++;
    }
    int valueLength = n - valueStart;
    switch (name) {
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
        if (!digits.isEmpty() && digits.length() < 12
            && digits.chars().allMatch(Character::isDigit)) {
          retryMillis = Long.parseLong(digits);
        }
        break;
      default:
        break; // unknown fields are ignored
    }
    return null;
  }

  /** The id of the last event seen, or null. */
  @Nullable String lastEventId() {
    return lastEventId;
  }

  /** The last {@code retry:} the server sent, in milliseconds, or -1. */
  long retryMillis() {
    return retryMillis;
  }
}
