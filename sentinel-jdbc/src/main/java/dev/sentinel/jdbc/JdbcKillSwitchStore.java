package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.killswitch.KillSwitchStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

  private static final Logger LOG = LoggerFactory.getLogger(JdbcKillSwitchStore.class);
  private static final int LISTEN_POLL_MILLIS = 500;
  private static final Duration RECONNECT_DELAY = Duration.ofSeconds(5);

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
    long now = Micros.of(clock.instant());
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
    Listener listener = new Listener(onChange);
    Thread thread = new Thread(listener, "sentinel-kill-switch-listener");
    thread.setDaemon(true);
    listener.thread = thread;
    thread.start();
    return listener::close;
  }

  /** Listens for notifications until closed, reconnecting after failures. */
  private final class Listener implements Runnable {
    private final Runnable onChange;
    private volatile boolean closed;
    private volatile Thread thread;

    Listener(Runnable onChange) {
      this.onChange = onChange;
    }

    @Override
    public void run() {
      while (!closed && !database.isClosed()) {
        // Outside the pool: this connection is held for as long as the listener runs.
        try (Connection connection = database.unpooledDataSource().getConnection()) {
          try (Statement statement = connection.createStatement()) {
            statement.execute("LISTEN " + CHANNEL);
          }
          // A change may have been missed while not listening (the first time: harmless).
          onChange.run();
          PGConnection pg = connection.unwrap(PGConnection.class);
          while (!closed && !database.isClosed()) {
            PGNotification[] notifications = pg.getNotifications(LISTEN_POLL_MILLIS);
            if (notifications != null && notifications.length > 0) {
              onChange.run();
            }
          }
        } catch (SQLException | RuntimeException e) {
          if (closed || database.isClosed()) {
            return;
          }
          LOG.warn("cannot listen for kill switch changes in {}; polling only, retrying in {} s:"
              + " {}", database.url(), RECONNECT_DELAY.toSeconds(), e.toString());
          pause();
        }
      }
    }

    private synchronized void pause() {
      long end = System.nanoTime() + RECONNECT_DELAY.toNanos();
      try {
        for (long left = RECONNECT_DELAY.toNanos(); !closed && left > 0;
            left = end - System.nanoTime()) {
          wait(Math.max(1, left / 1_000_000));
        }
      } catch (InterruptedException e) {
        closed = true;
        Thread.currentThread().interrupt();
      }
    }

    void close() {
      synchronized (this) {
        closed = true;
        notifyAll();
      }
      if (thread != null && thread != Thread.currentThread()) {
        try {
          // The listening loop checks every LISTEN_POLL_MILLIS.
          thread.join(4L * LISTEN_POLL_MILLIS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private static int add(PreparedBatch batch, String scope, Map<String, String> targets, long now) {
    targets.forEach((target, reason) -> batch.add(scope, target, true, reason, now));
    return targets.size();
  }
}
