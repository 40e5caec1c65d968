package dev.sentinel.jdbc;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Instants as stored: microseconds since the epoch (UTC) in a BIGINT column, the same in every
 * dialect. Finer digits are dropped.
 */
final class Micros {
  private Micros() {}

  /** Microseconds since the epoch, or {@code null} for {@code null}. */
  static Long of(Instant instant) {
    return instant == null ? null : ChronoUnit.MICROS.between(Instant.EPOCH, instant);
  }

  /** The instant for microseconds since the epoch, or {@code null} for {@code null}. */
  static Instant toInstant(Long micros) {
    return micros == null ? null : Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }
}
