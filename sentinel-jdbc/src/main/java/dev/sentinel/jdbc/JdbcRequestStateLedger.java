package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.core.state.RequestStateLedger;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The states of multi round-trip requests shared by every gateway on the database (schema 9):
 * the signing key in {@code sentinel_secret}, made once by whichever gateway asks first (an
 * insert that does nothing when the row exists, then a read: every gateway reads the same key),
 * and the redeemed nonces in {@code sentinel_request_state}, whose primary key makes a second
 * redemption on any gateway insert nothing. Expired nonces are deleted every {@value
 * #PURGE_EVERY} redemptions of this process.
 *
 * <p>The key is stored as base64 in the database: whoever can write the database can already
 * change keys, policies and the trail, so it adds no one to those who can forge a state.
 * Thread-safe.
 */
public final class JdbcRequestStateLedger implements RequestStateLedger {
  static final String KEY_NAME = "request_state_key";
  private static final int PURGE_EVERY = 256;

  private final Database database;
  private final Clock clock;
  private final AtomicLong redemptions = new AtomicLong();
  private volatile byte @Nullable [] key;

  private JdbcRequestStateLedger(Database database, Clock clock) {
    this.database = database;
    this.clock = clock;
  }

  /** A ledger on the database. */
  public static JdbcRequestStateLedger create(Database database, Clock clock) {
    return new JdbcRequestStateLedger(Objects.requireNonNull(database, "database"),
        Objects.requireNonNull(clock, "clock"));
  }

  @Override
  public byte[] key() {
    byte[] known = key;
    if (known == null) {
      byte[] made = new byte[32];
      new SecureRandom().nextBytes(made);
      String stored = database.inTransaction("read the request state key", h -> {
        h.createUpdate("INSERT INTO sentinel_secret (name, value) VALUES (:name, :value) ON CONFLICT DO NOTHING")
            .bind("name", KEY_NAME)
            .bind("value", Base64.getEncoder().encodeToString(made))
            .execute();
        return h.createQuery("SELECT value FROM sentinel_secret WHERE name = :name")
            .bind("name", KEY_NAME)
            .mapTo(String.class)
            .one();
      });
      known = Base64.getDecoder().decode(stored);
      if (known.length < 32) {
        throw new DatabaseException("the request state key in sentinel_secret has " + known.length
            + " bytes; it needs at least 32 (delete the row to have a new one made)");
      }
      key = known;
    }
    return known.clone();
  }

  @Override
  public boolean redeem(String nonce, Instant expires) {
    Objects.requireNonNull(nonce, "nonce");
    long now = Micros.at(clock.instant());
    boolean first = database.withHandle("redeem a request state", h -> {
      if (redemptions.incrementAndGet() % PURGE_EVERY == 0) {
        h.createUpdate("DELETE FROM sentinel_request_state WHERE expires_at < :now").bind("now", now).execute();
      }
      return h.createUpdate("INSERT INTO sentinel_request_state (nonce, expires_at) VALUES (:nonce, :expires)"
              + " ON CONFLICT DO NOTHING")
          .bind("nonce", nonce)
          .bind("expires", Micros.of(expires))
          .execute() == 1;
    });
    return first;
  }
}
