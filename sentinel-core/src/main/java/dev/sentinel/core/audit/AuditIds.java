package dev.sentinel.core.audit;

import dev.sentinel.api.Clock;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Time-ordered ids for audit events: UUID version 7 text (RFC 9562), lowercase.
 *
 * <p>The first 48 bits are the Unix time in milliseconds from the given clock; the 12 bits after
 * the version are a counter (RFC 9562 method 1), started at a random value below 2048 each
 * millisecond and incremented for each further id in the same millisecond; the 62 bits after the
 * variant are random. Ids from one process are strictly increasing, as text and as numbers, in
 * the order calls complete, even when the clock stands still or steps back: the counter then
 * carries into the timestamp, which runs ahead until the clock catches up.
 *
 * <p>Thread-safe and lock-free.
 */
public final class AuditIds {
  private static final long MILLIS_MASK = (1L << 48) - 1;
  private static final AtomicLong LAST = new AtomicLong();

  private AuditIds() {}

  /** The next id, timed by the given clock's wall time. */
  public static String next(Clock clock) {
    long millis = clock.instant().toEpochMilli() & MILLIS_MASK;
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long candidate = millis << 12 | random.nextInt(2048);
    long prev;
    long next;
    do {
      prev = LAST.get();
      next = (prev >>> 12) >= millis ? prev + 1 : candidate;
    } while (!LAST.compareAndSet(prev, next));
    long high = (next >>> 12) << 16 | 0x7000L | (next & 0xFFF);
    long low = random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL | 0x8000_0000_0000_0000L;
    return format(high, low);
  }

  private static String format(long high, long low) {
    char[] c = new char[36];
    hex(c, 0, high >>> 32, 8);
    c[8] = '-';
    hex(c, 9, high >>> 16, 4);
    c[13] = '-';
    hex(c, 14, high, 4);
    c[18] = '-';
    hex(c, 19, low >>> 48, 4);
    c[23] = '-';
    hex(c, 24, low, 12);
    return new String(c);
  }

  private static void hex(char[] c, int offset, long value, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
      c[offset + i] = Character.forDigit((int) (value & 0xF), 16);
      value >>>= 4;
    }
  }
}
