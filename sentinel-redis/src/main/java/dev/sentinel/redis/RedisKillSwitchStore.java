package dev.sentinel.redis;

import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.killswitch.KillSwitchStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database's kill-switch store, with each change also announced on the Redis channel
 * {@value #CHANNEL}: every gateway watching reloads the state from the database as soon as the
 * announcement arrives. The state itself never goes to Redis; an announcement carries no data
 * (a message on the channel only makes a gateway read the database sooner).
 *
 * <p>An announcement that cannot be sent is logged and dropped: the state is saved, and the
 * other gateways still see it when they poll ({@code database.sync_interval}) or through the
 * database's own notification (PostgreSQL).
 *
 * <p>Thread-safe.
 */
final class RedisKillSwitchStore implements KillSwitchStore {
  /** The channel the announcements go to. */
  static final String CHANNEL = "sentinel:kill_switch";

  private static final Logger LOG = LoggerFactory.getLogger(RedisKillSwitchStore.class);

  private final KillSwitchStore database;
  private final RedisClient client;
  private final StatefulRedisConnection<String, byte[]> connection;
  private final String name;

  RedisKillSwitchStore(KillSwitchStore database, RedisClient client,
      StatefulRedisConnection<String, byte[]> connection, String name) {
    this.database = Objects.requireNonNull(database, "database");
    this.client = client;
    this.connection = connection;
    this.name = name;
  }

  @Override
  public KillSwitch.State load() {
    return database.load();
  }

  @Override
  public void save(KillSwitch.State state) {
    database.save(state);
    try {
      connection.sync().publish(CHANNEL, new byte[] {'1'});
    } catch (RuntimeException e) {
      LOG.warn("kill switch saved, but the announcement on {} could not be sent ({}); the other"
          + " gateways see the change when they next read the database", name, e.toString());
    }
  }

  /** Watches the database's own way and the Redis channel; either calls {@code onChange}. */
  @Override
  public Watch watch(Runnable onChange) {
    Objects.requireNonNull(onChange, "onChange");
    Watch databaseWatch = database.watch(onChange);
    StatefulRedisPubSubConnection<String, String> pubSub;
    try {
      pubSub = client.connectPubSub();
      pubSub.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String channel, String message) {
          if (CHANNEL.equals(channel)) {
            onChange.run();
          }
        }
      });
      // Lettuce subscribes again by itself after a reconnect.
      pubSub.sync().subscribe(CHANNEL);
    } catch (RuntimeException e) {
      LOG.warn("cannot subscribe to kill-switch announcements on {} ({}); following the"
          + " database only", name, e.toString());
      return databaseWatch;
    }
    StatefulRedisPubSubConnection<String, String> subscribed = pubSub;
    AtomicBoolean closed = new AtomicBoolean();
    return () -> {
      if (closed.compareAndSet(false, true)) {
        try {
          subscribed.close();
        } finally {
          databaseWatch.close();
        }
      }
    };
  }
}
