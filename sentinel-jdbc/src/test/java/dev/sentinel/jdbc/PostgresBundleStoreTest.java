package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.testing.Conditions;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bundle store on a real PostgreSQL, one new database per test: the contract, NOTIFY to
 * another process's watch, and a connection killed mid-publish.
 */
class PostgresBundleStoreTest extends JdbcBundleStoreContract {
  @RegisterExtension
  static final EmbeddedPostgresServer postgres = EmbeddedPostgresServer.perTestClass();

  @Override
  protected Database openDatabase() {
    return Database.builder(postgres.newDatabase()).clock(clock).open();
  }

  @Test
  void watch_isToldOfAPublishOnAnotherConnection_atCommit() {
    String url = postgres.newDatabase();
    try (Database watching = Database.builder(url).clock(clock).open();
        Database publishing = Database.builder(url).clock(clock).open()) {
      AtomicInteger told = new AtomicInteger();
      BundleStore.Watch watch = JdbcBundleStore.create(watching).watch(told::incrementAndGet);
      try {
        // The first call comes once it listens: a publish from then on is not missed.
        Conditions.await("the watch listens", () -> told.get() >= 1);
        int before = told.get();

        JdbcBundleStore.create(publishing).publish("prod", bundle(1, "read").toBytes(), "alice",
            clock.instant());

        Conditions.await("the watch is told of the publish", () -> told.get() > before);
      } finally {
        watch.close();
      }
    }
  }

  @Test
  void publish_whenTheConnectionDiesMidPublish_leavesNothingVisible() {
    String url = postgres.newDatabase();
    try (Database db = Database.builder(url).clock(clock).open();
        Database admin = Database.builder(url).clock(clock).open()) {
      Bundle good = bundle(1, "read");
      JdbcBundleStore.create(db).publish("prod", good.toBytes(), "alice", clock.instant());
      // The server ends the publishing connection after the insert, before the commit.
      JdbcBundleStore dying = JdbcBundleStore.withFault(db, h -> {
        int pid = h.createQuery("SELECT pg_backend_pid()").mapTo(Integer.class).one();
        admin.jdbi().useHandle(a -> a.createQuery("SELECT pg_terminate_backend(:pid)")
            .bind("pid", pid).mapTo(Boolean.class).one());
      });

      assertThatThrownBy(() -> dying.publish("prod", bundle(2, "write").toBytes(), "alice",
          clock.instant())).isInstanceOf(RuntimeException.class);

      assertThat(JdbcBundleStore.create(db).head("prod").orElseThrow().digest())
          .isEqualTo(good.digest());
    }
  }
}
