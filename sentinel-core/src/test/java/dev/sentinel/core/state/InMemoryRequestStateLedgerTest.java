package dev.sentinel.core.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class InMemoryRequestStateLedgerTest {
  private final ManualClock clock = new ManualClock();

  @Test
  void aNonce_isRedeemedOnce_andTheKeyIsStable() {
    RequestStateLedger ledger = RequestStateLedger.inMemory(clock);

    assertThat(ledger.redeem("n", clock.instant().plusSeconds(60))).isTrue();
    assertThat(ledger.redeem("n", clock.instant().plusSeconds(60))).isFalse();
    assertThat(ledger.key()).hasSize(32).isEqualTo(ledger.key())
        .isNotEqualTo(RequestStateLedger.inMemory(clock).key());
  }

  @Test
  void whenFull_expiredNoncesMakeRoom_andUnexpiredOnesFailTheRedemption() {
    RequestStateLedger ledger = RequestStateLedger.inMemory(clock);
    for (int i = 0; i < InMemoryRequestStateLedger.MAX_NONCES; i++) {
      ledger.redeem("n" + i, clock.instant().plusSeconds(i < 10 ? 1 : 3600));
    }

    assertThatThrownBy(() -> ledger.redeem("more", clock.instant().plusSeconds(60)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("too many");
    clock.advance(Duration.ofSeconds(2));
    assertThat(ledger.redeem("more", clock.instant().plusSeconds(60))).isTrue();
    assertThat(ledger.redeem("n20", clock.instant().plusSeconds(60))).as("an unexpired one is kept").isFalse();
  }
}
