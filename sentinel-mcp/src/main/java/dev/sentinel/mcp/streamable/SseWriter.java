package dev.sentinel.mcp.streamable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.function.BiConsumer;
import org.eclipse.jetty.util.IteratingCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one SSE response: queued chunks go out one write at a time (HTTP servers allow no
 * concurrent writes), then the last, empty write ends the response and completes the server's
 * exchange. A failed write (the client went away) fails the exchange and tells the owner, which
 * keeps what was not delivered for a resumption.
 *
 * <p>What the writer holds unwritten (queued, and the chunk the server is writing until the socket
 * takes it) is bounded in writes and bytes, and counted in the session's {@link OutputBudget}.
 * A client that does not read makes it grow: past the bound the writer is dropped, which
 * closes the connection (the events stay in their stream, bounded, for a resumption). A writer
 * always takes one chunk when it holds none, whatever its size. A client that reads nothing at
 * all is also cut by the connection's idle timeout.
 *
 * <p>Thread-safe: {@link #write}, {@link #end}, {@link #keepAlive} and {@link #drop} may be
 * called from any thread.
 */
final class SseWriter extends IteratingCallback {
  private static final Logger log = LoggerFactory.getLogger(SseWriter.class);
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
  private static final String KEEP_ALIVE = ": keep-alive\n\n";

  /**
   * How much one writer may hold unwritten.
   *
   * @param writes queued chunks, the one being written included
   * @param bytes their bytes
   */
  record Limits(int writes, long bytes) {
    Limits {
      if (writes < 1 || bytes < 1) {
        throw new IllegalArgumentException("writer limits must be positive, were " + writes + " and " + bytes);
      }
    }
  }

  /** Told when the writer drops its connection, with the reason. */
  interface Dropped {
    void dropped(SseWriter writer, String reason);
  }

  private final ResponseChannel channel;
  private final BiConsumer<SseWriter, Throwable> gone;
  private final OutputBudget budget;
  private final Limits limits;
  private final Dropped dropped;
  private final Object lock = new Object();
  private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
  private int pendingWrites;
  private long pendingBytes;
  private int inFlight;
  private boolean ending;
  private boolean lastWritten;
  private boolean broken;

  /**
   * @param channel the response, its event stream opened ({@link ResponseChannel#openEventStream}),
   *     nothing written yet; completed when the writer ends or fails
   * @param gone told once when the writer stops: with {@code null} when the response ended,
   *     else with the failure
   * @param budget the session's budget, where unwritten chunks count
   * @param limits how much may stay unwritten before the connection is dropped
   * @param dropped told when the writer drops its connection (before {@code gone})
   */
  SseWriter(ResponseChannel channel, BiConsumer<SseWriter, Throwable> gone, OutputBudget budget, Limits limits,
      Dropped dropped) {
    this.channel = channel;
    this.gone = gone;
    this.budget = budget;
    this.limits = limits;
    this.dropped = dropped;
  }

  /** Commits the headers at once, so the client sees the stream open before any event. */
  void open() {
    synchronized (lock) {
      queue.add(EMPTY);
    }
    iterate();
  }

  /**
   * Queues text (one or more complete SSE events or comments). Ignored once ending or dropped.
   * Drops the connection instead when the text would take the writer over its limits.
   */
  void write(String text) {
    ByteBuffer chunk = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    int size = chunk.remaining();
    boolean over;
    int writes;
    long bytes;
    synchronized (lock) {
      if (ending || broken) {
        return;
      }
      writes = pendingWrites;
      bytes = pendingBytes;
      over = writes > 0 && (writes + 1 > limits.writes() || bytes + size > limits.bytes());
      if (!over) {
        queue.add(chunk);
        pendingWrites++;
        pendingBytes += size;
        budget.add(1, size);
      }
    }
    if (over) {
      log.warn("dropping an SSE connection whose client does not read: {} writes and {} bytes"
          + " unwritten, at most {} and {}", writes, bytes, limits.writes(), limits.bytes());
      drop("slow_reader");
    } else {
      iterate();
    }
  }

  /** Writes a keep-alive comment unless the writer has ended. */
  void keepAlive() {
    write(KEEP_ALIVE);
  }

  /** Ends the response after what is queued. */
  void end() {
    synchronized (lock) {
      if (ending) {
        return;
      }
      ending = true;
    }
    iterate();
  }

  /** Whether the writer still accepts events. */
  boolean live() {
    synchronized (lock) {
      return !ending && !broken;
    }
  }

  /** Bytes queued and not yet handed to the server: what dropping this writer gives back at once. */
  long queuedBytes() {
    synchronized (lock) {
      return pendingBytes - inFlight;
    }
  }

  /**
   * Drops the connection: what is queued is let go at once, the chunk the server is writing when the
   * connection's closing fails it. Its owner is told (with the reason) and then, as for any
   * failure, {@code gone}. Idempotent.
   */
  void drop(String reason) {
    synchronized (lock) {
      if (broken) {
        return;
      }
      broken = true;
      releaseQueued();
    }
    dropped.dropped(this, reason);
    // Closing fails the write in progress, which completes this writer (onCompleteFailure);
    // with none in progress, the next process() fails the iteration.
    channel.abort(new IOException("SSE connection dropped: " + reason));
    iterate();
  }

  @Override
  protected Action process() throws IOException {
    ByteBuffer next;
    boolean last = false;
    synchronized (lock) {
      if (lastWritten) {
        return Action.SUCCEEDED;
      }
      if (broken) {
        throw new IOException("SSE connection dropped");
      }
      next = queue.poll();
      if (next == null) {
        if (!ending) {
          return Action.IDLE;
        }
        next = EMPTY;
        last = true;
        lastWritten = true;
      }
      inFlight = next == EMPTY ? 0 : next.remaining();
    }
    channel.write(last, next, this);
    return Action.SCHEDULED;
  }

  @Override
  protected void onSuccess() {
    synchronized (lock) {
      if (inFlight > 0) {
        pendingWrites--;
        pendingBytes -= inFlight;
        budget.remove(1, inFlight);
        inFlight = 0;
      }
    }
  }

  @Override
  protected void onCompleteSuccess() {
    synchronized (lock) {
      releaseAll();
    }
    gone.accept(this, null);
    channel.succeeded();
  }

  @Override
  protected void onCompleteFailure(Throwable cause) {
    synchronized (lock) {
      broken = true;
      releaseAll();
    }
    gone.accept(this, cause);
    channel.failed(cause);
  }

  /** Lets go of the queued chunks, not the one in flight. Holds the lock. */
  private void releaseQueued() {
    for (ByteBuffer chunk : queue) {
      if (chunk != EMPTY) {
        pendingWrites--;
        pendingBytes -= chunk.remaining();
        budget.remove(1, chunk.remaining());
      }
    }
    queue.clear();
  }

  /** Lets go of everything held, the chunk in flight included. Holds the lock. */
  private void releaseAll() {
    releaseQueued();
    if (inFlight > 0) {
      pendingWrites--;
      pendingBytes -= inFlight;
      budget.remove(1, inFlight);
      inFlight = 0;
    }
  }
}
