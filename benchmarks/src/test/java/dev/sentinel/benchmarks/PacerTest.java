package dev.sentinel.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class PacerTest {
  @Test
  void of_spreadsTheTotalRateOverTheSessions() {
    Pacer pacer = Pacer.of(4_000, 16, 1_000);
    assertThat(pacer.intervalNanos()).isEqualTo(4_000_000); // 250/s per session
    assertThat(pacer.due(0, 0)).isEqualTo(1_000);
    assertThat(pacer.due(0, 1)).isEqualTo(1_000 + 4_000_000);
    assertThat(pacer.due(1, 0)).isEqualTo(1_000 + 250_000); // staggered by 1 / total rate
    assertThat(pacer.due(15, 2)).isEqualTo(1_000 + 2 * 4_000_000 + 15 * 250_000);
  }

  @Test
  void due_allCallsOfOneSecondInterleaveAtOneOverTheRate() {
    Pacer pacer = Pacer.of(500, 16, 0);
    List<Long> dues = new ArrayList<>();
    for (int s = 0; s < 16; s++) {
      for (long k = 0; pacer.due(s, k) < 1_000_000_000L; k++) {
        dues.add(pacer.due(s, k));
      }
    }
    Collections.sort(dues);
    assertThat(dues).hasSize(500);
    for (int i = 1; i < dues.size(); i++) {
      assertThat(dues.get(i) - dues.get(i - 1)).isEqualTo(2_000_000L);
    }
  }

  @Test
  void late_whenThePreviousAnswerArrivedAfterTheCallWasDue() {
    assertThat(Pacer.late(100, 99)).isFalse();
    assertThat(Pacer.late(100, 100)).isFalse();
    assertThat(Pacer.late(100, 101)).isTrue();
  }

  @Test
  void latencyOrigin_lateCallsCountFromTheirScheduledTime() {
    // On time: the answer freed the session at 90, the call was due at 100 and sent at 103.
    assertThat(Pacer.latencyOrigin(100, 90, 103)).isEqualTo(103);
    // Late: the session was still waiting until 150; the call, due at 100, is measured from 100.
    assertThat(Pacer.latencyOrigin(100, 150, 151)).isEqualTo(100);
  }

  @Test
  void latencyOrigin_aStallIsChargedToEveryCallItDelayed() {
    // One session at 1 call per 10 ns; the server stalls the call due at 0 for 35 ns, then
    // answers at once: the calls due at 10, 20 and 30 are late and carry the stall.
    Pacer pacer = new Pacer(0, 10, 1);
    long free = 0;
    List<Long> latencies = new ArrayList<>();
    for (long k = 0; k < 5; k++) {
      long due = pacer.due(0, k);
      long sent = Math.max(due, free);
      long origin = Pacer.latencyOrigin(due, free, sent);
      long ended = sent + (k == 0 ? 35 : 1);
      latencies.add(ended - origin);
      free = ended;
    }
    assertThat(latencies).containsExactly(35L, 26L, 17L, 8L, 1L);
  }

  @Test
  void of_rejectsANonPositiveRate() {
    assertThatThrownBy(() -> Pacer.of(0, 16, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Pacer.of(Double.NaN, 16, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Pacer.of(100, 16, 0).due(16, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
