package dev.sentinel.benchmarks;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/** An audit sink that counts events and keeps none: isolates the enqueue cost from storage. */
final class DiscardingSink implements AuditSink {
  final LongAdder written = new LongAdder();

  @Override
  public void write(List<AuditEvent> events) {
    written.add(events.size());
  }
}
