package dev.sentinel.core.operator;

import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.killswitch.KillSwitchStore;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Where the operators' kill switch is changed: a running gateway (sentinel-mcp's {@code
 * GatewayRuntime#killSwitchControl()}: applied at once and stored for the others) or, with no
 * gateway at hand, the database's store ({@link #of}), which every gateway on it follows within
 * its {@code sync_interval}.
 *
 * <p>Implementations are thread-safe, and {@link #update} is atomic against every other update
 * of the same store: a change made from one gateway is never lost to one made from another that
 * had not yet seen it.
 */
public interface KillSwitchControl {

  /** What operators have switched off, without the config's entries. */
  KillSwitch.State operatorState();

  /** What is switched off in effect: the config's entries and the operators'. */
  KillSwitch.State effectiveState();

  /**
   * Changes what operators have switched off, atomically: {@code change} gets the current state
   * and answers the next.
   *
   * @return the operators' state now
   * @throws RuntimeException if the store cannot be written (then the change holds on this
   *     gateway only, if at all)
   */
  KillSwitch.State update(UnaryOperator<KillSwitch.State> change);

  /** The backends a {@code backend} entry may name; empty when not known here. */
  default Set<String> backends() {
    return Set.of();
  }

  /**
   * Control through a store alone, as {@code sentinel killswitch} uses it: the gateways on the
   * store pick the change up.
   *
   * @param configured the config's {@code kill_switch:} entries, shown with the operators'
   * @param backends the config's backend names, for validation; empty to accept any
   */
  static KillSwitchControl of(KillSwitchStore store, KillSwitch.State configured,
      Set<String> backends) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(configured, "configured");
    Set<String> names = Set.copyOf(backends);
    return new KillSwitchControl() {
      @Override
      public KillSwitch.State operatorState() {
        return store.load();
      }

      @Override
      public KillSwitch.State effectiveState() {
        return KillSwitch.State.merge(configured, store.load());
      }

      @Override
      public KillSwitch.State update(UnaryOperator<KillSwitch.State> change) {
        return store.update(change);
      }

      @Override
      public Set<String> backends() {
        return names;
      }
    };
  }
}
