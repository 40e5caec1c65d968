package dev.sentinel.core.policy;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * A rule's {@code during}: days of the week and a daily time range in a zone. A range whose end
 * is before its start ({@code 22:00-06:00}) runs past midnight; the day checked is always the day
 * of the request's local time. Immutable and thread-safe.
 *
 * @param days a bit per day, Monday = bit 0
 * @param startMinute the first minute of the day inside the window
 * @param endMinute the first minute after the window (up to 1440)
 * @param zone the zone the days and hours are read in
 */
record TimeWindow(int days, int startMinute, int endMinute, ZoneId zone) {
  /** Every day of the week. */
  static final int ALL_DAYS = 0x7f;

  /** Whether the instant falls inside the window. */
  boolean contains(Instant time) {
    long local = time.getEpochSecond() + zone.getRules().getOffset(time).getTotalSeconds();
    long epochDay = Math.floorDiv(local, 86_400L);
    int minute = (int) (Math.floorMod(local, 86_400L) / 60);
    // 1970-01-01 was a Thursday (Monday = 0, so Thursday = 3).
    int day = (int) Math.floorMod(epochDay + 3, 7L);
    if ((days & (1 << day)) == 0) {
      return false;
    }
    return startMinute < endMinute
        ? minute >= startMinute && minute < endMinute
        : minute >= startMinute || minute < endMinute;
  }

  /** Describes the request's local time, such as {@code Mon 10:15 Europe/Berlin}. */
  String describe(Instant time) {
    var local = time.atZone(zone);
    return local.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ROOT)
        + String.format(Locale.ROOT, " %02d:%02d ", local.getHour(), local.getMinute())
        + zone.getId();
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    if (days != ALL_DAYS) {
      for (DayOfWeek d : DayOfWeek.values()) {
        if ((days & (1 << (d.getValue() - 1))) != 0) {
          out.append(out.length() == 0 ? "" : ",")
              .append(d.getDisplayName(TextStyle.SHORT, Locale.ROOT).toLowerCase(Locale.ROOT));
        }
      }
      out.append(' ');
    }
    out.append(String.format(Locale.ROOT, "%02d:%02d-%02d:%02d %s",
        startMinute / 60, startMinute % 60, endMinute / 60, endMinute % 60, zone.getId()));
    return out.toString();
  }
}
