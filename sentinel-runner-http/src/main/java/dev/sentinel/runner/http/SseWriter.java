package dev.sentinel.runner.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.function.BiConsumer;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;

/**
 * Writes one SSE response: queued chunks go out one write at a time (Jetty allows no concurrent
 * writes), then the last, empty write ends the response and completes the exchange's callback.
 * A failed write (the client went away) completes the callback with the failure and tells the
 * owner, which keeps what was not delivered for a resumption.
 *
 * <p>Thread-safe: {@link #write}, {@link #end} and {@link #keepAlive} may be called from any
 * thread.
 */
final class SseWriter extends IteratingCallback {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
  private static final String KEEP_ALIVE = ": keep-alive\n\n";

  private final Response response;
  private final Callback exchange;
  private final BiConsumer<SseWriter, Throwable> gone;
  private final Object lock = new Object();
  private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
  private boolean ending;
  private boolean lastWritten;
  private boolean broken;

  /**
   * @param response the response, with status and headers set, not yet committed
   * @param exchange completed when the response ends or fails
   * @param gone told once when the writer stops: with {@code null} when the response ended,
   *     else with the failure
   */
  SseWriter(Response response, Callback exchange, BiConsumer<SseWriter, Throwable> gone) {
    this.response = response;
    this.exchange = exchange;
    this.gone = gone;
  }

  /** Commits the headers at once, so the client sees the stream open before any event. */
  void open() {
    synchronized (lock) {
      queue.add(EMPTY);
    }
    iterate();
  }

  /** Queues text (one or more complete SSE events or comments). Ignored once ending. */
  void write(String text) {
    synchronized (lock) {
      if (ending || broken) {
        return;
      }
      queue.add(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }
    iterate();
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

  @Override
  protected Action process() {
    ByteBuffer next;
    boolean last = false;
    synchronized (lock) {
      if (lastWritten) {
        return Action.SUCCEEDED;
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
    }
    response.write(last, next, this);
    return Action.SCHEDULED;
  }

  @Override
  protected void onCompleteSuccess() {
    gone.accept(this, null);
    exchange.succeeded();
  }

  @Override
  protected void onCompleteFailure(Throwable cause) {
    synchronized (lock) {
      broken = true;
      queue.clear();
    }
    gone.accept(this, cause);
    exchange.failed(cause);
  }
}
