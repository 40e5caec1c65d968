package dev.sentinel.jdbc;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.jspecify.annotations.Nullable;

/**
 * Instants as stored: microseconds since the epoch (UTC) in a BIGINT column, the same in every
 * dialect. Finer digits are dropped.
 */
final class Micros {
  private Micros() {}

  /** Microseconds since the epoch, or {@code null} for {@code null}. */
  static @Nullable Long of(@Nullable Instant instant) {
    return instant == null ? null : ChronoUnit.MICROS.between(Instant.EPOCH, instant);
  }

  /** Microseconds since the epoch of an instant that is there. */
  static long at(Instant instant) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, instant);
  }

  /** The instant for microseconds since the epoch (a column read as a {@code long}). */
  static Instant toInstant(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  /** The instant for microseconds since the epoch, or {@code null} for {@code null}. */
  static @Nullable Instant toInstant(@Nullable Long micros) {
    return micros == null ? null : Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }
}
