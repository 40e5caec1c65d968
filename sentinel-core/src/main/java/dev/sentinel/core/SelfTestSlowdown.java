package dev.sentinel.core;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deliberate slowdown of every governed call, for one purpose: the benchmark check's self-test
 * ({@code benchmarks/run --check --self-test}) starts the benchmarks with the system property
 * {@value #PROPERTY} set to a number of microseconds and expects the check to fail, which shows
 * that it catches a slower pipeline. Unset (always, outside that test), the property is read
 * once, the constant is zero, and the JIT removes the branch. Never set it anywhere else: when
 * set, every {@link Sentinel} built logs a warning.
 */
final class SelfTestSlowdown {
  /** The system property: microseconds of busy-waiting added to each governed call. */
  static final String PROPERTY = "sentinel.selftest.slowdown.micros";
  private static final long NANOS =
      TimeUnit.MICROSECONDS.toNanos(Math.max(0L, Long.getLong(PROPERTY, 0L)));
  private static final Logger log = LoggerFactory.getLogger(SelfTestSlowdown.class);

  private SelfTestSlowdown() {}

  /** Busy-waits the configured time, when there is one. */
  static void apply() {
    if (NANOS > 0) {
      long end = System.nanoTime() + NANOS;
      while (System.nanoTime() - end < 0) {
        Thread.onSpinWait();
      }
    }
  }

  /** Warns, when the slowdown is on, that every call is slowed on purpose. */
  static void warnIfOn() {
    if (NANOS > 0) {
      log.warn("{} is set: every governed call busy-waits {} µs on purpose (the benchmark"
          + " check's self-test); unset it", PROPERTY, TimeUnit.NANOSECONDS.toMicros(NANOS));
    }
  }
}
