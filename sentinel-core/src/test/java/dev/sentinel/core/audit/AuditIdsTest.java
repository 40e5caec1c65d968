package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AuditIdsTest {

  @Test
  void next_isUuidVersion7WithClockMillis() {
    ManualClock clock = new ManualClock(Instant.parse("2026-03-04T05:06:07.891Z"));

    String id = AuditIds.next(clock);

    assertThat(id).matches("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    UUID uuid = UUID.fromString(id);
    assertThat(uuid.version()).isEqualTo(7);
    assertThat(uuid.variant()).isEqualTo(2);
    long millis = Long.parseLong(id.substring(0, 8) + id.substring(9, 13), 16);
    assertThat(millis).isGreaterThanOrEqualTo(clock.instant().toEpochMilli());
  }

  @Test
  void next_strictlyIncreasingWhenClockStandsStill() {
    ManualClock clock = new ManualClock(Instant.parse("2030-01-01T00:00:00Z"));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      ids.add(AuditIds.next(clock));
    }

    for (int i = 1; i < ids.size(); i++) {
      assertThat(ids.get(i)).isGreaterThan(ids.get(i - 1));
    }
  }

  @Test
  void next_increasingWhenClockStepsBack() {
    ManualClock later = new ManualClock(Instant.parse("2031-01-01T00:00:00Z"));
    ManualClock earlier = new ManualClock(Instant.parse("2029-01-01T00:00:00Z"));

    String a = AuditIds.next(later);
    String b = AuditIds.next(earlier);
    later.advance(Duration.ofDays(1));
    String c = AuditIds.next(later);

    assertThat(b).isGreaterThan(a);
    assertThat(c).isGreaterThan(b);
  }

  @Test
  void next_uniqueAcrossThreads() throws InterruptedException {
    ManualClock clock = new ManualClock(Instant.parse("2032-01-01T00:00:00Z"));
    ConcurrentLinkedQueue<String> all = new ConcurrentLinkedQueue<>();
    AtomicInteger outOfOrder = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> {
        String last = "";
        for (int i = 0; i < 5_000; i++) {
          String id = AuditIds.next(clock);
          if (id.compareTo(last) <= 0) {
            outOfOrder.incrementAndGet();
          }
          last = id;
          all.add(id);
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }

    Set<String> unique = new HashSet<>(all);
    assertThat(unique).hasSize(40_000);
    assertThat(outOfOrder).hasValue(0);
  }
}
