package dev.sentinel.core.operator;

import dev.sentinel.core.config.Units;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The one parser for the times and durations operators type, in the CLI, the admin API and the
 * operator page alike. A duration is what config files take ({@link Units#parseDuration}: {@code
 * 500ms}, {@code 90s}, {@code 15m}, {@code 12h}, {@code 30d}); a time is an ISO-8601 instant
 * ({@code 2026-03-01T12:00:00Z}), a local date-time read as UTC ({@code 2026-03-01T12:00}) or a
 * date, its midnight UTC ({@code 2026-03-01}). Where a time is asked for, a duration means that
 * long before now ({@link Direction#AGO}: audit ranges) or after it ({@link Direction#AHEAD}: key
 * expiry).
 *
 * <p>Messages name the field, so that each adapter can pass them on: {@code --expires} in the
 * CLI, {@code 'expires'} in the admin API. Stateless and thread-safe.
 */
public final class Times {
  /** The forms a time takes, for messages. */
  public static final String TIME_FORMS = "a time (2026-03-01, 2026-03-01T12:00 in UTC, "
      + "2026-03-01T12:00:00Z)";
  /** The forms a duration takes, for messages. */
  public static final String DURATION_FORMS = "a duration (90s, 15m, 12h, 30d)";

  /** Which way a duration points from now, where a time is asked for. */
  public enum Direction {
    /** {@code 24h} is a day ago. */
    AGO,
    /** {@code 30d} is thirty days from now. */
    AHEAD
  }

  private Times() {}

  /**
   * A positive duration.
   *
   * @param field the option or field, for the message ({@code --older-than})
   * @throws OperatorException ({@link OperatorException.Kind#INVALID}) naming the field and the
   *     accepted forms
   */
  public static Duration duration(String field, String text) {
    Objects.requireNonNull(text, field);
    Duration d;
    try {
      d = Units.parseDuration(text);
    } catch (IllegalArgumentException e) {
      throw OperatorException.invalid(field + ": '" + text + "' is not " + DURATION_FORMS);
    }
    if (d.isZero()) {
      throw OperatorException.invalid(field + ": the duration must be positive, got '" + text
          + "'");
    }
    return d;
  }

  /**
   * An instant: ISO-8601 instant, local date-time (UTC) or date (midnight UTC).
   *
   * @throws OperatorException ({@link OperatorException.Kind#INVALID}) naming the field and the
   *     accepted forms
   */
  public static Instant instant(String field, String text) {
    Objects.requireNonNull(text, field);
    String t = text.strip();
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException e) {
      // try the next form
    }
    try {
      return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      // try the next form
    }
    try {
      return LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant();
    } catch (DateTimeParseException e) {
      throw OperatorException.invalid(field + ": '" + text + "' is not " + TIME_FORMS);
    }
  }

  /**
   * A time, or a duration from {@code now} in {@code direction}.
   *
   * @throws OperatorException ({@link OperatorException.Kind#INVALID}) naming the field and
   *     every accepted form
   */
  public static Instant time(String field, String text, Instant now, Direction direction) {
    Objects.requireNonNull(text, field);
    Duration d;
    try {
      d = Units.parseDuration(text);
    } catch (IllegalArgumentException notADuration) {
      try {
        return instant(field, text);
      } catch (OperatorException notATime) {
        throw OperatorException.invalid(field + ": '" + text + "' is neither " + TIME_FORMS
            + " nor " + DURATION_FORMS + (direction == Direction.AGO ? " ago" : " from now"));
      }
    }
    return direction == Direction.AGO ? now.minus(d) : now.plus(d);
  }

  /** An instant for people: UTC, to the second; {@code -} for none. */
  public static String format(@Nullable Instant instant) {
    return instant == null ? "-" : instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
