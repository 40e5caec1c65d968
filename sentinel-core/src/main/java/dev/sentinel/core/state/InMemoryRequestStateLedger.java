package dev.sentinel.core.state;

import dev.sentinel.api.Clock;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/** {@link RequestStateLedger#inMemory}: a random key and a bounded map of redemptions. Thread-safe. */
final class InMemoryRequestStateLedger implements RequestStateLedger {
  static final int MAX_NONCES = 100_000;

  private final Clock clock;
  private final byte[] key = new byte[32];
  private final Map<String, Instant> redeemed = new ConcurrentHashMap<>();

  InMemoryRequestStateLedger(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    new SecureRandom().nextBytes(key);
  }

  @Override
  public byte[] key() {
    return key.clone();
  }

  @Override
  public boolean redeem(String nonce, Instant expires) {
    Objects.requireNonNull(nonce, "nonce");
    if (redeemed.size() >= MAX_NONCES) {
      Instant now = clock.instant();
      redeemed.values().removeIf(expiry -> expiry.isBefore(now));
      if (redeemed.size() >= MAX_NONCES) {
        throw new IllegalStateException("too many request states redeemed and not yet expired (at most "
            + MAX_NONCES + ")");
      }
    }
    return redeemed.putIfAbsent(nonce, expires) == null;
  }
}
