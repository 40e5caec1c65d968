package dev.sentinel.benchmarks;

import java.util.Arrays;
import java.util.Locale;

/**
 * Latency samples in nanoseconds and their order statistics. Percentiles are nearest-rank: the
 * p-th percentile of n samples is the smallest sample with at least p % of the samples at or
 * below it, so it is always a measured value (p100 is the maximum).
 *
 * <p>Not thread-safe: each load-generator session records into its own instance, and the
 * instances are {@linkplain #merge merged} once the sessions have stopped.
 */
final class LatencyStats {
  private long[] samples = new long[1024];
  private int count;
  private boolean sorted = true;

  /** Records one sample (nanoseconds, not negative). */
  void add(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("negative latency: " + nanos);
    }
    if (count == samples.length) {
      samples = Arrays.copyOf(samples, count * 2);
    }
    samples[count++] = nanos;
    sorted = false;
  }

  /** Adds every sample of {@code other}. */
  void merge(LatencyStats other) {
    if (count + other.count > samples.length) {
      samples = Arrays.copyOf(samples, Math.max(samples.length * 2, count + other.count));
    }
    System.arraycopy(other.samples, 0, samples, count, other.count);
    count += other.count;
    sorted = false;
  }

  /** The number of samples. */
  int count() {
    return count;
  }

  /**
   * The nearest-rank percentile in nanoseconds.
   *
   * @param percent in (0, 100]
   * @throws IllegalStateException when there are no samples
   */
  long percentile(double percent) {
    if (!(percent > 0 && percent <= 100)) {
      throw new IllegalArgumentException("percentile must be in (0, 100]: " + percent);
    }
    if (count == 0) {
      throw new IllegalStateException("no samples");
    }
    sort();
    int rank = (int) Math.ceil(percent / 100.0 * count);
    return samples[Math.max(rank, 1) - 1];
  }

  /** The largest sample; 0 when there are none. */
  long max() {
    if (count == 0) {
      return 0;
    }
    sort();
    return samples[count - 1];
  }

  /** The arithmetic mean in nanoseconds; 0 when there are no samples. */
  double mean() {
    if (count == 0) {
      return 0;
    }
    double sum = 0;
    for (int i = 0; i < count; i++) {
      sum += samples[i];
    }
    return sum / count;
  }

  /** p50, p90, p99 and max in microseconds, or null when there are no samples. */
  Summary summary() {
    if (count == 0) {
      return null;
    }
    return new Summary(count, percentile(50) / 1e3, percentile(90) / 1e3, percentile(99) / 1e3,
        max() / 1e3, mean() / 1e3);
  }

  private void sort() {
    if (!sorted) {
      Arrays.sort(samples, 0, count);
      sorted = true;
    }
  }

  /**
   * Order statistics of a set of samples, in microseconds.
   *
   * @param count the number of samples
   * @param p50Us the median
   * @param p90Us the 90th percentile
   * @param p99Us the 99th percentile
   * @param maxUs the largest sample
   * @param meanUs the mean
   */
  record Summary(long count, double p50Us, double p90Us, double p99Us, double maxUs,
      double meanUs) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "p50 %.0f µs, p90 %.0f µs, p99 %.0f µs, max %.0f µs",
          p50Us, p90Us, p99Us, maxUs);
    }
  }
}
