package dev.sentinel.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LatencyStatsTest {
  private static LatencyStats of(long... samples) {
    LatencyStats stats = new LatencyStats();
    for (long sample : samples) {
      stats.add(sample);
    }
    return stats;
  }

  @Test
  void percentile_isNearestRank() {
    LatencyStats stats = new LatencyStats();
    for (long i = 100; i >= 1; i--) { // unsorted input
      stats.add(i);
    }
    assertThat(stats.percentile(50)).isEqualTo(50);
    assertThat(stats.percentile(90)).isEqualTo(90);
    assertThat(stats.percentile(99)).isEqualTo(99);
    assertThat(stats.percentile(99.5)).isEqualTo(100);
    assertThat(stats.percentile(100)).isEqualTo(100);
    assertThat(stats.percentile(0.1)).isEqualTo(1);
    assertThat(stats.max()).isEqualTo(100);
  }

  @Test
  void percentile_ofFewSamples_isAMeasuredValue() {
    LatencyStats stats = of(30, 10, 20);
    assertThat(stats.percentile(50)).isEqualTo(20);
    assertThat(stats.percentile(99)).isEqualTo(30);
    assertThat(of(7).percentile(1)).isEqualTo(7);
    assertThat(of(7).percentile(100)).isEqualTo(7);
  }

  @Test
  void percentile_afterMoreSamples_sortsAgain() {
    LatencyStats stats = of(5, 1);
    assertThat(stats.percentile(100)).isEqualTo(5);
    stats.add(9);
    assertThat(stats.percentile(100)).isEqualTo(9);
    assertThat(stats.percentile(50)).isEqualTo(5);
  }

  @Test
  void merge_addsEverySample() {
    LatencyStats a = of(1, 2, 3);
    LatencyStats b = new LatencyStats();
    for (int i = 0; i < 5000; i++) {
      b.add(1000);
    }
    a.merge(b);
    assertThat(a.count()).isEqualTo(5003);
    assertThat(a.percentile(0.03)).isEqualTo(2); // rank ceil(1.5) = 2
    assertThat(a.percentile(50)).isEqualTo(1000);
    assertThat(a.mean()).isBetween(999.0, 1000.0);
  }

  @Test
  void summary_isInMicroseconds() {
    LatencyStats.Summary summary = of(1_000, 2_000, 3_000, 4_000).summary();
    assertThat(summary.count()).isEqualTo(4);
    assertThat(summary.p50Us()).isEqualTo(2.0);
    assertThat(summary.p90Us()).isEqualTo(4.0);
    assertThat(summary.maxUs()).isEqualTo(4.0);
    assertThat(summary.meanUs()).isEqualTo(2.5);
    assertThat(new LatencyStats().summary()).isNull();
  }

  @Test
  void badInput_isRefused() {
    assertThatThrownBy(() -> new LatencyStats().percentile(50))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> of(1).percentile(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> of(1).percentile(101)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LatencyStats().add(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
