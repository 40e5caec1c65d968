package dev.sentinel.mcp.streamable;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The output one session holds, counted against the session's bound: the events its streams
 * keep (for delivery or replay) and the writes queued to its connections but not yet on the
 * socket, including the one the server is writing. {@link StreamableSession} makes room before each new
 * event (forgetting replay-only events, then undelivered events nobody listens for, then
 * dropping the connection that holds most); what may pass the bound is the newest event and the
 * write the server holds for a connection being dropped.
 *
 * <p>Thread-safe: streams change it under the session's lock, writers on the server's threads.
 */
public final class OutputBudget {
  private final int maxEvents;
  private final long maxBytes;
  private final AtomicInteger events = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong peakBytes = new AtomicLong();

  OutputBudget(int maxEvents, long maxBytes) {
    this.maxEvents = maxEvents;
    this.maxBytes = maxBytes;
  }

  /** Counts output held. */
  void add(int count, long size) {
    events.addAndGet(count);
    long now = bytes.addAndGet(size);
    peakBytes.accumulateAndGet(now, Math::max);
  }

  /** Counts output let go. */
  void remove(int count, long size) {
    events.addAndGet(-count);
    bytes.addAndGet(-size);
  }

  /** Whether one more event of this size stays within the bound. */
  boolean fits(long size) {
    return events.get() + 1 <= maxEvents && bytes.get() + size <= maxBytes;
  }

  /** Events held now. */
  public int events() {
    return events.get();
  }

  /** Bytes held now. */
  public long bytes() {
    return bytes.get();
  }

  /** The most bytes held at once since the session began. */
  public long peakBytes() {
    return peakBytes.get();
  }

  public long maxBytes() {
    return maxBytes;
  }
}
