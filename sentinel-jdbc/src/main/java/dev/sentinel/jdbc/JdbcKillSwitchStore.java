package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.core.killswitch.KillSwitch;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * The kill switch's state in the database's {@code sentinel_kill_switch} table, one row per
 * disabled target ({@code scope} is {@code all}, {@code backend}, {@code tool} or {@code
 * principal}; {@code all}'s target is {@code *}), so that every gateway on the database can follow
 * one kill switch. Thread-safe: each call is one transaction.
 */
public final class JdbcKillSwitchStore {
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
  public KillSwitch.State load() {
    return database.jdbi().inTransaction(h -> {
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
    });
  }

  /** Replaces the stored state with the given one, in one transaction. */
  public void save(KillSwitch.State state) {
    Objects.requireNonNull(state, "state");
    long now = Micros.of(clock.instant());
    database.jdbi().useTransaction(h -> {
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
    });
  }

  private static int add(PreparedBatch batch, String scope, Map<String, String> targets, long now) {
    targets.forEach((target, reason) -> batch.add(scope, target, true, reason, now));
    return targets.size();
  }
}
