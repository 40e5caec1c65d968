package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.state.RequestStateLedger;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The gateway's signed {@code requestState} tokens: what holds, what is refused, and why. */
class RequestStatesTest {
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  private final ManualClock clock = new ManualClock();

  @Test
  void aTokenSpelledWithOtherUnusedBits_isForeign_thoughItDecodesToTheSameBytes() {
    RequestStates states = RequestStates.random(clock);
    String token = states.issue("binding", Duration.ofMinutes(1));
    // The MAC's 32 bytes take 43 characters: the last one's two low bits are unused.
    char last = token.charAt(token.length() - 1);
    char respelled = ALPHABET.charAt(ALPHABET.indexOf(last) ^ 1);

    assertThat(states.redeem(token.substring(0, token.length() - 1) + respelled, "binding"))
        .isEqualTo(RequestStates.Check.FOREIGN);
    assertThat(states.redeem(token, "binding")).isEqualTo(RequestStates.Check.REDEEMED);
  }

  @Test
  void aToken_holdsOnceForItsBinding_untilItExpires() {
    RequestStates states = RequestStates.random(clock);
    String token = states.issue("binding", Duration.ofMinutes(1));
    String late = states.issue("binding", Duration.ofMinutes(1));

    assertThat(states.check(token, "binding", false)).isEqualTo(RequestStates.Check.REDEEMED);
    assertThat(states.redeem(token, "another")).isEqualTo(RequestStates.Check.FOREIGN);
    assertThat(states.redeem(token, "binding")).isEqualTo(RequestStates.Check.REDEEMED);
    assertThat(states.redeem(token, "binding")).isEqualTo(RequestStates.Check.USED);
    assertThat(states.check(token, "binding", false)).isEqualTo(RequestStates.Check.USED);
    clock.advance(Duration.ofMinutes(2));
    assertThat(states.redeem(late, "binding")).isEqualTo(RequestStates.Check.EXPIRED);
  }

  @Test
  void withASharedLedger_aTokenIsRedeemedOnceAcrossGateways_andAFailingLedgerAcceptsNothing() {
    RequestStateLedger ledger = RequestStateLedger.inMemory(clock);
    RequestStates a = new RequestStates(ledger.key(), clock, ledger);
    RequestStates b = new RequestStates(ledger.key(), clock, ledger);
    String token = a.issue("binding", Duration.ofMinutes(1));

    assertThat(b.redeem(token, "binding")).isEqualTo(RequestStates.Check.REDEEMED);
    assertThat(a.redeem(token, "binding")).isEqualTo(RequestStates.Check.USED);

    RequestStateLedger broken = new RequestStateLedger() {
      @Override
      public byte[] key() {
        return ledger.key();
      }

      @Override
      public boolean redeem(String nonce, java.time.Instant expires) {
        throw new IllegalStateException("the database is gone");
      }
    };
    RequestStates c = new RequestStates(ledger.key(), clock, broken);
    assertThat(c.redeem(c.issue("binding", Duration.ofMinutes(1)), "binding"))
        .isEqualTo(RequestStates.Check.UNVERIFIABLE);
  }
}
