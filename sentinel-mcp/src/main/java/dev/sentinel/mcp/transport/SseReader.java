package dev.sentinel.mcp.transport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * Reads a {@code text/event-stream} body from a blocking stream: {@link SseParser} fed from an
 * {@link InputStream}. An event's data is bounded as the parser says; an event not ended by a
 * blank line when the stream ends is dropped, as the format says.
 *
 * <p>Not thread-safe: one reader thread owns it.
 */
final class SseReader {
  /** One dispatched event; {@code data} holds {@code length} bytes unless {@code oversized}. */
  record Event(String type, byte[] data, int length, boolean oversized) {}

  private final InputStream in;
  private final SseParser parser;
  private final byte[] buffer = new byte[8192];
  private final ArrayDeque<Event> ready = new ArrayDeque<>();

  SseReader(InputStream in, int maxData) {
    this.in = in;
    this.parser = new SseParser(maxData);
  }

  /** The next event with data, or null at the end of the stream. */
  @Nullable Event next() throws IOException {
    while (ready.isEmpty()) {
      int n = in.read(buffer);
      if (n < 0) {
        return null;
      }
      parser.feed(ByteBuffer.wrap(buffer, 0, n), ready::add);
    }
    return ready.poll();
  }

  /** The id of the last event seen, or null. */
  @Nullable String lastEventId() {
    return parser.lastEventId();
  }

  /** The last {@code retry:} the server sent, in milliseconds, or -1. */
  long retryMillis() {
    return parser.retryMillis();
  }
}
