package dev.sentinel.core.audit;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Small real sinks for the dispatcher tests. */
final class TestSinks {
  private TestSinks() {}

  /** Keeps what it is given, and the size of every batch. Thread-safe. */
  static class ListSink implements AuditSink {
    private final List<AuditEvent> events = new ArrayList<>();
    private final List<Integer> batches = new ArrayList<>();
    final AtomicInteger closes = new AtomicInteger();

    @Override
    public void write(List<AuditEvent> batch) throws IOException {
      synchronized (this) {
        events.addAll(batch);
        batches.add(batch.size());
      }
    }

    synchronized List<AuditEvent> events() {
      return List.copyOf(events);
    }

    synchronized List<Integer> batches() {
      return List.copyOf(batches);
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }
  }

  /** Fails the first {@code failures} attempts (or while failing is set), then keeps batches. */
  static final class FlakySink extends ListSink {
    private final AtomicInteger failuresLeft;
    volatile boolean failing;
    final AtomicInteger attempts = new AtomicInteger();
    volatile CountDownLatch failed = new CountDownLatch(0);
    private final boolean throwError;

    FlakySink(int failures, boolean throwError) {
      this.failuresLeft = new AtomicInteger(failures);
      this.throwError = throwError;
    }

    @Override
    public void write(List<AuditEvent> batch) throws IOException {
      attempts.incrementAndGet();
      if (failing || failuresLeft.getAndDecrement() > 0) {
        failed.countDown();
        if (throwError) {
          throw new AssertionError("sink error with Bearer abcdefghijklmnop");
        }
        throw new IOException("disk full");
      }
      super.write(batch);
    }
  }

  /** Blocks every write until the gate opens; tells when a write has begun. */
  static final class GatedSink extends ListSink {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);

    @Override
    public void write(List<AuditEvent> batch) throws IOException {
      entered.countDown();
      try {
        if (!gate.await(60, TimeUnit.SECONDS)) {
          throw new IOException("gate never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
      super.write(batch);
    }
  }
}
