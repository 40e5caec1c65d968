package dev.sentinel.runner.http.llm;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.thread.Invocable;
import org.jspecify.annotations.Nullable;

/**
 * Reads a request body without a thread waiting for it: what is there is read at once, and the
 * rest is asked for with {@link Request#demand}, whose callback continues the reading when more
 * arrives. It either collects the body up to a limit ({@link #collect}) or reads and drops up to a
 * budget of what is left of a refused one ({@link #drain}), so that the client still reads its
 * answer.
 *
 * <p>How it ends is told once, on the thread that read the last piece: the one that started it,
 * or the one Jetty runs the demand callback on. The callback declares the invocation type it is
 * given: {@code NON_BLOCKING} lets Jetty run it on its selector thread, so what follows it must
 * not block; {@code BLOCKING} has Jetty hand it to a pool thread first.
 *
 * <p>Not thread-safe: used for one request, by one thread at a time (Jetty orders the demand
 * callbacks after the reads that asked for them).
 */
final class BodyRead implements Invocable.Task {
  /** How a collected body ended. */
  interface Done {
    /** The whole body, at most the limit. */
    void body(byte[] bytes);

    /** The body is larger than the limit: what was read of it is dropped. */
    void tooLarge();

    /** The body stopped arriving: the server's idle timeout passed while it waited for more. */
    void timedOut();

    /** The body was cut: the client went away or sent malformed framing. */
    void cut(Throwable cause);
  }

  private final Request request;
  private final InvocationType type;
  /** The most bytes kept ({@link #collect}) or read ({@link #drain}). */
  private final long limit;
  /** What is told when a collected body ends; null when draining. */
  private final @Nullable Done done;
  /** What runs when draining ends, however it ends; nothing when collecting. */
  private final Runnable drained;
  private byte[] bytes;
  private long read;

  private BodyRead(Request request, InvocationType type, long limit, @Nullable Done done,
      Runnable drained) {
    this.request = request;
    this.type = type;
    this.limit = limit;
    this.done = done;
    this.drained = drained;
    long declared = request.getLength();
    int initial = done == null ? 0
        : declared >= 0 && declared <= limit ? (int) declared : (int) Math.min(limit, 4096);
    this.bytes = new byte[initial];
  }

  /**
   * Collects the request's body, at most {@code limit} bytes (below {@code Integer.MAX_VALUE}),
   * and tells {@code done} how it ended.
   */
  static void collect(Request request, long limit, InvocationType type, Done done) {
    if (limit < 0 || limit >= Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("limit must be between 0 and 2 GiB: " + limit);
    }
    new BodyRead(request, type, limit, done, () -> {}).run();
  }

  /**
   * Reads and drops what is left of the request's body, at most {@code budget} bytes, then runs
   * {@code then}: at its end, past the budget, or when reading fails or stops.
   */
  static void drain(Request request, long budget, InvocationType type, Runnable then) {
    new BodyRead(request, type, budget, null, then).run();
  }

  @Override
  public InvocationType getInvocationType() {
    return type;
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
        // A failure that is not last is transient: the idle timeout, while the body waited.
        ended(chunk.getFailure(), !chunk.isLast());
        return;
      }
      ByteBuffer buffer = chunk.getByteBuffer();
      int length = buffer.remaining();
      boolean last = chunk.isLast();
      if (read + length > limit) {
        chunk.release();
        if (done != null) {
          done.tooLarge();
        } else {
          drained.run();
        }
        return;
      }
      if (done != null && length > 0) {
        if ((long) bytes.length < read + length) {
          bytes = Arrays.copyOf(bytes, (int) Math.min(limit, Math.max(read + length,
              2L * bytes.length)));
        }
        buffer.get(bytes, (int) read, length);
      }
      read += length;
      chunk.release();
      if (last) {
        if (done == null) {
          drained.run();
        } else {
          done.body(bytes.length == read ? bytes : Arrays.copyOf(bytes, (int) read));
        }
        return;
      }
    }
  }

  private void ended(Throwable failure, boolean transientFailure) {
    if (done == null) {
      drained.run();
    } else if (transientFailure) {
      done.timedOut();
    } else {
      done.cut(failure);
    }
  }
}
