package dev.sentinel.benchmarks;

import dev.sentinel.api.Clock;
import dev.sentinel.core.breakglass.BreakGlassWindow;
import dev.sentinel.core.breakglass.BreakGlassWindows;
import dev.sentinel.core.breakglass.InMemoryBreakGlassStore;
import dev.sentinel.core.notify.Notifier;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the break-glass check adds to a call (issue 13, item 6): the pipeline asks, for every
 * call, whether the caller has an open window ({@code BreakGlassWindows#window}), on a snapshot
 * the gateway refreshes from the database every {@code sync_interval}, never per call.
 *
 * <ul>
 *   <li>{@code noWindowOpen}: no window open on the gateway, the common case: one volatile read
 *       and a branch.
 *   <li>{@code anotherPrincipalsWindowOpen}: a window is open, for someone else: a map lookup.
 *   <li>{@code ownWindowOpen}: the caller's window is open: a lookup and the expiry check.
 * </ul>
 *
 * <p>{@code baseline} returns a prebuilt value: the difference is the cost. Run: {@code
 * benchmarks/run BreakGlassBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BreakGlassBenchmark {
  private final Instant now = Instant.parse("2026-12-05T12:00:00Z");
  private final Clock clock = new Clock() {
    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public long nanoTime() {
      return 0;
    }
  };
  private BreakGlassWindows none;
  private BreakGlassWindows one;
  private String caller;
  private String opened;
  private BreakGlassWindow prebuilt;

  /** An empty gateway, and one with a window open for {@code olga}. */
  @Setup
  public void setUp() {
    none = BreakGlassWindows.of(new InMemoryBreakGlassStore(), clock, Notifier.none());
    InMemoryBreakGlassStore store = new InMemoryBreakGlassStore();
    prebuilt = new BreakGlassWindow("aaaaaaaaaaaa", "olga", "ops", "benchmark", now,
        now.plus(Duration.ofHours(1)), null, null);
    store.create(prebuilt);
    one = BreakGlassWindows.of(store, clock, Notifier.none());
    caller = new String("alice".toCharArray()); // not interned: as a principal id arrives
    opened = new String("olga".toCharArray());
  }

  /** The prebuilt answer: what the lookups are compared with. */
  @Benchmark
  public BreakGlassWindow baseline() {
    return prebuilt;
  }

  /** No window open anywhere. */
  @Benchmark
  public BreakGlassWindow noWindowOpen() {
    return none.window(caller, now);
  }

  /** A window open for another principal. */
  @Benchmark
  public BreakGlassWindow anotherPrincipalsWindowOpen() {
    return one.window(caller, now);
  }

  /** The caller's own window open. */
  @Benchmark
  public BreakGlassWindow ownWindowOpen() {
    return one.window(opened, now);
  }
}
