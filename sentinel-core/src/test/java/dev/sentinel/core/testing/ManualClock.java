package dev.sentinel.core.testing;

import dev.sentinel.api.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when told, so tests advance time instead of sleeping. Wall time and
 * monotonic time advance together. Thread-safe.
 */
public final class ManualClock implements Clock {
  private final Instant origin;
  private final AtomicLong nanos = new AtomicLong();

  /** A clock at the given wall time. */
  public ManualClock(Instant origin) {
    this.origin = origin;
  }

  /** A clock at 2026-01-01T00:00:00Z. */
  public ManualClock() {
    this(Instant.parse("2026-01-01T00:00:00Z"));
  }

  @Override
  public Instant instant() {
    return origin.plusNanos(nanos.get());
  }

  @Override
  public long nanoTime() {
    return nanos.get();
  }

  /** Moves both clocks forward. */
  public void advance(Duration duration) {
    nanos.addAndGet(duration.toNanos());
  }
}
