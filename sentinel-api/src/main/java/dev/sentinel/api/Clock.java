package dev.sentinel.api;

import java.time.Instant;

/**
 * Wall time and monotonic time, injected wherever time matters so that tests can advance it
 * instead of sleeping.
 *
 * <p>Implementations must be thread-safe.
 */
public interface Clock {

  /** The current wall-clock time, for records and time windows. */
  Instant instant();

  /** A monotonic reading in nanoseconds, for durations and refills; only differences mean anything. */
  long nanoTime();

  /** The system clock: {@link Instant#now()} and {@link System#nanoTime()}. */
  static Clock system() {
    return SystemClock.INSTANCE;
  }
}

enum SystemClock implements Clock {
  INSTANCE;

  @Override
  public Instant instant() {
    return Instant.now();
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }
}
