package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.core.audit.AuditDispatcher.OnSinkFailure;
import dev.sentinel.core.audit.TestSinks.FlakySink;
import dev.sentinel.core.audit.TestSinks.GatedSink;
import dev.sentinel.core.audit.TestSinks.ListSink;
import dev.sentinel.core.testing.Conditions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** {@link AuditDispatcher#recordDurably}: waiting for the write, group-committed. */
class AuditDispatcherDurableTest {

  @Test
  void recordDurably_returnsTrueOnceEverySinkWroteIt() {
    ListSink a = new ListSink();
    ListSink b = new ListSink();
    try (AuditDispatcher d = AuditDispatcher.builder().sink(a).sink(b).build()) {
      assertThat(d.recordDurably(TestEvents.event("e1"))).isTrue();

      // No flush: when it returned, both sinks had it.
      assertThat(a.events()).extracting(AuditEvent::id).containsExactly("e1");
      assertThat(b.events()).extracting(AuditEvent::id).containsExactly("e1");
    }
  }

  @Test
  void recordDurably_concurrentCallers_shareOneWrite() throws Exception {
    GatedSink sink = new GatedSink();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (AuditDispatcher d = AuditDispatcher.builder().sink(sink).build()) {
      d.record(TestEvents.event("first")); // holds the writer at the gate
      sink.entered.await();
      List<Future<Boolean>> callers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String id = "c" + i;
        callers.add(pool.submit(() -> d.recordDurably(TestEvents.event(id))));
      }
      Conditions.await("all callers queued", () -> d.stats().queueDepth() >= 9);
      assertThat(callers).noneMatch(Future::isDone);

      sink.gate.countDown();

      for (Future<Boolean> caller : callers) {
        assertThat(caller.get()).isTrue();
      }
      assertThat(sink.batches()).containsExactly(1, 8);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void recordDurably_sinkGivesUp_returnsFalse() {
    FlakySink sink = new FlakySink(Integer.MAX_VALUE, false);
    try (AuditDispatcher d =
        AuditDispatcher.builder()
            .sink(sink)
            .onSinkFailure(OnSinkFailure.CONTINUE)
            .maxAttempts(2)
            .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(1))
            .fallback(e -> {})
            .build()) {
      assertThat(d.recordDurably(TestEvents.event("lost"))).isFalse();
      assertThat(d.stats().dropped()).isEqualTo(1);
    }
  }

  @Test
  void recordDurably_sinkFailsLongerThanTheTimeout_returnsFalseAndKeepsTheEvent() {
    FlakySink sink = new FlakySink(0, false);
    sink.failing = true;
    try (AuditDispatcher d =
        AuditDispatcher.builder()
            .sink(sink)
            .onSinkFailure(OnSinkFailure.BLOCK)
            .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(5))
            .durableTimeout(Duration.ofMillis(50))
            .build()) {
      assertThat(d.recordDurably(TestEvents.event("late"))).isFalse();

      sink.failing = false;
      assertThat(d.flush(Duration.ofSeconds(30))).isTrue();
      assertThat(sink.events()).extracting(AuditEvent::id).containsExactly("late");
    }
  }

  @Test
  void recordDurably_afterClose_returnsFalse() {
    ListSink sink = new ListSink();
    AuditDispatcher d = AuditDispatcher.builder().sink(sink).build();
    d.close();

    assertThat(d.recordDurably(TestEvents.event("after"))).isFalse();
  }

  @Test
  void anyDurableSink_reflectsTheSinks() throws Exception {
    try (AuditDispatcher d = AuditDispatcher.builder().sink(new ListSink()).build()) {
      assertThat(d.anyDurableSink()).isFalse();
    }
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("durable");
    try (AuditDispatcher d =
        AuditDispatcher.builder()
            .sink(new ListSink())
            .sink(JsonLinesAuditSink.open(dir.resolve("a.jsonl"), true))
            .build()) {
      assertThat(d.anyDurableSink()).isTrue();
    }
  }
}
