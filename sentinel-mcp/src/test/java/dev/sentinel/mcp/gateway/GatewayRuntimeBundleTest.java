package dev.sentinel.mcp.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleState;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.internal.Ed25519Keys;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * A gateway that runs a signed bundle: the state file and the audit trail at start, and reloads
 * of newer, tampered, older and forced bundles, by hand and by the watcher. Real bundle files,
 * keys and state files; the backend is a program that does not exist, so no process starts.
 */
class GatewayRuntimeBundleTest {
  private static final KeyPair ALICE = Ed25519Keys.generate();
  private static final KeyPair MALLORY = Ed25519Keys.generate();
  private static final String HEAD = "gateway: { start_timeout: 1s }\n"
      + "identity: { principal: { id: ann, roles: [dev] } }\n"
      + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
      + "audit: { sinks: [ { database: {} } ] }\n"
      + "policy: { file: policy.yaml }\n";

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();
  private final MemoryStores stores = new MemoryStores();
  private Path source;
  private Path run;
  private Path boot;

  @BeforeEach
  void files() throws Exception {
    source = Files.createDirectories(dir.resolve("source"));
    run = Files.createDirectories(dir.resolve("run"));
    Files.writeString(source.resolve("sentinel.yaml"), HEAD);
    Files.writeString(run.resolve("alice.pub"), Ed25519Keys.publicPem(ALICE.getPublic()));
    boot = Files.writeString(run.resolve("sentinel.yaml"),
        "bundle: { file: prod.bundle, trust: [alice.pub] }\n");
  }

  /** The source's config with a policy allowing one tool, as a bundle in run/. */
  private Bundle publish(long sequence, String tool, KeyPair signer) throws Exception {
    Files.writeString(source.resolve("policy.yaml"),
        "rules: [ { id: allow-" + tool + ", allow: { tools: [" + tool + "] } } ]\n");
    Bundle bundle = Bundle.build(source.resolve("sentinel.yaml"), sequence)
        .sign(signer.getPrivate(), signer.getPublic());
    bundle.write(run.resolve("prod.bundle"));
    return bundle;
  }

  private static Outcome call(GatewayRuntime runtime, String tool) {
    return runtime.sentinel().call(Call.of(Credentials.launch(),
        Request.toolCall("fs", tool, JsonNodeFactory.instance.objectNode())), r -> "ok").outcome();
  }

  private List<AuditEvent> bundleEvents(GatewayRuntime runtime) {
    assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
    return stores.sink.events().stream()
        .filter(e -> e.method().startsWith("sentinel/bundle")).toList();
  }

  private BundleState state() {
    return BundleState.read(run.resolve("bundle-state.json")).orElseThrow();
  }

