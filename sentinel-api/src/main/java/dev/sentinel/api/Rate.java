package dev.sentinel.api;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A token-bucket rate: {@code permits} per {@code period}, refilled greedily, holding at most
 * {@code burst} tokens.
 *
 * @param permits tokens added per period; positive
 * @param period the refill period; positive
 * @param burst the bucket's capacity; at least 1 (defaults to {@code permits})
 */
public record Rate(long permits, Duration period, long burst) {

  private static final Pattern SYNTAX =
      Pattern.compile("\\s*(-?\\d+)\\s*/\\s*(\\d*)\\s*([a-z]+)\\s*");

  /** Validates. */
  public Rate {
    Objects.requireNonNull(period, "period");
    if (permits <= 0) {
      throw new IllegalArgumentException("rate permits must be positive, got " + permits);
    }
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("rate period must be positive, got " + period);
    }
    if (burst <= 0) {
      throw new IllegalArgumentException("rate burst must be positive, got " + burst);
    }
  }

  /** {@code permits} per {@code period}, with a burst equal to the permits. */
  public static Rate of(long permits, Duration period) {
    return new Rate(permits, period, permits);
  }

  /**
   * Parses {@code N/unit} or {@code N/Munit}: {@code 60/min}, {@code 10/10s}, {@code 5/s},
   * {@code 1000/h}, {@code 1/day}. Units: {@code ms}, {@code s}/{@code sec}/{@code second},
   * {@code m}/{@code min}/{@code minute}, {@code h}/{@code hour}, {@code d}/{@code day}.
   *
   * @throws IllegalArgumentException naming what was expected
   */
  public static Rate parse(String text) {
    Objects.requireNonNull(text, "text");
    Matcher m = SYNTAX.matcher(text.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "rate '" + text + "' is not of the form N/unit or N/Munit, such as 60/min or 10/10s");
    }
    long permits = Long.parseLong(m.group(1));
    long multiple = m.group(2).isEmpty() ? 1 : Long.parseLong(m.group(2));
    if (multiple <= 0) {
      throw new IllegalArgumentException("rate '" + text + "' has a zero period");
    }
    Duration unit = unit(m.group(3), text);
    if (permits <= 0) {
      throw new IllegalArgumentException("rate '" + text + "' must allow a positive number of calls");
    }
    return of(permits, unit.multipliedBy(multiple));
  }

  private static Duration unit(String unit, String text) {
    switch (unit) {
      case "ms":
        return Duration.ofMillis(1);
      case "s": case "sec": case "second": case "seconds":
        return Duration.ofSeconds(1);
      case "m": case "min": case "minute": case "minutes":
        return Duration.ofMinutes(1);
      case "h": case "hour": case "hours":
        return Duration.ofHours(1);
      case "d": case "day": case "days":
        return Duration.ofDays(1);
      default:
        throw new IllegalArgumentException(
            "rate '" + text + "' has unknown unit '" + unit + "'; use ms, s, min, h or day");
    }
  }

  /** The same rate with another burst. */
  public Rate withBurst(long burst) {
    return new Rate(permits, period, burst);
  }

  @Override
  public String toString() {
    return permits + "/" + period + (burst == permits ? "" : " burst " + burst);
  }
}
