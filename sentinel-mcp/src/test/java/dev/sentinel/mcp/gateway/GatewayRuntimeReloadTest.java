package dev.sentinel.mcp.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Hot reload: {@link GatewayRuntime#reload}, {@link ConfigReloader} and {@link ConfigWatcher} on
 * real config files. The backend is a program that does not exist, so no process is started;
 * calls go through the pipeline with an invoker that answers at once.
 */
class GatewayRuntimeReloadTest {
  private static final String HEAD = "gateway: { start_timeout: 1s }\n"
      + "identity: { principal: { id: ann, roles: [dev] } }\n"
      + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
      + "audit: { sinks: [ { database: {} } ] }\n";

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();
  private final MemoryStores stores = new MemoryStores();

  private static String allowing(String tool) {
    return HEAD + "policy: { rules: [ { id: allow-" + tool + ", allow: { tools: [" + tool + "] } } ] }\n";
  }

  private Path write(String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Path temp = dir.resolve(name + ".tmp");
    Files.writeString(temp, text, StandardCharsets.UTF_8);
    Files.move(temp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  private static CallResult<String> call(GatewayRuntime runtime, String tool) {
    return runtime.sentinel().call(Call.of(Credentials.launch(),
        Request.toolCall("fs", tool, JsonNodeFactory.instance.objectNode())), r -> "ok");
  }

  @Test
  void reload_thatChangesARule_changesTheNextCallsDecision() throws IOException {
    Path file = write("sentinel.yaml", allowing("read"));
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      assertThat(call(runtime, "write").outcome()).isEqualTo(Outcome.DENIED);
      String before = runtime.sentinel().revision();

      write("sentinel.yaml", allowing("write"));
      ConfigReloader.Result result = ConfigReloader.of(runtime, file, Map.of()).reload();

      assertThat(result.applied()).isTrue();
      assertThat(result.previous()).isEqualTo(before);
      assertThat(result.revision()).isNotEqualTo(before).isEqualTo(runtime.sentinel().revision());
      assertThat(call(runtime, "write").outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(call(runtime, "read").outcome()).isEqualTo(Outcome.DENIED);
      assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
      assertThat(stores.sink.events()).extracting(AuditEvent::revision)
          .containsExactly(before, result.revision(), result.revision());
    }
  }

  @Test
  void reload_ofABadConfig_isRefusedWithLocatedProblemsAndTheOldRulesApply() throws IOException {
    Path file = write("sentinel.yaml", allowing("read"));
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      String before = runtime.sentinel().revision();
      write("sentinel.yaml", HEAD + "policy: { rules: [ { id: x, allow: { tols: [write] } } ] }\n");

      ConfigReloader.Result result = ConfigReloader.of(runtime, file, Map.of()).reload();

      assertThat(result.applied()).isFalse();
      assertThat(result.revision()).isEqualTo(before);
      assertThat(result.problems()).isNotEmpty();
      assertThat(result.problems().get(0).line()).isPositive();
      assertThat(result.problems().get(0).toString()).contains("tols");
      assertThat(runtime.sentinel().revision()).isEqualTo(before);
      assertThat(call(runtime, "read").outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(call(runtime, "write").outcome()).isEqualTo(Outcome.DENIED);
    }
  }

  @Test
  void reload_thatChangesTheBackends_isRefusedAsNeedingARestart() throws IOException {
    Path file = write("sentinel.yaml", allowing("read"));
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      String before = runtime.sentinel().revision();
      write("sentinel.yaml", allowing("write").replace("name: fs", "name: other"));

      ConfigReloader.Result result = ConfigReloader.of(runtime, file, Map.of()).reload();

      assertThat(result.applied()).isFalse();
      assertThat(result.problems()).extracting(Object::toString)
          .anySatisfy(p -> assertThat(p).contains("backends changed: restart to apply"));
      assertThat(runtime.sentinel().revision()).isEqualTo(before);
      assertThat(call(runtime, "write").outcome()).isEqualTo(Outcome.DENIED);
    }
  }

  @Test
  void reload_replacesTheConfigsKillSwitchEntriesAndKeepsTheOperators() throws IOException {
    Path file = write("sentinel.yaml", allowing("\"*\"") + "kill_switch: { tools: { read: incident 1 } }\n");
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      runtime.updateKillSwitch(
          new KillSwitch.State(null, Map.of(), Map.of("delete", "operator"), Map.of()));
      assertThat(call(runtime, "read").outcome()).isEqualTo(Outcome.DISABLED);

      write("sentinel.yaml", allowing("\"*\"") + "kill_switch: { tools: { write: incident 2 } }\n");
      assertThat(ConfigReloader.of(runtime, file, Map.of()).reload().applied()).isTrue();

      assertThat(runtime.sentinel().killSwitch().state().tools())
          .isEqualTo(Map.of("write", "incident 2", "delete", "operator"));
      assertThat(call(runtime, "read").outcome()).isEqualTo(Outcome.ALLOWED);
    }
  }

  @Test
  void reload_liftsTheOldConfigsAll_butNotTheOperators() throws IOException {
    Path file = write("sentinel.yaml", allowing("\"*\"") + "kill_switch: { all: maintenance }\n");
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      assertThat(call(runtime, "read").outcome()).isEqualTo(Outcome.DISABLED);

      write("sentinel.yaml", allowing("\"*\""));
      assertThat(ConfigReloader.of(runtime, file, Map.of()).reload().applied()).isTrue();
      assertThat(call(runtime, "read").outcome()).isEqualTo(Outcome.ALLOWED);

      runtime.updateKillSwitch(new KillSwitch.State("operator", Map.of(), Map.of(), Map.of()));
      write("sentinel.yaml", allowing("\"*\"") + "# edited\n");
      assertThat(ConfigReloader.of(runtime, file, Map.of()).reload().applied()).isTrue();
      assertThat(runtime.sentinel().killSwitch().state().all()).isEqualTo("operator");
      assertThat(call(runtime, "read").outcome()).isEqualTo(Outcome.DISABLED);
    }
  }

  @Test
  void reload_ofThePolicyFile_changesTheRevision() throws IOException {
    write("policy.yaml", "rules: [ { id: p1, allow: { tools: [read] } } ]\n");
    Path file = write("sentinel.yaml", HEAD + "policy: { file: policy.yaml }\n");
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      String before = runtime.sentinel().revision();
      write("policy.yaml", "rules: [ { id: p2, allow: { tools: [write] } } ]\n");
      ConfigReloader.Result result = ConfigReloader.of(runtime, file, Map.of()).reload();
      assertThat(result.applied()).isTrue();
      assertThat(result.revision()).isNotEqualTo(before);
      assertThat(call(runtime, "write").outcome()).isEqualTo(Outcome.ALLOWED);
    }
  }

  /**
   * Two configs whose rule ids say which config decided; many threads call while another
   * reloads back and forth. Every audit event's revision must be that of the config whose rule
   * decided it: a mix would pair one config's rule with the other's revision.
   */
  @Test
  void callsDuringReloads_neverSeeAMixedConfig() throws Exception {
    String a = HEAD + "policy: { rules: [ { id: rule-a, allow: {} } ] }\n";
    String b = HEAD + "policy: { rules: [ { id: rule-b, allow: {} } ] }\n";
    GatewayConfig configA = GatewayConfig.parse(a, "sentinel.yaml", dir, Map.of());
    GatewayConfig configB = GatewayConfig.parse(b, "sentinel.yaml", dir, Map.of());
    String revisionA = GatewayRuntime.revision(configA);
    String revisionB = GatewayRuntime.revision(configB);
    try (GatewayRuntime runtime = GatewayRuntime.start(configA, clock, stores)) {
      int threads = 8;
      int callsEach = 2_000;
      ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
      CountDownLatch go = new CountDownLatch(1);
      AtomicBoolean calling = new AtomicBoolean(true);
      List<String> mixed = new CopyOnWriteArrayList<>();
      try {
        // Both configs certainly serve calls: the first reload waits until every caller has
        // made a call under A, the callers wait half-way for it, and the reloads go on only
        // once a call has been decided under B.
        CountDownLatch calledUnderA = new CountDownLatch(threads);
        CountDownLatch reloaded = new CountDownLatch(1);
        CountDownLatch calledUnderB = new CountDownLatch(1);
        List<Future<?>> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          callers.add(pool.submit(() -> {
            go.await();
            for (int i = 0; i < callsEach; i++) {
              if (i == callsEach / 2) {
                reloaded.await();
              }
              CallResult<String> result = call(runtime, "t" + i);
              String rule = result.decision().rules().get(0);
              if (i == 0) {
                calledUnderA.countDown();
              }
              if (rule.equals("rule-b")) {
                calledUnderB.countDown();
              }
              if (!rule.equals("rule-a") && !rule.equals("rule-b")) {
                mixed.add("unexpected rule " + rule);
              }
            }
            return null;
          }));
        }
        Future<Integer> reloader = pool.submit(() -> {
          go.await();
          calledUnderA.await();
          runtime.reload(configB);
          reloaded.countDown();
          calledUnderB.await();
          int reloads = 1;
          while (calling.get()) {
            runtime.reload(reloads % 2 == 0 ? configB : configA);
            reloads++;
          }
          return reloads;
        });
        go.countDown();
        for (Future<?> caller : callers) {
          caller.get(60, TimeUnit.SECONDS);
        }
        calling.set(false);
        assertThat(reloader.get(60, TimeUnit.SECONDS)).isPositive();
      } finally {
        pool.shutdownNow();
      }
      assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
      for (AuditEvent event : stores.sink.events()) {
        String rule = event.rules().get(0);
        String expected = rule.equals("rule-a") ? revisionA : revisionB;
        if (!event.revision().equals(expected)) {
          mixed.add(rule + " recorded with revision " + event.revision());
        }
      }
      assertThat(stores.sink.events()).hasSize(threads * callsEach);
      assertThat(stores.sink.events()).extracting(e -> e.rules().get(0)).contains("rule-a", "rule-b");
      assertThat(mixed).isEmpty();
    }
  }

  /** The revision a config naming {@code policy.yaml} is served as, with this policy text. */
  private String revisionWith(String policy) throws IOException {
    Path copy = Files.createDirectories(dir.resolve("copy-" + Integer.toHexString(policy.hashCode())));
    Files.writeString(copy.resolve("policy.yaml"), policy, StandardCharsets.UTF_8);
    Path config = copy.resolve("sentinel.yaml");
    Files.writeString(config, HEAD + "policy: { file: policy.yaml }\n", StandardCharsets.UTF_8);
    return GatewayRuntime.revision(GatewayConfig.load(config, Map.of()));
  }

  /**
   * Item 13 of the trust issue: an editor saves a new policy in two writes a second apart. The
   * first half is itself a valid policy (its deny rule is missing), so checking cannot refuse
   * it: only waiting for the file to settle keeps it from being applied. The watcher's clock is
   * a manual one; the test moves it.
   */
  @Test
  void watcher_neverAppliesAPolicySavedInTwoWritesASecondApart() throws IOException {
    write("policy.yaml", "rules: [ { id: p1, allow: { tools: [read] } } ]\n");
    Path file = write("sentinel.yaml", HEAD + "policy: { file: policy.yaml }\n");
    String firstHalf = "rules:\n  - id: everything\n    allow: { tools: [\"*\"] }\n";
    String secondHalf = "  - id: never-delete\n    deny: { tools: [delete] }\n";
    String halfWritten = revisionWith(firstHalf);
    String complete = revisionWith(firstHalf + secondHalf);
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      ManualClock watchClock = new ManualClock();
      List<ConfigReloader.Result> results = new CopyOnWriteArrayList<>();
      ConfigReloader reloader = ConfigReloader.of(runtime, file, Map.of());
      try (ConfigWatcher watcher = ConfigWatcher.start(reloader, Duration.ofSeconds(1), watchClock, results::add)) {
        Path policy = dir.resolve("policy.yaml");
        long before = watcher.changesSeen();
        Files.writeString(policy, firstHalf, StandardCharsets.UTF_8);
        Conditions.await("the first write is seen", () -> watcher.changesSeen() > before);

        // A second later the half-written file has been quiet for the settle period: a plain
        // debounce would apply it now. The watcher reads it, and waits to read it again.
        watchClock.advance(Duration.ofSeconds(1));
        Conditions.await("the watcher has read the quiet file once", watcher::readOnce);
        assertThat(results).isEmpty();

        // Then the rest arrives.
        long between = watcher.changesSeen();
        Files.writeString(policy, secondHalf, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        Conditions.await("the second write is seen", () -> watcher.changesSeen() > between);

        Conditions.await("the saved policy is applied", () -> {
          watchClock.advance(Duration.ofMillis(250));
          return results.stream().anyMatch(r -> r.revision().equals(complete));
        });
      }
      assertThat(results).allSatisfy(result -> assertThat(result.applied()).isTrue());
      assertThat(results).extracting(ConfigReloader.Result::revision).doesNotContain(halfWritten);
      assertThat(runtime.sentinel().revision()).isEqualTo(complete);
      assertThat(call(runtime, "delete").outcome()).isEqualTo(Outcome.DENIED);
      assertThat(call(runtime, "write").outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
      assertThat(stores.sink.events()).extracting(AuditEvent::revision).doesNotContain(halfWritten);
    }
  }

  /**
   * The audit trail (sentinel.db, or a JSON Lines file) usually lives beside the config and is
   * written for every call: the watcher must not be woken by those writes (two threads, several
   * times per call, measured in BENCHMARKS.md). Events are queued in order, so once the marker's
   * creation has arrived every event of the writes before it has too.
   */
  @Test
  void watcher_isNotWokenByWritesToAnotherFileBesideTheConfig() throws IOException {
    Path file = write("sentinel.yaml", allowing("read"));
    Path trail = dir.resolve("sentinel.db");
    Files.writeString(trail, "", StandardCharsets.UTF_8);
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      ConfigReloader reloader = ConfigReloader.of(runtime, file, Map.of());
      try (ConfigWatcher watcher = ConfigWatcher.start(reloader, Duration.ofSeconds(1), new ManualClock(),
          r -> { })) {
        for (int i = 0; i < 200; i++) {
          Files.writeString(trail, "row " + i + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        }
        Files.writeString(dir.resolve("marker"), "", StandardCharsets.UTF_8);
        Conditions.await("the marker's creation arrives", () -> watcher.eventsReceived("marker") == 1);

        assertThat(watcher.eventsReceived("sentinel.db")).isZero();
        assertThat(watcher.changesSeen()).isZero();
      }
    }
  }

  /** A write in place that keeps the size and sets the modification time back is still seen. */
  @Test
  void watcher_seesAnEditInPlaceThatKeepsTheSizeAndTheModificationTime() throws IOException {
    Path file = write("sentinel.yaml", allowing("read"));
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      ConfigReloader reloader = ConfigReloader.of(runtime, file, Map.of());
      try (ConfigWatcher watcher = ConfigWatcher.start(reloader, Duration.ofMillis(50), r -> { })) {
        java.nio.file.attribute.FileTime modified = Files.getLastModifiedTime(file);
        String edit = allowing("send");
        assertThat(edit).hasSameSizeAs(allowing("read"));
        Files.writeString(file, edit, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        Files.setLastModifiedTime(file, modified);
        Conditions.await("the edit is reloaded", () -> call(runtime, "send").outcome() == Outcome.ALLOWED);
        assertThat(call(runtime, "read").outcome()).isEqualTo(Outcome.DENIED);
      }
    }
  }

  /**
   * {@code sentinel stdio} starts its watcher once it serves: a config saved between the running
   * config's load and the watcher's start is applied as any later edit would be.
   */
  @Test
  void watcher_appliesAConfigSavedBeforeItStarted() throws IOException {
    Path file = write("sentinel.yaml", allowing("read"));
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      write("sentinel.yaml", allowing("write"));
      ConfigReloader reloader = ConfigReloader.of(runtime, file, Map.of());
      try (ConfigWatcher watcher = ConfigWatcher.start(reloader, Duration.ofMillis(50), r -> { })) {
        Conditions.await("the earlier edit is reloaded",
            () -> call(runtime, "write").outcome() == Outcome.ALLOWED);
        assertThat(call(runtime, "read").outcome()).isEqualTo(Outcome.DENIED);
      }
    }
  }

  /** The same for the policy file the config names. */
  @Test
  void watcher_appliesAPolicySavedBeforeItStarted() throws IOException {
    write("policy.yaml", "rules: [ { id: p1, allow: { tools: [read] } } ]\n");
    Path file = write("sentinel.yaml", HEAD + "policy: { file: policy.yaml }\n");
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      write("policy.yaml", "rules: [ { id: p2, allow: { tools: [write] } } ]\n");
      ConfigReloader reloader = ConfigReloader.of(runtime, file, Map.of());
      try (ConfigWatcher watcher = ConfigWatcher.start(reloader, Duration.ofMillis(50), r -> { })) {
        Conditions.await("the earlier policy edit is reloaded",
            () -> call(runtime, "write").outcome() == Outcome.ALLOWED);
      }
    }
  }

  @Test
  void watcher_picksUpAnEditAndRefusesABadOne() throws IOException {
    Path file = write("sentinel.yaml", allowing("read"));
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(file, Map.of()), clock, stores)) {
      List<ConfigReloader.Result> results = new CopyOnWriteArrayList<>();
      ConfigReloader reloader = ConfigReloader.of(runtime, file, Map.of());
      try (ConfigWatcher watcher = ConfigWatcher.start(reloader, Duration.ofMillis(50), results::add)) {
        write("sentinel.yaml", allowing("write"));
        Conditions.await("the edit is reloaded",
            () -> call(runtime, "write").outcome() == Outcome.ALLOWED);
        String good = runtime.sentinel().revision();

        write("sentinel.yaml", HEAD + "policy: [ not, a, policy ]\n");
        Conditions.await("the bad edit is refused",
            () -> results.stream().anyMatch(r -> !r.applied()));
        assertThat(runtime.sentinel().revision()).isEqualTo(good);
        assertThat(call(runtime, "write").outcome()).isEqualTo(Outcome.ALLOWED);
      }
    }
  }
}
