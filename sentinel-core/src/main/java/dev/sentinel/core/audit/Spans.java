package dev.sentinel.core.audit;

import java.util.Arrays;

/**
 * The ranges of a string that the redactor's shapes found, all on the same original text, so
 * that one shape's replacement never hides the context another shape needs (a bearer token that
 * swallowed {@code AWS_SECRET_ACCESS_KEY} would leave the key after it without its name).
 * Overlapping and touching ranges merge; each merged range becomes one {@value
 * Redactor#REDACTED}. Not thread-safe: one per call.
 */
final class Spans {
  /** start and end (exclusive) of each range, in the order they were added. */
  private int[] ranges = new int[8];
  private int size;
  private boolean sorted = true;

  /** Adds {@code [start, end)}; an empty range is ignored. */
  void add(int start, int end) {
    if (end <= start) {
      return;
    }
    if (size + 2 > ranges.length) {
      ranges = Arrays.copyOf(ranges, ranges.length * 2);
    }
    if (size > 0 && start < ranges[size - 2]) {
      sorted = false;
    }
    ranges[size++] = start;
    ranges[size++] = end;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** {@code s} with every merged range replaced by {@code replacement}; {@code s} when none. */
  String replace(String s, String replacement) {
    if (size == 0) {
      return s;
    }
    if (!sorted) {
      sortByStart();
    }
    StringBuilder out = new StringBuilder(s.length() + 16);
    int copied = 0;
    int k = 0;
    while (k < size) {
      int start = ranges[k];
      int end = ranges[k + 1];
      k += 2;
      while (k < size && ranges[k] <= end) {
        end = Math.max(end, ranges[k + 1]);
        k += 2;
      }
      out.append(s, copied, start).append(replacement);
      copied = end;
    }
    return out.append(s, copied, s.length()).toString();
  }

  private void sortByStart() {
    int count = size / 2;
    long[] packed = new long[count];
    for (int i = 0; i < count; i++) {
      packed[i] = (long) ranges[2 * i] << 32 | ranges[2 * i + 1];
    }
    Arrays.sort(packed);
    for (int i = 0; i < count; i++) {
      ranges[2 * i] = (int) (packed[i] >>> 32);
      ranges[2 * i + 1] = (int) packed[i];
    }
    sorted = true;
  }
}
