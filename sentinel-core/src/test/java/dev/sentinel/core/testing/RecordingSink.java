package dev.sentinel.core.testing;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link AuditSink} that keeps events in memory and can be told to fail its next writes: the
 * in-memory implementation of the SPI for tests.
 */
public final class RecordingSink implements AuditSink {
  private final List<AuditEvent> events = new ArrayList<>();
  private final AtomicInteger failuresLeft = new AtomicInteger();
  private volatile boolean broken;

  @Override
  public synchronized void write(List<AuditEvent> batch) throws IOException {
    if (broken || failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new IOException("disk on fire");
    }
    events.addAll(batch);
  }

  /** Fails every write until {@link #repair()}. */
  public void breakDown() {
    broken = true;
  }

  /** Lets writes succeed again. */
  public void repair() {
    broken = false;
  }

  /** Fails the next {@code n} writes. */
  public void failNext(int n) {
    failuresLeft.set(n);
  }

  /** The events written so far, in order. */
  public synchronized List<AuditEvent> events() {
    return List.copyOf(events);
  }
}
