package dev.sentinel.core.pinning;

import java.time.Instant;
import java.util.Objects;

/**
 * The one rule for what seeing a tool's definition does to its pin, over any {@link PinStore}:
 * the gateways call {@link #observe} for every definition a backend lists; the operator service
 * approves, rejects and pins ahead through the same store.
 *
 * <p>Stateless and thread-safe; each operation is one atomic {@link PinStore#update}.
 */
public final class Pins {
  /** Who {@link #observe} records as the author of a pin trusted on first use. */
  public static final String FIRST_USE = "first-use";
  /** Who {@link #observe} records as the author of a change it holds. */
  public static final String GATEWAY = "gateway";

  private Pins() {}

  /**
   * Records that a backend lists this definition of a tool, and answers the pin now. A tool seen
   * for the first time is pinned to it (trust on first use) unless {@code holdFirst} says to
   * hold it even then (its definition carries hidden instructions that the config blocks). A
   * definition other than the approved one is held for an operator (replacing an older pending
   * one, whose rejection then no longer applies); the approved definition listed again clears
   * what was pending.
   *
   * @param digest the listed definition's digest ({@link ToolDefinitions#digest})
   * @param canonical its canonical JSON ({@link ToolDefinitions#canonicalJson})
   * @return the pin; {@link ToolPin#approves approves(digest)} says whether the tool may be used
   * @throws RuntimeException if the store cannot be read or written
   */
  public static ToolPin observe(PinStore store, String backend, String tool, String digest,
      String canonical, boolean holdFirst, Instant now) {
    return observeChange(store, backend, tool, digest, canonical, holdFirst, now).pin();
  }

  /**
   * As {@link #observe}, saying also whether this sighting is the one that recorded a new
   * definition as held: of the gateways sharing a store, exactly one learns that for each new
   * definition (the one whose update changed the pin), so that exactly one notifies.
   */
  public static Observed observeChange(PinStore store, String backend, String tool,
      String digest, String canonical, boolean holdFirst, Instant now) {
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(canonical, "canonical");
    boolean[] recorded = new boolean[1];
    ToolPin after = store.update(backend, tool, pin -> {
      // The store may run this again (a retried transaction): the last run's answer counts.
      recorded[0] = false;
      if (pin == null) {
        recorded[0] = holdFirst;
        return holdFirst
            ? new ToolPin(backend, tool, null, null, digest, canonical, false, now, GATEWAY)
            : new ToolPin(backend, tool, digest, canonical, null, null, false, now, FIRST_USE);
      }
      if (pin.approves(digest)) {
        return pin.held() ? pin.settled(digest, canonical, now, GATEWAY) : pin;
      }
      if (digest.equals(pin.pendingDigest())) {
        return pin;
      }
      recorded[0] = true;
      return pin.holding(digest, canonical, now, GATEWAY);
    });
    return new Observed(after, recorded[0]);
  }

  /**
   * A sighting's outcome.
   *
   * @param pin the pin now
   * @param newlyHeld whether this sighting recorded the listed definition as held
   */
  public record Observed(ToolPin pin, boolean newlyHeld) {}

  /**
   * Pins a definition ahead, as approved, whatever was pinned before: an operator's {@code
   * sentinel tools pin}. A pending definition equal to it is no longer pending.
   *
   * @return the pin now
   */
  public static ToolPin pin(PinStore store, String backend, String tool, String digest,
      String canonical, String by, Instant now) {
    return store.update(backend, tool, pin -> {
      if (pin == null || digest.equals(pin.pendingDigest()) || !pin.held()) {
        return new ToolPin(backend, tool, digest, canonical, null, null, false, now, by);
      }
      return new ToolPin(backend, tool, digest, canonical, pin.pendingDigest(),
          pin.pendingDefinition(), pin.rejected(), now, by);
    });
  }
}
