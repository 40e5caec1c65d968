package dev.sentinel.benchmarks;

/**
 * The schedule of an open-loop (paced) load: a total rate spread evenly over N sessions. Session
 * {@code s} sends its {@code k}-th call at {@code origin + k * interval + s * interval / N}, where
 * {@code interval = N / rate} seconds, so the sessions' calls interleave at {@code 1 / rate}
 * apart. A session sends its next call at its scheduled time, not when the previous answer
 * arrives; when the previous answer arrives after that time the call is <em>late</em>: it is sent
 * at once and its latency counts from the scheduled time, not from when it could be sent
 * (coordinated-omission correction: a stalled server cannot hide its stall by delaying the
 * calls that would have measured it).
 *
 * <p>Immutable and thread-safe.
 *
 * @param originNanos when the first calls are due ({@link System#nanoTime()} scale)
 * @param intervalNanos the time between one session's consecutive calls
 * @param sessions the number of sessions sharing the rate
 */
record Pacer(long originNanos, long intervalNanos, int sessions) {
  /** Validates. */
  Pacer {
    if (intervalNanos < 1 || sessions < 1) {
      throw new IllegalArgumentException("interval and sessions must be positive: "
          + intervalNanos + " ns, " + sessions);
    }
  }

  /**
   * The schedule for {@code rate} calls per second in total over {@code sessions} sessions,
   * starting at {@code originNanos}.
   */
  static Pacer of(double rate, int sessions, long originNanos) {
    if (!(rate > 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException("rate must be a positive number of calls/s: " + rate);
    }
    long interval = Math.max(1, Math.round(sessions * 1e9 / rate));
    return new Pacer(originNanos, interval, sessions);
  }

  /** When session {@code session}'s call number {@code index} (from 0) is due. */
  long due(int session, long index) {
    if (session < 0 || session >= sessions || index < 0) {
      throw new IllegalArgumentException("no such call: session " + session + ", " + index);
    }
    return originNanos + index * intervalNanos + session * intervalNanos / sessions;
  }

  /**
   * Whether a call due at {@code due} is late: its session was still waiting for the previous
   * answer, which arrived at {@code free}, after the call was due.
   */
  static boolean late(long due, long free) {
    return free > due;
  }

  /**
   * Where a call's latency counts from: its scheduled time when it is {@linkplain #late late},
   * otherwise when it was actually sent ({@code sent}; the generator's own timer jitter is not
   * the server's latency).
   */
  static long latencyOrigin(long due, long free, long sent) {
    return late(due, free) ? due : sent;
  }
}
