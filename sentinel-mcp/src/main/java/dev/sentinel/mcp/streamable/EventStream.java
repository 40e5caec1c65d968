package dev.sentinel.mcp.streamable;

import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SSE stream of a session: the session's standalone stream (number 0, opened by GET) or the
 * stream of one POST request. Events get ids {@code <stream>-<sequence>}, unique in the session,
 * so a {@code Last-Event-ID} names the stream and the position in it. Each stream keeps a bounded
 * history (by count and bytes) for resumption and, while no connection is attached, for delivery
 * later; the oldest events are dropped first, with a warning (once per stream) and a count when
 * they were never written. What it keeps counts in its session's {@link OutputBudget}, which
 * can also ask it to let go of events ({@link #forgetWritten}, {@link #forgetUnwritten}).
 *
 * <p>Thread-safe.
 */
final class EventStream {
  private static final Logger log = LoggerFactory.getLogger(EventStream.class);

  private record Event(long sequence, String text) {}

  final int number;
  private final int maxEvents;
  private final long maxBytes;
  private final OutputBudget budget;
  private final Runnable undeliveredDropped;
  private final ArrayDeque<Event> history = new ArrayDeque<>();
  private long bytes;
  private boolean warned;
  private long sequence;
  private long written;
  private @Nullable SseWriter writer;
  private boolean finished;
  private boolean delivered;

  /**
   * @param budget the session's budget, where what the stream keeps is counted
   * @param undeliveredDropped told each time an event that was never written is dropped (a metric)
   */
  EventStream(int number, int maxEvents, long maxBytes, OutputBudget budget, Runnable undeliveredDropped) {
    this.number = number;
    this.maxEvents = maxEvents;
    this.maxBytes = maxBytes;
    this.budget = budget;
    this.undeliveredDropped = undeliveredDropped;
  }

  /** Parses a {@code Last-Event-ID} into stream number and sequence; {@code null} if malformed. */
  static long @Nullable [] parseEventId(@Nullable String id) {
    if (id == null) {
      return null;
    }
    int dash = id.indexOf('-');
    if (dash < 1 || dash == id.length() - 1 || id.length() > 40) {
      return null;
    }
    try {
      long stream = Long.parseLong(id.substring(0, dash));
      long sequence = Long.parseLong(id.substring(dash + 1));
      return stream < 0 || sequence < 0 || stream > Integer.MAX_VALUE ? null : new long[] {stream, sequence};
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Adds a message (compact JSON, one line) as the next event; writes it if a client listens. */
  synchronized void append(String json) {
    if (finished) {
      return;
    }
    sequence++;
    String text = "id: " + number + "-" + sequence + "\ndata: " + json + "\n\n";
    history.addLast(new Event(sequence, text));
    bytes += text.length();
    budget.add(1, text.length());
    while (history.size() > maxEvents || (bytes > maxBytes && history.size() > 1)) {
      dropOldest();
    }
    if (writer != null && writer.live()) {
      writer.write(text);
      written = sequence;
    }
  }

  /** Marks the stream complete: a connection ends after the last event. */
  synchronized void finish() {
    finished = true;
    if (writer != null) {
      writer.end();
    }
  }

  /**
   * Attaches a connection, replacing (ending) any other. Replays the events after
   * {@code after}, or with {@code after < 0} those never written to any connection.
   *
   * @param prime whether to send a priming event (an id and empty data) first, as 2025-11-25
   *     asks, so that the client can resume from this point
   */
  synchronized void attach(SseWriter next, long after, boolean prime) {
    if (writer != null && writer != next) {
      writer.end();
    }
    writer = next;
    next.open();
    long from = after >= 0 ? after : written;
    if (prime) {
      next.write("id: " + number + "-" + from + "\ndata: \n\n");
    }
    for (Event event : history) {
      if (event.sequence > from) {
        next.write(event.text);
        written = Math.max(written, event.sequence);
      }
    }
    if (finished) {
      next.end();
    }
  }

  /**
   * A connection ended: normally ({@code failure == null}) or not. Answers whether the stream is
   * done with: finished and its last connection ended normally.
   */
  synchronized boolean detached(SseWriter gone, Throwable failure) {
    if (writer == gone) {
      writer = null;
      if (finished && failure == null) {
        delivered = true;
      }
    }
    return delivered;
  }

  /** The attached connection, or {@code null}. */
  synchronized @Nullable SseWriter writer() {
    return writer;
  }

  /** Whether a connection is attached and open. */
  synchronized boolean listening() {
    return writer != null && writer.live();
  }

  /** Ends the attached connection, accepts no more events and lets go of what it kept. */
  synchronized void close() {
    finished = true;
    if (writer != null) {
      writer.end();
    }
    release();
  }

  /** Lets go of every event kept (the stream can no longer be resumed or read). */
  synchronized void release() {
    while (!history.isEmpty()) {
      Event event = history.removeFirst();
      bytes -= event.text.length();
      budget.remove(1, event.text.length());
    }
  }

  /**
   * Forgets the oldest event if it was already written (kept only for a resumption); answers
   * whether one was.
   */
  synchronized boolean forgetWritten() {
    Event oldest = history.peekFirst();
    if (oldest == null || oldest.sequence > written) {
      return false;
    }
    dropOldest();
    return true;
  }

  /**
   * Forgets the oldest event, written or not, unless a connection is attached (whose events are
   * all written); answers whether one was.
   */
  synchronized boolean forgetUnwritten() {
    if (history.isEmpty() || (writer != null && writer.live())) {
      return false;
    }
    dropOldest();
    return true;
  }

  /** Whether the stream is complete (its request was answered, or the session ended). */
  synchronized boolean finished() {
    return finished;
  }

  /** Bytes kept. */
  synchronized long bytes() {
    return bytes;
  }

  private void dropOldest() {
    Event dropped = history.removeFirst();
    bytes -= dropped.text.length();
    budget.remove(1, dropped.text.length());
    if (dropped.sequence > written) {
      undeliveredDropped.run();
      if (!warned) {
        warned = true;
        log.warn("SSE stream {} dropped an event never delivered: more than {} events or {} bytes"
            + " kept for it, or its session's output bound reached (no client reads it); further"
            + " drops on this stream are counted in sentinel_http_events_dropped_total",
            number, maxEvents, maxBytes);
      }
    }
  }
}
