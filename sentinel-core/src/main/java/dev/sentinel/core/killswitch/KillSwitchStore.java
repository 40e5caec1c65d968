package dev.sentinel.core.killswitch;

import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Where the operators' kill-switch state is kept so that every gateway using the store follows
 * one switch: an admin API on one gateway {@linkplain #save saves}, the others {@linkplain #load
 * load} it when they poll or when {@linkplain #watch told} of a change. sentinel-jdbc's {@code
 * JdbcKillSwitchStore} keeps it in the database's {@code sentinel_kill_switch} table.
 *
 * <p>The store holds only what operators switched; a gateway's config file may disable more,
 * which the gateway adds on top (see {@code GatewayRuntime#updateKillSwitch}).
 *
 * <p>Implementations are thread-safe.
 */
public interface KillSwitchStore {

  /**
   * The stored state; {@link KillSwitch.State#EMPTY} when nothing is switched off.
   *
   * @throws RuntimeException if the store cannot be read
   */
  KillSwitch.State load();

  /**
   * Replaces the stored state, and tells the gateways {@linkplain #watch watching} the store.
   *
   * @throws RuntimeException if the store cannot be written; it is then unchanged
   */
  void save(KillSwitch.State state);

  /**
   * Changes the stored state atomically: {@code change} gets the stored state and answers the
   * next, which is saved (and the watchers told) unless it is equal. Two updates from different
   * gateways never lose one another's change, as a {@link #load} then {@link #save} could when a
   * gateway had not yet seen the other's. The default is that load-then-save under this object's
   * lock, atomic only within one process: stores shared by processes must override it.
   *
   * @return the stored state now
   * @throws RuntimeException if the store cannot be read or written; it is then unchanged
   */
  default KillSwitch.State update(UnaryOperator<KillSwitch.State> change) {
    synchronized (this) {
      KillSwitch.State current = load();
      KillSwitch.State next = Objects.requireNonNull(change.apply(current), "next state");
      if (!next.equals(current)) {
        save(next);
      }
      return next;
    }
  }

  /**
   * Calls {@code onChange} soon after any gateway {@linkplain #save saves} (PostgreSQL: on a
   * {@code NOTIFY}), when the store can tell; gateways poll as well, so a watch only makes
   * changes seen sooner. The callback runs on a thread of the store's and must return quickly.
   * The default watches nothing.
   *
   * @return the watch; close it to stop
   */
  default Watch watch(Runnable onChange) {
    return () -> {};
  }

  /** A running {@link #watch}. */
  @FunctionalInterface
  interface Watch extends AutoCloseable {
    /** Stops watching. Idempotent. */
    @Override
    void close();
  }
}
