package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.breakglass.BreakGlassWindow;
import dev.sentinel.core.breakglass.BreakGlassWindows;
import dev.sentinel.core.breakglass.Totp;
import dev.sentinel.core.breakglass.TotpEnrolment;
import dev.sentinel.core.notify.Notification;
import dev.sentinel.operator.BreakGlassOperations;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.policy.BreakGlassSettings;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a {@link JdbcBreakGlassStore} does on each database: every field round-trips, two
 * gateways (two connections to one database) see the same windows, a window closes once, and a
 * TOTP code is accepted once however many gateways try it at the same moment.
 */
abstract class JdbcBreakGlassStoreContract {
  final ManualClock clock = new ManualClock(Instant.parse("2026-12-05T12:00:00Z"));
  final List<Notification> notified = new CopyOnWriteArrayList<>();

  /** Opens the test's database: the same one on every call within a test. */
  protected abstract Database openDatabase();

  private BreakGlassOperations ops(JdbcBreakGlassStore store, BreakGlassWindows windows) {
    return Operations.builder().breakGlassStore(store)
        .breakGlassSettings(() -> Optional.of(BreakGlassSettings.DEFAULTS))
        .onBreakGlassChange(windows::refresh).notifier(notified::add).clock(clock).build()
        .breakGlass();
  }

  @Test
  void windowsAndEnrolments_roundTripEveryField() {
    try (Database db = openDatabase()) {
      JdbcBreakGlassStore store = JdbcBreakGlassStore.create(db);
      Instant now = clock.instant();
      BreakGlassWindow w = new BreakGlassWindow("aaaaaaaaaaaa", "olga", "ops-lead", "db down",
          now, now.plus(Duration.ofMinutes(30)), null, null);
      store.create(w);
      assertThat(store.find(w.id())).contains(w);
      assertThat(store.unclosed()).containsExactly(w);
      assertThat(store.list(10)).containsExactly(w);
      assertThatThrownBy(() -> store.create(w)).isInstanceOf(IllegalArgumentException.class);

      assertThat(store.close(w.id(), "ops-lead", now.plusSeconds(5)))
          .contains(w.closedBy("ops-lead", now.plusSeconds(5)));
      assertThat(store.close(w.id(), "someone-else", now.plusSeconds(6))).isEmpty();
      assertThat(store.unclosed()).isEmpty();
      assertThat(store.close("nosuchwindow", "x", now)).isEmpty();

      TotpEnrolment e = TotpEnrolment.create("olga", now);
      store.enroll(e);
      assertThat(store.enrolment("olga")).contains(e);
      TotpEnrolment locked = e.failed(1, now.plusSeconds(600));
      assertThat(store.updateEnrolment("olga", x -> x.failed(1, now.plusSeconds(600))))
          .contains(locked);
      assertThat(store.enrolment("olga")).contains(locked);
      assertThat(store.updateEnrolment("nobody", x -> x)).isEmpty();
    }
  }

  @Test
  void twoGateways_seeTheSameWindow_andAnOperatorsCloseOnOneEndsItOnTheOther() {
    try (Database a = openDatabase(); Database b = openDatabase()) {
      JdbcBreakGlassStore storeA = JdbcBreakGlassStore.create(a);
      JdbcBreakGlassStore storeB = JdbcBreakGlassStore.create(b);
      BreakGlassWindows gatewayA = BreakGlassWindows.of(storeA, clock, notified::add);
      BreakGlassWindows gatewayB = BreakGlassWindows.of(storeB, clock, notified::add);

      BreakGlassWindow w = ops(storeA, gatewayA).open("olga", "db down", "20m", "ops-lead");

      assertThat(gatewayA.window("olga", clock.instant())).isEqualTo(w);
      gatewayB.refresh(); // what gateway B's sync does every database.sync_interval
      assertThat(gatewayB.window("olga", clock.instant())).isEqualTo(w);
      assertThat(gatewayB.window("dan", clock.instant())).isNull();

      ops(storeB, gatewayB).close(w.id(), "ops-lead");
      gatewayA.refresh();
      assertThat(gatewayA.window("olga", clock.instant())).isNull();
    }
  }

  @Test
  void expiry_isClosedAndAnnouncedOnce_byWhicheverGatewayNoticesFirst() {
    try (Database a = openDatabase(); Database b = openDatabase()) {
      BreakGlassWindows gatewayA = BreakGlassWindows.of(JdbcBreakGlassStore.create(a), clock,
          notified::add);
      BreakGlassWindows gatewayB = BreakGlassWindows.of(JdbcBreakGlassStore.create(b), clock,
          notified::add);
      BreakGlassWindow w = ops(JdbcBreakGlassStore.create(a), gatewayA)
          .open("olga", "db down", "10m", "ops-lead");
      gatewayB.refresh();
      clock.advance(Duration.ofMinutes(10));

      assertThat(gatewayB.window("olga", clock.instant())).isNull(); // exact, before any sync
      gatewayA.refresh();
      gatewayB.refresh();

      assertThat(notified).extracting(Notification::type)
          .containsExactly("break_glass.opened", "break_glass.closed");
      assertThat(JdbcBreakGlassStore.create(b).find(w.id()).orElseThrow().closed())
          .isEqualTo(w.expires());
    }
  }

  @Test
  void oneTotpCode_triedOnManyGatewaysAtOnce_opensOneWindow() throws Exception {
    int gateways = 4;
    try (Database db = openDatabase()) {
      JdbcBreakGlassStore store = JdbcBreakGlassStore.create(db);
      String uri = ops(store, BreakGlassWindows.of(store, clock, notified::add)).enroll("olga");
      String code = Totp.code(store.enrolment("olga").orElseThrow().secret(),
          Totp.step(clock.instant()));
      assertThat(uri).contains("secret=");
      ExecutorService pool = Executors.newFixedThreadPool(gateways);
      List<Database> opened = new ArrayList<>();
      try {
        List<Future<String>> tries = new ArrayList<>();
        for (int i = 0; i < gateways; i++) {
          Database each = openDatabase();
          opened.add(each);
          JdbcBreakGlassStore own = JdbcBreakGlassStore.create(each);
          BreakGlassOperations ops = ops(own, BreakGlassWindows.of(own, clock, notified::add));
          tries.add(pool.submit(() -> {
            try {
              return ops.openWithCode("olga", code, "db down", "5m").id();
            } catch (OperatorException e) {
              return "refused: " + e.getMessage();
            }
          }));
        }
        List<String> answers = new ArrayList<>();
        for (Future<String> f : tries) {
          answers.add(f.get(60, TimeUnit.SECONDS));
        }
        assertThat(answers).filteredOn(s -> !s.startsWith("refused")).hasSize(1);
        assertThat(answers).filteredOn(s -> s.startsWith("refused")).hasSize(gateways - 1)
            .allSatisfy(s -> assertThat(s).contains("not accepted"));
      } finally {
        pool.shutdownNow();
        opened.forEach(Database::close);
      }
      assertThat(store.unclosed()).hasSize(1);
    }
  }
}
