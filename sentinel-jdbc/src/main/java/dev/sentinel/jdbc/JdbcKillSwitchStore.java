package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.killswitch.KillSwitchStore;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * The kill switch's state in the database's {@code sentinel_kill_switch} table, one row per
 * disabled target ({@code scope} is {@code all}, {@code backend}, {@code tool} or {@code
 * principal}; {@code all}'s target is {@code *}), so that every gateway on the database can follow
 * one kill switch.
 *
 * <p>On PostgreSQL, {@link #save} also sends {@code NOTIFY} {@value #CHANNEL} (delivered when its
 * transaction commits), and {@link #watch} listens on a connection of its own, so that other
 * gateways see a change at once; after a lost connection it reconnects, and reports a change on
 * reconnecting in case one was missed. SQLite has no such signal: gateways poll.
 *
 * <p>Thread-safe: each call is one transaction.
 */
public final class JdbcKillSwitchStore implements KillSwitchStore {
  /** The PostgreSQL notification channel of kill-switch changes. */
  public static final String CHANNEL = "sentinel_kill_switch";


  private final Database database;
  private final Clock clock;

  private JdbcKillSwitchStore(Database database, Clock clock) {
    this.database = database;
    this.clock = clock;
  }

  /** A store on the database, stamping rows with the clock's time. */
  public static JdbcKillSwitchStore create(Database database, Clock clock) {
    return new JdbcKillSwitchStore(
        Objects.requireNonNull(database, "database"), Objects.requireNonNull(clock, "clock"));
  }

  /** The stored state; {@link KillSwitch.State#EMPTY} when nothing is disabled. */
  @Override
  public KillSwitch.State load() {
    return database.jdbi().inTransaction(JdbcKillSwitchStore::read);
  }

  /**
   * Replaces the stored state with the given one, in one transaction (on PostgreSQL with a
   * {@code NOTIFY} to the watchers).
   */
  @Override
  public void save(KillSwitch.State state) {
    Objects.requireNonNull(state, "state");
    database.jdbi().useTransaction(h -> write(h, state));
  }

  /**
   * {@inheritDoc} One transaction that holds the table's write lock from the read to the write:
   * on SQLite every transaction is {@code BEGIN IMMEDIATE}; on PostgreSQL it locks the table
   * {@code SHARE ROW EXCLUSIVE}, which lets readers on and makes a concurrent update wait.
   */
  @Override
  public KillSwitch.State update(UnaryOperator<KillSwitch.State> change) {
    Objects.requireNonNull(change, "change");
    return database.jdbi().inTransaction(h -> {
      if (database.dialect() == Dialect.POSTGRESQL) {
        h.execute("LOCK TABLE sentinel_kill_switch IN SHARE ROW EXCLUSIVE MODE");
      }
      KillSwitch.State current = read(h);
      KillSwitch.State next = Objects.requireNonNull(change.apply(current), "next state");
      if (!next.equals(current)) {
        write(h, next);
      }
      return next;
    });
  }

  private static KillSwitch.State read(Handle h) {
    String[] all = {null};
    Map<String, String> backends = new TreeMap<>();
    Map<String, String> tools = new TreeMap<>();
    Map<String, String> principals = new TreeMap<>();
    h.createQuery("SELECT scope, target, active, reason FROM sentinel_kill_switch")
        .map((rs, ctx) -> {
          if (rs.getBoolean("active")) {
            String target = rs.getString("target");
            String reason = rs.getString("reason");
            switch (rs.getString("scope")) {
              case "all":
                all[0] = reason;
                break;
              case "backend":
                backends.put(target, reason);
                break;
              case "tool":
                tools.put(target, reason);
                break;
              case "principal":
                principals.put(target, reason);
                break;
              default:
                // A scope from a newer Sentinel: not this build's to enforce.
                break;
            }
          }
          return Boolean.TRUE;
        })
        .list();
    return new KillSwitch.State(all[0], backends, tools, principals);
  }

  private void write(Handle h, KillSwitch.State state) {
    long now = Micros.at(clock.instant());
    h.execute("DELETE FROM sentinel_kill_switch");
    PreparedBatch batch = h.prepareBatch(
        "INSERT INTO sentinel_kill_switch (scope, target, active, reason, updated_at)"
            + " VALUES (?, ?, ?, ?, ?)");
    int rows = 0;
    if (state.all() != null) {
      batch.add("all", "*", true, state.all(), now);
      rows++;
    }
    rows += add(batch, "backend", state.backends(), now);
    rows += add(batch, "tool", state.tools(), now);
    rows += add(batch, "principal", state.principals(), now);
    if (rows > 0) {
      batch.execute();
    }
    if (database.dialect() == Dialect.POSTGRESQL) {
      h.execute("NOTIFY " + CHANNEL);
    }
  }

  /**
   * {@inheritDoc} On PostgreSQL, a daemon thread {@code LISTEN}s on {@value #CHANNEL} on a
   * connection of its own; on SQLite, nothing (gateways poll).
   */
  @Override
  public Watch watch(Runnable onChange) {
    Objects.requireNonNull(onChange, "onChange");
    if (database.dialect() != Dialect.POSTGRESQL) {
      return () -> {};
    }
    // Outside the pool: the listener's connection is held for as long as it runs.
    PgListener listener = PgListener.start(database, CHANNEL, onChange);
    return listener::close;
  }

  private static int add(PreparedBatch batch, String scope, Map<String, String> targets, long now) {
    targets.forEach((target, reason) -> batch.add(scope, target, true, reason, now));
    return targets.size();
  }
}
