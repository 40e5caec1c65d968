package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.core.audit.AuditDispatcher.OnSinkFailure;
import dev.sentinel.core.audit.AuditDispatcher.WhenFull;
import dev.sentinel.core.audit.TestSinks.FlakySink;
import dev.sentinel.core.audit.TestSinks.GatedSink;
import dev.sentinel.core.audit.TestSinks.ListSink;
import dev.sentinel.core.testing.Conditions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class AuditDispatcherTest {
  private static final Duration LONG = Duration.ofSeconds(30);
  private static final Duration TINY = Duration.ofNanos(1);

  private final List<AuditEvent> fallback = new CopyOnWriteArrayList<>();

  private AuditDispatcher.Builder builder() {
    return AuditDispatcher.builder()
        .retryBackoff(TINY, Duration.ofMillis(1))
        .drainTimeout(LONG)
        .fallback(fallback::add);
  }

  private static List<AuditEvent> events(String prefix, int n) {
    return IntStream.range(0, n)
        .mapToObj(i -> TestEvents.event(prefix + i))
        .collect(Collectors.toList());
  }

  /** Waits, without a time threshold on the outcome, until the thread parks (or a generous limit). */
  private static void awaitBlocked(Thread thread) {
    long deadline = System.nanoTime() + LONG.toNanos();
    while (thread.getState() != Thread.State.WAITING
        && thread.getState() != Thread.State.TIMED_WAITING
        && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(thread.getState()).isIn(Thread.State.WAITING, Thread.State.TIMED_WAITING);
  }

  @Test
  void close_writesEverythingRecordedInOrderToEverySink() {
    ListSink a = new ListSink();
    ListSink b = new ListSink();
    AuditDispatcher dispatcher = builder().sink(a).sink(b).batchSize(7).build();
    List<AuditEvent> sent = events("e", 1000);

    sent.forEach(dispatcher::record);
    dispatcher.close();

    assertThat(a.events()).containsExactlyElementsOf(sent);
    assertThat(b.events()).containsExactlyElementsOf(sent);
    assertThat(a.batches()).allMatch(size -> size <= 7);
    AuditDispatcher.Stats stats = dispatcher.stats();
    assertThat(stats.recorded()).isEqualTo(1000);
    assertThat(stats.written()).isEqualTo(2000);
    assertThat(stats.dropped()).isZero();
    assertThat(stats.queueDepth()).isZero();
    assertThat(a.closes).hasValue(1);
  }

  @Test
  void write_batchesWhatQueuedWhileSinkWasBusy() throws Exception {
    GatedSink sink = new GatedSink();
    try (AuditDispatcher dispatcher = builder().sink(sink).build()) {
      List<AuditEvent> sent = events("e", 100);
      dispatcher.record(sent.get(0));
      assertThat(sink.entered.await(30, TimeUnit.SECONDS)).isTrue();
      sent.subList(1, 100).forEach(dispatcher::record);

      sink.gate.countDown();

      assertThat(dispatcher.flush(LONG)).isTrue();
      assertThat(sink.batches()).containsExactly(1, 99);
      assertThat(sink.events()).containsExactlyElementsOf(sent);
    }
  }

  /** A lingering writer writes when the batch is full, not before (the linger is an hour). */
  @Test
  void linger_gathersWhatIsRecordedMeanwhileIntoOneWrite() {
    ListSink sink = new ListSink();
    try (AuditDispatcher dispatcher = builder().sink(sink).batchSize(10).linger(Duration.ofHours(1))
        .build()) {
      List<AuditEvent> sent = events("e", 10);
      sent.forEach(dispatcher::record);

      Conditions.await("the full batch is written", () -> sink.events().size() == 10);
      assertThat(sink.batches()).containsExactly(10);
      assertThat(sink.events()).containsExactlyElementsOf(sent);
    }
  }

  /** A durable caller does not wait for the linger: its record ends it. */
  @Test
  void linger_endsForADurableRecord() {
    ListSink sink = new ListSink();
    try (AuditDispatcher dispatcher = builder().sink(sink).linger(Duration.ofHours(1))
        .durableTimeout(LONG).build()) {
      dispatcher.record(TestEvents.event("async"));

      assertThat(dispatcher.recordDurably(TestEvents.event("durable"))).isTrue();
      assertThat(sink.batches()).containsExactly(2);
    }
  }

  @Test
  void linger_endsOnFlushAndOnClose() {
    ListSink sink = new ListSink();
    AuditDispatcher dispatcher = builder().sink(sink).linger(Duration.ofHours(1)).build();
    dispatcher.record(TestEvents.event("a"));
    assertThat(dispatcher.flush(LONG)).isTrue();
    assertThat(sink.batches()).containsExactly(1);

    dispatcher.record(TestEvents.event("b"));
    dispatcher.close();

    assertThat(sink.events()).extracting(AuditEvent::id).containsExactly("a", "b");
    assertThat(fallback).isEmpty();
    assertThat(dispatcher.stats().dropped()).isZero();
  }

  /**
   * A dispatcher whose writer polls (the period is an hour) once it is busy: the second event came
   * within a period of the first batch. Its writer is then parked for the period. Neither event
   * waits for a period (no flush is needed): the first comes to an idle writer, the second to one
   * still waiting on its queue.
   */
  private AuditDispatcher busy(ListSink sink, int batchSize) {
    AuditDispatcher dispatcher = builder().sink(sink).batchSize(batchSize)
        .pollWhileBusy(Duration.ofHours(1)).durableTimeout(LONG).build();
    dispatcher.record(TestEvents.event("first"));
    Conditions.await("the first event is written", () -> sink.events().size() == 1);
    dispatcher.record(TestEvents.event("second"));
    Conditions.await("the second event is written", () -> sink.events().size() == 2);
    return dispatcher;
  }

  /** A busy writer takes what came during its period in one write; a full batch ends the period. */
  @Test
  void pollWhileBusy_gathersWhatIsRecordedMeanwhileIntoOneWrite() {
    ListSink sink = new ListSink();
    try (AuditDispatcher dispatcher = busy(sink, 10)) {
      List<AuditEvent> sent = events("e", 10);
      sent.forEach(dispatcher::record);

      Conditions.await("the full batch is written", () -> sink.events().size() == 12);
      assertThat(sink.batches()).containsExactly(1, 1, 10);
      assertThat(sink.events().subList(2, 12)).containsExactlyElementsOf(sent);
    }
  }

  /** A durable caller does not wait for the period: its record ends it. */
  @Test
  void pollWhileBusy_endsForADurableRecord() {
    ListSink sink = new ListSink();
    try (AuditDispatcher dispatcher = busy(sink, 512)) {
      dispatcher.record(TestEvents.event("async"));

      assertThat(dispatcher.recordDurably(TestEvents.event("durable"))).isTrue();
      assertThat(sink.events()).extracting(AuditEvent::id)
          .containsExactly("first", "second", "async", "durable");
    }
  }

  @Test
  void pollWhileBusy_endsOnFlushAndOnClose() {
    ListSink sink = new ListSink();
    AuditDispatcher dispatcher = busy(sink, 512);
    dispatcher.record(TestEvents.event("a"));
    assertThat(dispatcher.flush(LONG)).isTrue();
    assertThat(sink.events()).extracting(AuditEvent::id).containsExactly("first", "second", "a");

    dispatcher.record(TestEvents.event("b"));
    dispatcher.close();

    assertThat(sink.events()).extracting(AuditEvent::id).containsExactly("first", "second", "a", "b");
    assertThat(fallback).isEmpty();
    assertThat(dispatcher.stats().dropped()).isZero();
    assertThat(sink.closes).hasValue(1);
  }

  @Test
  void pollWhileBusy_refusesANegativePeriod() {
    assertThatThrownBy(() -> AuditDispatcher.builder().pollWhileBusy(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pollWhileBusy must not be negative");
  }

  @Test
  void flush_falseWhileSinkHeldTrueAfterRelease() throws Exception {
    GatedSink sink = new GatedSink();
    try (AuditDispatcher dispatcher = builder().sink(sink).build()) {
      dispatcher.record(TestEvents.event("a"));
      assertThat(sink.entered.await(30, TimeUnit.SECONDS)).isTrue();

      assertThat(dispatcher.flush(Duration.ofMillis(1))).isFalse();
      assertThat(dispatcher.stats().queueDepth()).isEqualTo(1);

      sink.gate.countDown();
      assertThat(dispatcher.flush(LONG)).isTrue();
      assertThat(dispatcher.stats().queueDepth()).isZero();
    }
  }

  @Test
  void write_sinkFailingThenRecovering_blockModeLosesNothing() {
    FlakySink sink = new FlakySink(5, false);
    try (AuditDispatcher dispatcher =
        builder().sink(sink).onSinkFailure(OnSinkFailure.BLOCK).build()) {
      List<AuditEvent> sent = events("e", 50);

      sent.forEach(dispatcher::record);

      assertThat(dispatcher.flush(LONG)).isTrue();
      assertThat(sink.events()).containsExactlyElementsOf(sent);
      AuditDispatcher.Stats stats = dispatcher.stats();
      assertThat(stats.failedWrites()).isEqualTo(5);
      assertThat(stats.dropped()).isZero();
      assertThat(stats.healthy()).isTrue();
    }
    assertThat(fallback).isEmpty();
  }

  @Test
  void write_sinkFailingThenRecovering_continueModeLosesNothing() {
    FlakySink sink = new FlakySink(5, false);
    try (AuditDispatcher dispatcher =
        builder().sink(sink).onSinkFailure(OnSinkFailure.CONTINUE).maxAttempts(6).build()) {
      List<AuditEvent> sent = events("e", 50);

      sent.forEach(dispatcher::record);

      assertThat(dispatcher.flush(LONG)).isTrue();
      assertThat(sink.events()).containsExactlyElementsOf(sent);
      assertThat(dispatcher.stats().dropped()).isZero();
    }
    assertThat(fallback).isEmpty();
  }

  @Test
  void write_errorFromSinkDoesNotKillWriter() {
    FlakySink sink = new FlakySink(2, true);
    try (AuditDispatcher dispatcher =
        builder().sink(sink).onSinkFailure(OnSinkFailure.BLOCK).build()) {
      List<AuditEvent> sent = events("e", 10);

      sent.forEach(dispatcher::record);

      assertThat(dispatcher.flush(LONG)).isTrue();
      assertThat(sink.events()).containsExactlyElementsOf(sent);
    }
  }

  @Test
  void admit_falseWhileSinkFailsUnderBlock_trueAfterRecovery() throws Exception {
    FlakySink sink = new FlakySink(0, false);
    sink.failing = true;
    sink.failed = new CountDownLatch(2);
    try (AuditDispatcher dispatcher =
        builder().sink(sink).onSinkFailure(OnSinkFailure.BLOCK).build()) {
      assertThat(dispatcher.admit()).isTrue();
      dispatcher.record(TestEvents.event("a"));
      // the second attempt starts only after the first failure was recorded
      assertThat(sink.failed.await(30, TimeUnit.SECONDS)).isTrue();

      assertThat(dispatcher.admit()).isFalse();
      assertThat(dispatcher.stats().healthy()).isFalse();

      sink.failing = false;
      assertThat(dispatcher.flush(LONG)).isTrue();
      assertThat(dispatcher.admit()).isTrue();
      assertThat(dispatcher.stats().healthy()).isTrue();
      assertThat(sink.events()).extracting(AuditEvent::id).containsExactly("a");
    }
  }

  @Test
  void admit_ignoresFailingSinkUnderContinue() throws Exception {
    FlakySink sink = new FlakySink(0, false);
    sink.failing = true;
    sink.failed = new CountDownLatch(2);
    try (AuditDispatcher dispatcher =
        builder().sink(sink).onSinkFailure(OnSinkFailure.CONTINUE).maxAttempts(1_000_000).build()) {
      dispatcher.record(TestEvents.event("a"));
      assertThat(sink.failed.await(30, TimeUnit.SECONDS)).isTrue();

      assertThat(dispatcher.admit()).isTrue();
      assertThat(dispatcher.stats().healthy()).isFalse();
      sink.failing = false;
    }
  }

  @Test
  void admit_whenFullFail_falseOnceQueueIsFull() throws Exception {
    GatedSink sink = new GatedSink();
    try (AuditDispatcher dispatcher =
        builder().sink(sink).capacity(4).whenFull(WhenFull.FAIL).build()) {
      dispatcher.record(TestEvents.event("held"));
      assertThat(sink.entered.await(30, TimeUnit.SECONDS)).isTrue();
      for (int i = 0; i < 3; i++) {
        dispatcher.record(TestEvents.event("q" + i));
      }
      assertThat(dispatcher.admit()).isTrue();

      dispatcher.record(TestEvents.event("q3"));

      assertThat(dispatcher.admit()).isFalse();
      sink.gate.countDown();
      assertThat(dispatcher.flush(LONG)).isTrue();
      assertThat(dispatcher.admit()).isTrue();
      assertThat(sink.events()).hasSize(5);
    }
  }

  @Test
  void record_whenQueueFull_blocksCallerUntilSinkReleased() throws Exception {
    GatedSink sink = new GatedSink();
    try (AuditDispatcher dispatcher = builder().sink(sink).capacity(2).build()) {
      dispatcher.record(TestEvents.event("held"));
      assertThat(sink.entered.await(30, TimeUnit.SECONDS)).isTrue();
      dispatcher.record(TestEvents.event("q0"));
      dispatcher.record(TestEvents.event("q1"));
      CountDownLatch recorded = new CountDownLatch(1);
      Thread producer = new Thread(() -> {
        dispatcher.record(TestEvents.event("blocked"));
        recorded.countDown();
      });
      producer.start();

      awaitBlocked(producer);
      assertThat(recorded.getCount()).isEqualTo(1);

      sink.gate.countDown();
      assertThat(recorded.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(dispatcher.flush(LONG)).isTrue();
      assertThat(sink.events())
          .extracting(AuditEvent::id)
          .containsExactly("held", "q0", "q1", "blocked");
    }
  }

  @Test
  void admit_whenFullBlock_waitsForRoom() throws Exception {
    GatedSink sink = new GatedSink();
    try (AuditDispatcher dispatcher = builder().sink(sink).capacity(1).build()) {
      dispatcher.record(TestEvents.event("held"));
      assertThat(sink.entered.await(30, TimeUnit.SECONDS)).isTrue();
      dispatcher.record(TestEvents.event("q0"));
      AtomicBoolean admitted = new AtomicBoolean();
      CountDownLatch answered = new CountDownLatch(1);
      Thread caller = new Thread(() -> {
        admitted.set(dispatcher.admit());
        answered.countDown();
      });
      caller.start();

      awaitBlocked(caller);
      assertThat(answered.getCount()).isEqualTo(1);

      sink.gate.countDown();
      assertThat(answered.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(admitted).isTrue();
    }
  }

  @Test
  void admit_whenFullBlock_falseWhenClosed() throws Exception {
    GatedSink sink = new GatedSink();
    AuditDispatcher dispatcher =
        builder().sink(sink).capacity(1).drainTimeout(Duration.ZERO).build();
    dispatcher.record(TestEvents.event("held"));
    assertThat(sink.entered.await(30, TimeUnit.SECONDS)).isTrue();
    dispatcher.record(TestEvents.event("q0"));
    AtomicBoolean admitted = new AtomicBoolean(true);
    CountDownLatch answered = new CountDownLatch(1);
    Thread caller = new Thread(() -> {
      admitted.set(dispatcher.admit());
      answered.countDown();
    });
    caller.start();
    awaitBlocked(caller);

    dispatcher.close();

    assertThat(answered.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(admitted).isFalse();
    sink.gate.countDown();
  }

  @Test
  void write_continueAfterMaxAttempts_countsDroppedAndLogsToFallback() {
    FlakySink sink = new FlakySink(0, false);
    sink.failing = true;
    try (AuditDispatcher dispatcher =
        builder().sink(sink).onSinkFailure(OnSinkFailure.CONTINUE).maxAttempts(3).build()) {
      List<AuditEvent> sent = events("e", 5);

      sent.forEach(dispatcher::record);

      assertThat(dispatcher.flush(LONG)).isTrue();
      AuditDispatcher.Stats stats = dispatcher.stats();
      assertThat(stats.dropped()).isEqualTo(5);
      assertThat(stats.written()).isZero();
      assertThat(stats.failedWrites()).isPositive().matches(n -> n % 3 == 0);
      assertThat(stats.healthy()).isFalse();
      assertThat(fallback).containsExactlyElementsOf(sent);
    }
  }

  @Test
  void close_isIdempotentFlushesAndClosesSinksOnce() {
    ListSink sink = new ListSink();
    AuditDispatcher dispatcher = builder().sink(sink).build();
    List<AuditEvent> sent = events("e", 20);
    sent.forEach(dispatcher::record);

    dispatcher.close();
    dispatcher.close();

    assertThat(sink.events()).containsExactlyElementsOf(sent);
    assertThat(sink.closes).hasValue(1);
    assertThat(dispatcher.admit()).isFalse();
    assertThat(dispatcher.flush(Duration.ZERO)).isTrue();
  }

  @Test
  void record_afterClose_goesToFallbackAndIsCounted() {
    ListSink sink = new ListSink();
    AuditDispatcher dispatcher = builder().sink(sink).build();
    dispatcher.close();
    AuditEvent late = TestEvents.event("late");

    dispatcher.record(late);

    assertThat(fallback).containsExactly(late);
    assertThat(dispatcher.stats().recorded()).isEqualTo(1);
    assertThat(dispatcher.stats().dropped()).isEqualTo(1);
    assertThat(sink.events()).isEmpty();
  }

  @Test
  void close_withStuckSink_givesUpAfterDrainTimeoutLoggingTheRest() throws Exception {
    GatedSink sink = new GatedSink();
    AuditDispatcher dispatcher = builder().sink(sink).drainTimeout(Duration.ZERO).build();
    dispatcher.record(TestEvents.event("held"));
    assertThat(sink.entered.await(30, TimeUnit.SECONDS)).isTrue();
    dispatcher.record(TestEvents.event("q0"));
    dispatcher.record(TestEvents.event("q1"));

    dispatcher.close();

    assertThat(fallback).extracting(AuditEvent::id).containsExactlyInAnyOrder("held", "q0", "q1");
    assertThat(dispatcher.stats().dropped()).isEqualTo(3);
    assertThat(sink.closes).as("left open while stuck in write").hasValue(0);
    sink.gate.countDown();
  }

  @Test
  void close_withFailingSinkUnderBlock_boundedByDrainTimeout() {
    FlakySink sink = new FlakySink(0, false);
    sink.failing = true;
    AuditDispatcher dispatcher =
        builder().sink(sink).onSinkFailure(OnSinkFailure.BLOCK).drainTimeout(Duration.ZERO).build();
    List<AuditEvent> sent = events("e", 10);
    sent.forEach(dispatcher::record);

    dispatcher.close();

    assertThat(fallback).containsExactlyInAnyOrderElementsOf(sent);
    assertThat(dispatcher.stats().dropped()).isEqualTo(10);
    assertThat(sink.closes.get()).isLessThanOrEqualTo(1);
  }

  @Test
  void record_manyThreads_everyEventWrittenExactlyOnceInPerThreadOrder() throws Exception {
    ListSink a = new ListSink();
    ListSink b = new ListSink();
    AuditDispatcher dispatcher = builder().sink(a).sink(b).capacity(1024).build();
    int threads = 8;
    int perThread = 10_000;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> producers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      String prefix = "t" + t + "-";
      Thread producer = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < perThread; i++) {
          dispatcher.record(TestEvents.event(prefix + i));
        }
      });
      producers.add(producer);
      producer.start();
    }

    start.countDown();
    for (Thread producer : producers) {
      producer.join();
    }
    dispatcher.close();

    for (ListSink sink : List.of(a, b)) {
      List<AuditEvent> written = sink.events();
      assertThat(written).hasSize(threads * perThread);
      assertThat(new HashSet<>(written)).hasSize(threads * perThread);
      int[] next = new int[threads];
      for (AuditEvent e : written) {
        String[] parts = e.id().substring(1).split("-");
        int t = Integer.parseInt(parts[0]);
        assertThat(Integer.parseInt(parts[1])).isEqualTo(next[t]);
        next[t]++;
      }
      assertThat(sink.batches()).anyMatch(size -> size > 1);
    }
    assertThat(dispatcher.stats().written()).isEqualTo(2L * threads * perThread);
  }

  @Test
  void slowSinkDoesNotStallAnother() throws Exception {
    GatedSink slow = new GatedSink();
    ListSink fast = new ListSink();
    try (AuditDispatcher dispatcher = builder().sink(slow).sink(fast).build()) {
      List<AuditEvent> sent = events("e", 100);
      sent.forEach(dispatcher::record);
      assertThat(slow.entered.await(30, TimeUnit.SECONDS)).isTrue();

      long deadline = System.nanoTime() + LONG.toNanos();
      while (fast.events().size() < 100 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }

      assertThat(fast.events()).containsExactlyElementsOf(sent);
      assertThat(slow.events()).isEmpty();
      slow.gate.countDown();
    }
  }

  @Test
  void builder_validatesAsSet() {
    AuditDispatcher.Builder b = AuditDispatcher.builder();
    assertThatThrownBy(() -> b.capacity(0)).hasMessageContaining("capacity");
    assertThatThrownBy(() -> b.batchSize(0)).hasMessageContaining("batchSize");
    assertThatThrownBy(() -> b.maxAttempts(0)).hasMessageContaining("maxAttempts");
    assertThatThrownBy(() -> b.retryBackoff(Duration.ZERO, Duration.ofSeconds(1)))
        .hasMessageContaining("min");
    assertThatThrownBy(() -> b.retryBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("max");
    assertThatThrownBy(() -> b.threadName(" ")).hasMessageContaining("threadName");
    assertThatThrownBy(() -> b.drainTimeout(Duration.ofSeconds(-1))).hasMessageContaining("drainTimeout");
    assertThatThrownBy(b::build).hasMessageContaining("at least one sink");
  }

  @Test
  void stats_recordedEqualsWrittenWhenHealthy() {
    ListSink sink = new ListSink();
    try (AuditDispatcher dispatcher = builder().sink(sink).threadName("audit-test").build()) {
      events("e", 3).forEach(dispatcher::record);

      assertThat(dispatcher.flush(LONG)).isTrue();

      assertThat(dispatcher.stats())
          .isEqualTo(new AuditDispatcher.Stats(3, 3, 0, 0, 0, true));
    }
  }
}
