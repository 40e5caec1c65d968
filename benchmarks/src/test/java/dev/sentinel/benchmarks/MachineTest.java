package dev.sentinel.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MachineTest {
  @Test
  void threadCpuDelta_aThreadThatEnded_isCountedAsEndedNotSubtractedFromItsGroup() {
    Map<Long, Map.Entry<String, Long>> before = Map.of(
        1L, Map.entry("serving", 1_000L),
        2L, Map.entry("serving", 50_000L), // ends before the second snapshot
        3L, Map.entry("jit", 700L));
    Map<Long, Map.Entry<String, Long>> after = Map.of(
        1L, Map.entry("serving", 1_300L),
        3L, Map.entry("jit", 900L),
        4L, Map.entry("audit", 40L)); // started in between: counts in full
    Map<String, Long> delta = Machine.threadCpuDelta(before, after, 1_000L);
    assertThat(delta).containsEntry("serving", 300L).containsEntry("jit", 200L)
        .containsEntry("audit", 40L).containsEntry("ended", 460L);
    assertThat(delta.values()).allMatch(ns -> ns >= 0);
  }

  @Test
  void threadCpuDelta_processTicksBelowTheThreadsSum_leaveEndedAtZero() {
    Map<Long, Map.Entry<String, Long>> before = Map.of(1L, Map.entry("serving", 0L));
    Map<Long, Map.Entry<String, Long>> after = Map.of(1L, Map.entry("serving", 15_000_000L));
    // 10 ms ticks: the process's count can be a tick short of its threads' exact sum.
    assertThat(Machine.threadCpuDelta(before, after, 10_000_000L)).containsEntry("ended", 0L)
        .containsEntry("serving", 15_000_000L);
  }
}
