package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.core.operator.AuditFilter;
import dev.sentinel.core.operator.KillSwitchControl;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Outcome;
import dev.sentinel.core.auth.InMemoryKeyStore;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.killswitch.KillSwitchStore;
import dev.sentinel.core.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OperationsTest {
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-05T12:00:00Z"));

  // ---- keys --------------------------------------------------------------------------------

  @Test
  void keys_createRevokeRotate_throughTheService() {
    KeyOperations keys = Operations.builder().keyStore(InMemoryKeyStore.create()).clock(clock)
        .build().keys();
    IssuedKey ann = keys.create(" ann ", List.of(" dev "), "laptop", "30d", "--expires");
    assertThat(ann.key().principal()).isEqualTo("ann");
    assertThat(ann.key().roles()).containsExactly("dev");
    assertThat(ann.key().expires()).isEqualTo(clock.instant().plus(Duration.ofDays(30)));

    IssuedKey fresh = keys.rotate(ann.id(), null, "--expires");
    assertThat(fresh.key().expires()).isEqualTo(ann.key().expires());
    assertThat(keys.revoke(ann.id()).revocation())
        .isEqualTo(KeyOperations.Revocation.ALREADY_REVOKED);
    assertThat(keys.revoke(fresh.id()).revocation()).isEqualTo(KeyOperations.Revocation.REVOKED);
    assertThat(KeyOperations.status(keys.revoke(fresh.id()).key(), clock.instant()))
        .isEqualTo("revoked");
  }

  @Test
  void keys_refusals_sayWhatAndHaveAKind() {
    KeyOperations keys = Operations.builder().keyStore(InMemoryKeyStore.create()).clock(clock)
        .build().keys();
    assertKind(() -> keys.create(" ", List.of(), null, null, "--expires"),
        OperatorException.Kind.INVALID, "principal must not be blank");
    assertKind(() -> keys.create("a", List.of(""), null, null, "--expires"),
        OperatorException.Kind.INVALID, "a role must not be blank");
    assertKind(() -> keys.create("a", List.of(), null, "2001-01-01", "--expires"),
        OperatorException.Kind.INVALID, "--expires: 2001-01-01T00:00:00Z is not in the future");
    assertKind(() -> keys.revoke("nosuchkey"), OperatorException.Kind.NOT_FOUND, "nosuchkey");

    IssuedKey brief = keys.create("a", List.of(), null, "1h", "--expires");
    clock.advance(Duration.ofHours(2));
    assertThat(keys.revoke(brief.id()).revocation()).isEqualTo(KeyOperations.Revocation.EXPIRED);
    assertKind(() -> keys.rotate(brief.id(), null, "--expires"),
        OperatorException.Kind.CONFLICT, "give --expires for its replacement");
    // A key revoked earlier is never revived by rotation.
    IssuedKey gone = keys.create("b", List.of(), null, null, "--expires");
    keys.revoke(gone.id());
    assertKind(() -> keys.rotate(gone.id(), "30d", "--expires"),
        OperatorException.Kind.CONFLICT, "rotation must not revive it");
  }

  @Test
  void parts_thatAreMissing_sayWhatTheyNeed() {
    Operations none = Operations.builder().clock(clock).build();
    assertKind(none::keys, OperatorException.Kind.UNSUPPORTED, "database");
    assertKind(none::audit, OperatorException.Kind.UNSUPPORTED, "database");
    assertKind(none::killSwitch, OperatorException.Kind.UNSUPPORTED, "kill switch");
    assertKind(none::reload, OperatorException.Kind.UNSUPPORTED, "config file");
    assertThat(none.has(Operations.Part.KEYS)).isFalse();
  }

  // ---- kill switch -------------------------------------------------------------------------

  @Test
  void killSwitch_disableAndEnable_changeOnlyTheirTargetAndKeepTheConfigs() {
    MemoryStore store = new MemoryStore();
    KillSwitch.State configured = new KillSwitch.State(null, Map.of(), Map.of("rm*", "never"),
        Map.of());
    KillSwitchOperations ks = Operations.builder()
        .killSwitch(KillSwitchControl.of(store, configured, Set.of("fs", "git")))
        .build().killSwitch();
    ks.disable(KillSwitchOperations.Scope.BACKEND, "fs", "upgrading");
    KillSwitch.State now = ks.disable(KillSwitchOperations.Scope.ALL, null, "stop");
    assertThat(now.all()).isEqualTo("stop");
    assertThat(now.backends()).containsEntry("fs", "upgrading");
    assertThat(now.tools()).containsEntry("rm*", "never");
    assertThat(store.load().tools()).isEmpty();

    now = ks.enable(KillSwitchOperations.Scope.ALL, null);
    assertThat(now.all()).isNull();
    assertThat(now.backends()).containsOnlyKeys("fs");
    // The config's entry cannot be switched on by operators.
    assertThat(ks.enable(KillSwitchOperations.Scope.TOOL, "rm*").tools()).containsOnlyKeys("rm*");
  }

  @Test
  void killSwitch_badChanges_areInvalidAndChangeNothing() {
    MemoryStore store = new MemoryStore();
    KillSwitchOperations ks = Operations.builder()
        .killSwitch(KillSwitchControl.of(store, KillSwitch.State.EMPTY, Set.of("fs")))
        .build().killSwitch();
    assertKind(() -> ks.disable(KillSwitchOperations.Scope.ALL, null, " "),
        OperatorException.Kind.INVALID, "a reason is required");
    assertKind(() -> ks.disable(KillSwitchOperations.Scope.TOOL, null, "r"),
        OperatorException.Kind.INVALID, "a target is required for scope 'tool'");
    assertKind(() -> ks.disable(KillSwitchOperations.Scope.BACKEND, "nope", "r"),
        OperatorException.Kind.INVALID, "unknown backend 'nope'; backends: fs");
    assertKind(() -> KillSwitchOperations.Scope.parse("planet"),
        OperatorException.Kind.INVALID, "unknown scope 'planet'");
    assertThat(store.saves).isZero();
  }

  @Test
  void killSwitch_aStoreThatCannotBeWritten_isUnavailable() {
    MemoryStore store = new MemoryStore();
    store.broken = true;
    KillSwitchOperations ks = Operations.builder()
        .killSwitch(KillSwitchControl.of(store, KillSwitch.State.EMPTY, Set.of()))
        .build().killSwitch();
    assertKind(() -> ks.disable(KillSwitchOperations.Scope.ALL, null, "stop"),
        OperatorException.Kind.UNAVAILABLE, "could not be stored");
  }

  // ---- audit filter ------------------------------------------------------------------------

  @Test
  void auditFilter_readsEveryFieldFromText() {
    AuditFilter f = AuditFilter.builder(clock.instant())
        .from("--from", "24h").to("--to", "2026-12-05").principal("ann").tool("fs__read")
        .outcome("--outcome", "Denied").rule("no-writes").limit("--limit", "5")
        .newestFirst(true).build();
    assertThat(f.from()).isEqualTo(Instant.parse("2026-12-04T12:00:00Z"));
    assertThat(f.to()).isEqualTo(Instant.parse("2026-12-05T00:00:00Z"));
    assertThat(f.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(f.limit()).isEqualTo(5);
    assertThat(AuditFilter.builder(clock.instant()).principal(" ").build().principal()).isNull();
  }

  @Test
  void auditFilter_badText_isInvalidNamingTheField() {
    AuditFilter.Builder b = AuditFilter.builder(clock.instant());
    assertKind(() -> b.outcome("'outcome'", "meh"), OperatorException.Kind.INVALID,
        "'outcome': unknown outcome 'meh' (expected one of allowed");
    assertKind(() -> b.limit("--limit", "ten"), OperatorException.Kind.INVALID,
        "--limit must be a whole number");
    assertKind(() -> b.limit("--limit", 0), OperatorException.Kind.INVALID, "at least 1");
    assertKind(() -> AuditFilter.builder(clock.instant()).from("f", "2026-01-02")
        .to("t", "2026-01-01").build(), OperatorException.Kind.INVALID, "the time range is empty");
  }

  @Test
  void purgeCut_takesExactlyOneOfBeforeAndOlderThan() {
    Instant now = clock.instant();
    assertThat(AuditOperations.cut(null, "--before", "30d", "--older-than", now))
        .isEqualTo(now.minus(Duration.ofDays(30)));
    assertThat(AuditOperations.cut("2026-01-01", "--before", null, "--older-than", now))
        .isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    assertKind(() -> AuditOperations.cut(null, "--before", null, "--older-than", now),
        OperatorException.Kind.INVALID, "give either --before");
    assertKind(() -> AuditOperations.cut("2026-01-01", "--before", "3d", "--older-than", now),
        OperatorException.Kind.INVALID, "give either --before");
  }

  private static void assertKind(Runnable operation, OperatorException.Kind kind, String text) {
    assertThatThrownBy(operation::run).isInstanceOf(OperatorException.class)
        .hasMessageContaining(text)
        .extracting(e -> ((OperatorException) e).kind()).isEqualTo(kind);
  }

  /** A kill-switch store in memory that can be made to fail. */
  private static final class MemoryStore implements KillSwitchStore {
    private KillSwitch.State state = KillSwitch.State.EMPTY;
    int saves;
    boolean broken;

    @Override
    public synchronized KillSwitch.State load() {
      return state;
    }

    @Override
    public synchronized void save(KillSwitch.State next) {
      if (broken) {
        throw new IllegalStateException("disk full");
      }
      saves++;
      state = next;
    }
  }
}
