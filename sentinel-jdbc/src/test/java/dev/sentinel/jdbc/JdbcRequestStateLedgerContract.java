package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a {@link JdbcRequestStateLedger} does on each database: two gateways on one database (two
 * pools, as two processes have) read one key, and a nonce is redeemed once between them, even
 * when they race; expired nonces are purged; a database that is gone fails the redemption.
 */
abstract class JdbcRequestStateLedgerContract {
  final ManualClock clock = new ManualClock();
  private final List<Database> open = new ArrayList<>();

  /** A new, empty database's URL. */
  protected abstract String newUrl();

  @AfterEach
  void closeAll() {
    open.forEach(Database::close);
  }

  private Database open(String url) {
    Database db = Database.builder(url).clock(clock).open();
    open.add(db);
    return db;
  }

  @Test
  void twoGatewaysOnOneDatabase_readOneKey_ofAtLeast32Bytes() {
    String url = newUrl();
    byte[] first = JdbcRequestStateLedger.create(open(url), clock).key();
    byte[] second = JdbcRequestStateLedger.create(open(url), clock).key();
    byte[] elsewhere = JdbcRequestStateLedger.create(open(newUrl()), clock).key();

    assertThat(first).hasSizeGreaterThanOrEqualTo(32).isEqualTo(second);
    assertThat(elsewhere).isNotEqualTo(first);
  }

  @Test
  void aNonce_isRedeemedOnceBetweenGateways_evenWhenTheyRace() throws Exception {
    String url = newUrl();
    JdbcRequestStateLedger a = JdbcRequestStateLedger.create(open(url), clock);
    JdbcRequestStateLedger b = JdbcRequestStateLedger.create(open(url), clock);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 20; round++) {
        String nonce = "n" + round;
        List<Callable<Boolean>> racers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          JdbcRequestStateLedger ledger = i % 2 == 0 ? a : b;
          racers.add(() -> ledger.redeem(nonce, clock.instant().plusSeconds(60)));
        }
        int firsts = 0;
        for (Future<Boolean> won : pool.invokeAll(racers)) {
          firsts += won.get() ? 1 : 0;
        }
        assertThat(firsts).as("round %d", round).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void expiredNonces_arePurged_andTheUnexpiredKept() {
    Database db = open(newUrl());
    JdbcRequestStateLedger ledger = JdbcRequestStateLedger.create(db, clock);
    ledger.redeem("short", clock.instant().plusSeconds(1));
    ledger.redeem("long", clock.instant().plus(Duration.ofHours(1)));
    clock.advance(Duration.ofMinutes(1));
    for (int i = 0; i < 256; i++) {
      ledger.redeem("filler" + i, clock.instant().plus(Duration.ofHours(1)));
    }

    List<String> kept = db.jdbi().withHandle(h -> h.createQuery("SELECT nonce FROM sentinel_request_state")
        .mapTo(String.class).list());
    assertThat(kept).contains("long").doesNotContain("short");
    assertThat(ledger.redeem("long", clock.instant().plusSeconds(60))).isFalse();
  }

  @Test
  void aDatabaseThatIsGone_failsTheRedemption() {
    Database db = Database.builder(newUrl()).clock(clock).open();
    JdbcRequestStateLedger ledger = JdbcRequestStateLedger.create(db, clock);
    db.close();

    assertThatThrownBy(() -> ledger.redeem("n", clock.instant().plusSeconds(60))).isInstanceOf(RuntimeException.class);
  }
}
