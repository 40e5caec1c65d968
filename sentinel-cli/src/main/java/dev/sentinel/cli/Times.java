package dev.sentinel.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The times and durations the {@code keys} and {@code audit} commands take: durations such as
 * {@code 30d}, {@code 12h}, {@code 15m}, {@code 90s}, and instants as ISO-8601 ({@code
 * 2026-03-01T12:00:00Z}, {@code 2026-03-01T12:00} in UTC, or a date {@code 2026-03-01}, its
 * midnight UTC). Stateless.
 */
final class Times {
  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(d|h|m|s)");

  private Times() {}

  /** A duration such as {@code 30d}; {@code null} when the text is not one. */
  static Duration duration(String text) {
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    switch (m.group(2)) {
      case "d":
        return Duration.ofDays(n);
      case "h":
        return Duration.ofHours(n);
      case "m":
        return Duration.ofMinutes(n);
      default:
        return Duration.ofSeconds(n);
    }
  }

  /**
   * An instant: ISO-8601 instant, local date-time (UTC) or date (midnight UTC).
   *
   * @throws IllegalArgumentException naming the option and the accepted forms
   */
  static Instant instant(String option, String text) {
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
      throw new IllegalArgumentException(option + ": '" + text + "' is not a time; expected "
          + "such as 2026-03-01, 2026-03-01T12:00 (UTC) or 2026-03-01T12:00:00Z");
    }
  }

  /** An instant, or a duration before {@code now} ({@code 24h}: a day ago). */
  static Instant instantOrAgo(String option, String text, Instant now) {
    Duration ago = duration(text);
    return ago != null ? now.minus(ago) : instant(option, text);
  }

  /** An instant, or a duration after {@code now} ({@code 30d}: in thirty days). */
  static Instant instantOrFromNow(String option, String text, Instant now) {
    Duration ahead = duration(text);
    return ahead != null ? now.plus(ahead) : instant(option, text);
  }

  /** An instant for people: UTC, to the second. */
  static String format(Instant instant) {
    return instant == null ? "-" : instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
