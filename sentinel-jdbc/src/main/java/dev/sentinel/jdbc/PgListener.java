package dev.sentinel.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon thread that {@code LISTEN}s on one PostgreSQL notification channel on a connection of
 * its own (outside the pool) and runs a callback for each batch of notifications, and once after
 * each (re)connection, since a notification may have been missed while not listening. After a
 * lost connection it retries every {@value #RECONNECT_SECONDS} seconds until closed.
 */
final class PgListener implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(PgListener.class);
  private static final int LISTEN_POLL_MILLIS = 500;
  private static final long RECONNECT_SECONDS = 5;

  private final Database database;
  private final String channel;
  private final Runnable onNotify;
  private volatile boolean closed;
  private volatile @Nullable Thread thread;

  private PgListener(Database database, String channel, Runnable onNotify) {
    this.database = database;
    this.channel = channel;
    this.onNotify = onNotify;
  }

  /** Starts listening; close the answer to stop. */
  static PgListener start(Database database, String channel, Runnable onNotify) {
    PgListener listener = new PgListener(database, channel, onNotify);
    Thread thread = new Thread(listener, channel.replace('_', '-') + "-listener");
    thread.setDaemon(true);
    listener.thread = thread;
    thread.start();
    return listener;
  }

  @Override
  public void run() {
    while (!closed && !database.isClosed()) {
      try (Connection connection = database.unpooledDataSource().getConnection()) {
        try (Statement statement = connection.createStatement()) {
          statement.execute("LISTEN " + channel);
        }
        onNotify.run();
        PGConnection pg = connection.unwrap(PGConnection.class);
        while (!closed && !database.isClosed()) {
          PGNotification[] notifications = pg.getNotifications(LISTEN_POLL_MILLIS);
          if (notifications != null && notifications.length > 0) {
            onNotify.run();
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (closed || database.isClosed()) {
          return;
        }
        LOG.warn("cannot listen on {} in {}; polling only, retrying in {} s: {}", channel,
            database.url(), RECONNECT_SECONDS, e.toString());
        pause();
      }
    }
  }

  private synchronized void pause() {
    long end = System.nanoTime() + Duration.ofSeconds(RECONNECT_SECONDS).toNanos();
    try {
      for (long left = end - System.nanoTime(); !closed && left > 0; left = end - System.nanoTime()) {
        wait(Math.max(1, left / 1_000_000));
      }
    } catch (InterruptedException e) {
      closed = true;
      Thread.currentThread().interrupt();
    }
  }

  /** Stops listening, waiting briefly for the thread to end. Idempotent. */
  void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    Thread running = thread;
    if (running != null && running != Thread.currentThread()) {
      try {
        // The listening loop checks every LISTEN_POLL_MILLIS.
        running.join(4L * LISTEN_POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
