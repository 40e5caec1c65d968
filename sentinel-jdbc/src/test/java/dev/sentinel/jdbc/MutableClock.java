package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test advances it; wall and monotonic time move together. */
final class MutableClock implements Clock {
  private final Instant origin;
  private final AtomicLong nanos = new AtomicLong();

  MutableClock(Instant origin) {
    this.origin = origin;
  }

  MutableClock() {
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

  void advance(Duration duration) {
    nanos.addAndGet(duration.toNanos());
  }
}
