package dev.sentinel.jdbc;

import dev.sentinel.core.killswitch.KillSwitch;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link KillSwitch} in step with a {@link JdbcKillSwitchStore}: each {@link #poll} loads
 * the stored state and, when it differs from the last one seen, {@link KillSwitch#replace
 * replaces} the switch's state with it. {@link #start} polls every period on the given scheduler.
 * A poll that cannot read the database keeps the current state and logs a warning. Thread-safe.
 */
public final class KillSwitchSync implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KillSwitchSync.class);

  private final JdbcKillSwitchStore store;
  private final KillSwitch killSwitch;
  private KillSwitch.@Nullable State last; // guarded by this
  private @Nullable ScheduledFuture<?> task; // guarded by this

  /** A sync of the switch from the store; nothing is read until the first poll. */
  public KillSwitchSync(JdbcKillSwitchStore store, KillSwitch killSwitch) {
    this.store = Objects.requireNonNull(store, "store");
    this.killSwitch = Objects.requireNonNull(killSwitch, "killSwitch");
  }

  /**
   * Loads the stored state and applies it if it changed since the last poll.
   *
   * @return whether the switch was replaced
   * @throws DatabaseException if the database cannot be read
   */
  public synchronized boolean poll() {
    KillSwitch.State state = store.load();
    if (state.equals(last)) {
      return false;
    }
    killSwitch.replace(state);
    last = state;
    return true;
  }

  /**
   * Polls now and then every period on the scheduler, until {@link #close}.
   *
   * @throws IllegalStateException if already started
   */
  public synchronized void start(ScheduledExecutorService scheduler, Duration period) {
    Objects.requireNonNull(scheduler, "scheduler");
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("kill switch poll period must be positive, got " + period);
    }
    if (task != null) {
      throw new IllegalStateException("kill switch sync already started");
    }
    task = scheduler.scheduleWithFixedDelay(
        this::pollQuietly, 0, period.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void pollQuietly() {
    try {
      poll();
    } catch (RuntimeException e) {
      LOG.warn("cannot read the kill switch from the database; keeping the current state: {}",
          e.getMessage());
    }
  }

  /** Stops polling. Idempotent. */
  @Override
  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
    }
  }
}
