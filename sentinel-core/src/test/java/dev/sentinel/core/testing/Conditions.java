package dev.sentinel.core.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition that another thread makes true (a writer thread catching up), with a
 * generous deadline that only matters when the code under test is broken. Not for waiting on
 * time: use {@link ManualClock} for that.
 */
public final class Conditions {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  private Conditions() {}

  /** Returns once the condition holds; fails the test naming it if it never does. */
  public static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.onSpinWait();
      Thread.yield();
    }
  }
}