  @Test
  void start_recordsTheBundleInTheStateFileAndTheAuditTrail() throws Exception {
    Bundle bundle = publish(1, "read", ALICE);

    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(boot, Map.of()), clock, stores)) {
      assertThat(call(runtime, "read")).isEqualTo(Outcome.ALLOWED);
      assertThat(state().digest()).isEqualTo(bundle.digest());
      assertThat(state().sequence()).isEqualTo(1);
      AuditEvent applied = bundleEvents(runtime).get(0);
      assertThat(applied.method()).isEqualTo("sentinel/bundle.apply");
      assertThat(applied.name()).isEqualTo(bundle.digest());
      assertThat(applied.principal()).isEqualTo("sentinel");
      assertThat(applied.reason()).contains("sequence 1")
          .contains(Ed25519Keys.id(ALICE.getPublic()));
      assertThat(applied.revision()).isEqualTo(runtime.sentinel().revision());
    }
  }

  @Test
  void reload_aNewerSignedBundle_isApplied_andAnUntrustedOne_isRefusedWhileTheOldServes() throws Exception {
    publish(1, "read", ALICE);
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(boot, Map.of()), clock, stores)) {
      ConfigReloader reloader = ConfigReloader.of(runtime, boot, Map.of());

      Bundle second = publish(2, "write", ALICE);
      assertThat(reloader.reload().applied()).isTrue();
      assertThat(call(runtime, "write")).isEqualTo(Outcome.ALLOWED);
      assertThat(state().digest()).isEqualTo(second.digest());

      String serving = runtime.sentinel().revision();
      publish(3, "\"*\"", MALLORY);
      ConfigReloader.Result refused = reloader.reload();

      assertThat(refused.applied()).isFalse();
      assertThat(refused.problems()).extracting(Object::toString)
          .anySatisfy(p -> assertThat(p).contains("signed by 0 of the 1"));
      assertThat(runtime.sentinel().revision()).isEqualTo(serving);
      assertThat(call(runtime, "delete")).isEqualTo(Outcome.DENIED);
      assertThat(state().sequence()).isEqualTo(2);
      assertThat(bundleEvents(runtime)).extracting(AuditEvent::reason)
          .anySatisfy(r -> assertThat(r).contains("sequence 2").contains("replaces"));
    }
  }

  @Test
  void reload_anOlderBundle_isRefused_andAForcedRollback_isAppliedAndAudited() throws Exception {
    Bundle first = publish(1, "read", ALICE);
    Path older = Files.copy(run.resolve("prod.bundle"), dir.resolve("first.bundle"));
    publish(2, "write", ALICE);
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(boot, Map.of()), clock, stores)) {
      ConfigReloader reloader = ConfigReloader.of(runtime, boot, Map.of());
      Files.copy(older, run.resolve("prod.bundle"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

      ConfigReloader.Result refused = reloader.reload();
      assertThat(refused.applied()).isFalse();
      assertThat(refused.problems()).extracting(Object::toString)
          .anySatisfy(p -> assertThat(p).contains("would roll back"));
      assertThat(call(runtime, "write")).isEqualTo(Outcome.ALLOWED);

      ConfigReloader.Result forced = reloader.reloadAllowingRollback("alice");
      assertThat(forced.applied()).isTrue();
      assertThat(call(runtime, "read")).isEqualTo(Outcome.ALLOWED);
      assertThat(call(runtime, "write")).isEqualTo(Outcome.DENIED);
      assertThat(state().digest()).isEqualTo(first.digest());
      assertThat(bundleEvents(runtime)).extracting(AuditEvent::method).containsExactly(
          "sentinel/bundle.apply", "sentinel/bundle.refuse", "sentinel/bundle.rollback");
      AuditEvent refusal = bundleEvents(runtime).get(1);
      assertThat(refusal.outcome()).isEqualTo(Outcome.DENIED);
      assertThat(refusal.reason()).contains("would roll back").contains("sequence 2");
      AuditEvent rollback = bundleEvents(runtime).get(2);
      assertThat(rollback.principal()).isEqualTo("alice");
      assertThat(rollback.reason()).contains("rollback forced by alice").contains("sequence 1")
          .contains("replaces");
    }
  }

  @Test
  void reload_toAConfigWithoutTheBundle_needsARestart() throws Exception {
    publish(1, "read", ALICE);
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(boot, Map.of()), clock, stores)) {
      Files.writeString(source.resolve("policy.yaml"),
          "rules: [ { id: everything, allow: { tools: [\"*\"] } } ]\n");
      Files.writeString(boot, HEAD.replace("policy.yaml", "../source/policy.yaml"));

      ConfigReloader.Result result = ConfigReloader.of(runtime, boot, Map.of()).reload();

      assertThat(result.applied()).isFalse();
      assertThat(result.problems()).extracting(Object::toString)
          .anySatisfy(p -> assertThat(p).contains("bundle: changed: restart to apply"));
      assertThat(call(runtime, "delete")).isEqualTo(Outcome.DENIED);
    }
  }

  @Test
  void reload_afterAKeyFileWasRewrittenInPlace_needsARestart_evenForABundleTheNewKeySigned() throws Exception {
    publish(1, "read", ALICE);
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(boot, Map.of()), clock, stores)) {
      Files.writeString(run.resolve("alice.pub"), Ed25519Keys.publicPem(MALLORY.getPublic()));
      publish(2, "\"*\"", MALLORY);

      ConfigReloader.Result result = ConfigReloader.of(runtime, boot, Map.of()).reload();

      assertThat(result.applied()).isFalse();
      assertThat(result.problems()).extracting(Object::toString)
          .anySatisfy(p -> assertThat(p).contains("bundle: changed: restart to apply"));
      assertThat(call(runtime, "delete")).isEqualTo(Outcome.DENIED);
      assertThat(state().sequence()).isEqualTo(1);
    }
  }

  @Test
  void watcher_appliesANewBundleFile() throws Exception {
    publish(1, "read", ALICE);
    try (GatewayRuntime runtime = GatewayRuntime.start(GatewayConfig.load(boot, Map.of()), clock, stores)) {
      List<ConfigReloader.Result> results = new CopyOnWriteArrayList<>();
      ConfigReloader reloader = ConfigReloader.of(runtime, boot, Map.of());
      try (ConfigWatcher watcher = ConfigWatcher.start(reloader, Duration.ofMillis(50), results::add)) {
        publish(2, "write", ALICE);
        Conditions.await("the new bundle is applied",
            () -> call(runtime, "write") == Outcome.ALLOWED);

        publish(3, "\"*\"", MALLORY);
        Conditions.await("the untrusted bundle is refused",
            () -> results.stream().anyMatch(r -> !r.applied()));
        assertThat(call(runtime, "delete")).isEqualTo(Outcome.DENIED);
        assertThat(state().sequence()).isEqualTo(2);
      }
    }
  }
}
