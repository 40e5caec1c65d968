package dev.sentinel.core.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The units of Sentinel's configuration files: durations such as {@code 500ms}, {@code 30s},
 * {@code 5m}, {@code 1h}, {@code 30d} (days of 24 hours), and sizes such as {@code 4MiB},
 * {@code 512KiB} or a plain number of bytes. Parsing is strict (a bare number is not a duration) and formatting gives the largest
 * unit that is exact, so that {@code format(parse(x))} reads like what a person would write.
 *
 * <p>Stateless and thread-safe.
 */
public final class Units {
  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h|d)");
  private static final Pattern SIZE = Pattern.compile("(\\d{1,12})\\s*(B|KiB|MiB|GiB)?");
  private static final long KIB = 1024;
  private static final long MIB = KIB * 1024;
  private static final long GIB = MIB * 1024;

  private Units() {}

  /**
   * Parses a duration: a whole number followed by {@code ms}, {@code s}, {@code m}, {@code h}
   * or {@code d} (24 hours).
   *
   * @throws IllegalArgumentException naming the accepted forms when the text is not one
   */
  public static Duration parseDuration(String text) {
    Objects.requireNonNull(text, "text");
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a duration such as 500ms, 30s, 5m or 1h");
    }
    long amount = Long.parseLong(m.group(1));
    switch (m.group(2)) {
      case "ms":
        return Duration.ofMillis(amount);
      case "s":
        return Duration.ofSeconds(amount);
      case "m":
        return Duration.ofMinutes(amount);
      case "h":
        return Duration.ofHours(amount);
      default:
        return Duration.ofDays(amount);
    }
  }

  /**
   * Parses a size in bytes: a whole number, optionally followed by {@code B}, {@code KiB},
   * {@code MiB} or {@code GiB} (powers of 1024).
   *
   * @throws IllegalArgumentException naming the accepted forms when the text is not one
   */
  public static long parseSize(String text) {
    Objects.requireNonNull(text, "text");
    Matcher m = SIZE.matcher(text.strip());
    if (!m.matches()) {
      String hint = text.strip().toUpperCase(Locale.ROOT).matches("\\d+\\s*[KMG]B?")
          ? " (sizes are in powers of 1024: write KiB, MiB or GiB)"
          : "";
      throw new IllegalArgumentException(
          "expected a size such as 4MiB, 512KiB or a number of bytes" + hint);
    }
    long amount = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "B" : m.group(2);
    switch (unit) {
      case "KiB":
        return amount * KIB;
      case "MiB":
        return amount * MIB;
      case "GiB":
        return amount * GIB;
      default:
        return amount;
    }
  }

  /**
   * Formats a duration in the largest exact unit: {@code 30d}, {@code 1h}, {@code 90s}, {@code
   * 250ms}.
   */
  public static String formatDuration(Duration duration) {
    long millis = duration.toMillis();
    if (millis != 0 && millis % 86_400_000 == 0) {
      return millis / 86_400_000 + "d";
    }
    if (millis != 0 && millis % 3_600_000 == 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis != 0 && millis % 60_000 == 0) {
      return millis / 60_000 + "m";
    }
    if (millis % 1000 == 0) {
      return millis / 1000 + "s";
    }
    return millis + "ms";
  }

  /** Formats a size in the largest exact unit: {@code 4MiB}, {@code 1536KiB}, {@code 100B}. */
  public static String formatSize(long bytes) {
    if (bytes != 0 && bytes % GIB == 0) {
      return bytes / GIB + "GiB";
    }
    if (bytes != 0 && bytes % MIB == 0) {
      return bytes / MIB + "MiB";
    }
    if (bytes != 0 && bytes % KIB == 0) {
      return bytes / KIB + "KiB";
    }
    return bytes + "B";
  }
}
