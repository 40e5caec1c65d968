package dev.sentinel.core.state;

import java.time.Instant;

/**
 * What gateways on one database share for the {@code requestState} they sign for MCP 2026-07-28
 * clients (multi round-trip requests): the key that signs the states, so a client's retry can
 * reach any of them, and which states were redeemed, so a state is accepted once across all of
 * them. sentinel-jdbc's stores supply one; without it each gateway keeps its own.
 *
 * <p>Implementations are thread-safe.
 */
public interface RequestStateLedger {

  /**
   * The key the gateways sign states with, at least 32 bytes: made at random by the first
   * gateway that asks, and the same for every gateway after it.
   *
   * @throws RuntimeException if the store cannot be read or written
   */
  byte[] key();

  /**
   * Records a state's nonce as redeemed, to be remembered until {@code expires}; answers whether
   * this was its first redemption on any gateway of the store.
   *
   * @throws RuntimeException if the store cannot be written: the state is then not accepted
   */
  boolean redeem(String nonce, Instant expires);

  /**
   * A ledger in this process's memory, for gateways that run in one process: a random key, and
   * at most {@value InMemoryRequestStateLedger#MAX_NONCES} redemptions remembered until they
   * expire (when full of unexpired ones, a redemption fails, and the state is not accepted).
   *
   * @param clock the clock expiries are read against
   */
  static RequestStateLedger inMemory(dev.sentinel.api.Clock clock) {
    return new InMemoryRequestStateLedger(clock);
  }
}
