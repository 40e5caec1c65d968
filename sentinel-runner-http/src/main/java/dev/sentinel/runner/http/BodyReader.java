package dev.sentinel.runner.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/**
 * Reads a request body without blocking a thread while the client is slow, and stops at the
 * limit: a body over it is refused after at most {@code limit} bytes were read, never buffered
 * whole. Not thread-safe; Jetty calls it for one request at a time.
 */
final class BodyReader implements Runnable {
  /** What came of reading. */
  interface Result {
    /** The whole body. */
    void body(byte[] bytes);

    /** The body is larger than the limit. */
    void tooLarge();

    /** Reading failed (the client went away, or sent malformed framing). */
    void failed(Throwable cause);
  }

  private final Request request;
  private final long limit;
  private final Result result;
  private final ByteArrayOutputStream out;
  private long total;

  private BodyReader(Request request, long limit, Result result) {
    this.request = request;
    this.limit = limit;
    this.result = result;
    long expected = request.getLength();
    this.out = new ByteArrayOutputStream(expected > 0 && expected <= limit ? (int) expected : 1024);
  }

  /** Starts reading; the result is told on this thread or a Jetty thread. */
  static void read(Request request, long limit, Result result) {
    new BodyReader(request, limit, result).run();
  }

  @Override
  public void run() {
    while (true) {
      Content.Chunk chunk = request.read();
      if (chunk == null) {
        request.demand(this);
        return;
      }
      if (Content.Chunk.isFailure(chunk)) {
        result.failed(chunk.getFailure());
        return;
      }
      ByteBuffer buffer = chunk.getByteBuffer();
      int length = buffer.remaining();
      if (total + length > limit) {
        chunk.release();
        result.tooLarge();
        return;
      }
      total += length;
      if (buffer.hasArray()) {
        out.write(buffer.array(), buffer.arrayOffset() + buffer.position(), length);
      } else {
        byte[] copy = new byte[length];
        buffer.get(copy);
        out.write(copy, 0, length);
      }
      boolean last = chunk.isLast();
      chunk.release();
      if (last) {
        Consumer<byte[]> done = result::body;
        done.accept(out.toByteArray());
        return;
      }
    }
  }
}
