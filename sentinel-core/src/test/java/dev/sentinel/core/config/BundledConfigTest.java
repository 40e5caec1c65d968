package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleState;
import dev.sentinel.core.bundle.RunningBundle;
import dev.sentinel.core.internal.Ed25519Keys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * A gateway config that names a signed bundle ({@code bundle:}): what loads and what is refused,
 * with real bundle files, keys and state files.
 */
class BundledConfigTest {
  private static final KeyPair ALICE = Ed25519Keys.generate();
  private static final KeyPair BOB = Ed25519Keys.generate();
  private static final KeyPair MALLORY = Ed25519Keys.generate();
  private static final String CONFIG = "identity: { principal: { id: ann, roles: [dev] } }\n"
      + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
      + "database: { url: \"jdbc:sqlite:gateway.db\" }\n"
      + "policy: { file: policy.yaml }\n";

  @TempDir Path dir;
  private Path source;
  private Path run;

  @BeforeEach
  void files() throws Exception {
    source = Files.createDirectories(dir.resolve("source"));
    run = Files.createDirectories(dir.resolve("run"));
    Files.writeString(source.resolve("sentinel.yaml"), CONFIG);
    policy("read");
    for (var key : Map.of("alice", ALICE, "bob", BOB, "mallory", MALLORY).entrySet()) {
      Files.writeString(run.resolve(key.getKey() + ".pub"),
          Ed25519Keys.publicPem(key.getValue().getPublic()));
    }
  }

  private void policy(String tool) throws Exception {
    Files.writeString(source.resolve("policy.yaml"),
        "rules: [ { id: allow-" + tool + ", allow: { tools: [" + tool + "] } } ]\n");
  }

  /** Builds the source files as a bundle of that sequence, signed by the keys, into run/. */
  private Bundle publish(long sequence, KeyPair... signers) {
    Bundle bundle = Bundle.build(source.resolve("sentinel.yaml"), sequence);
    for (KeyPair key : signers) {
      bundle = bundle.sign(key.getPrivate(), key.getPublic());
    }
    bundle.write(run.resolve("prod.bundle"));
    return bundle;
  }

  private Path boot(String section) throws Exception {
    return Files.writeString(run.resolve("sentinel.yaml"), "bundle:\n" + section);
  }

  private Path boot() throws Exception {
    return boot("  file: prod.bundle\n  trust: [alice.pub, bob.pub]\n");
  }

  private static boolean allows(GatewayConfig config, String tool) {
    Request request = Request.toolCall("fs", tool, JsonNodeFactory.instance.objectNode());
    Decision decision = config.policy().decide(new RequestContext(
        Principal.of("ann", "dev"), request, null, null, Instant.EPOCH));
    return decision.permits();
  }

  /** Each problem of loading the file, after the JSON pointer of the key it is about. */
  private static String problems(Path file) {
    try {
      GatewayConfig.load(file, Map.of());
    } catch (ConfigException e) {
      StringBuilder text = new StringBuilder();
      for (ConfigException.Problem problem : e.problems()) {
        text.append(problem.path()).append(' ').append(problem).append('\n');
      }
      return text.toString();
    }
    throw new AssertionError("the config loaded");
  }

  @Test
  void load_aSignedBundle_servesItsConfigAndPolicy_andSaysWhereItCameFrom() throws Exception {
    Bundle bundle = publish(1, ALICE);

    GatewayConfig config = GatewayConfig.load(boot(), Map.of());

    assertThat(allows(config, "read")).isTrue();
    assertThat(allows(config, "write")).isFalse();
    RunningBundle running = config.fromBundle().orElseThrow();
    assertThat(running.digest()).isEqualTo(bundle.digest());
    assertThat(running.sequence()).isEqualTo(1);
    assertThat(running.signers()).containsExactly(Ed25519Keys.id(ALICE.getPublic()));
    assertThat(running.rollback()).isFalse();
    assertThat(running.settings().state()).isEqualTo(run.resolve("bundle-state.json"));
    // Relative paths of the bundled config resolve where the gateway runs.
    assertThat(config.database().toString()).contains(run.resolve("gateway.db").toString());
    assertThat(config.source()).endsWith("prod.bundle!sentinel.yaml");
  }

  @Test
  void load_readsThePolicyFromTheBundle_neverFromTheDisk() throws Exception {
    publish(1, ALICE);
    // A policy file beside the running config, where the bundled config's reference points.
    Files.writeString(run.resolve("policy.yaml"),
        "rules: [ { id: everything, allow: { tools: [\"*\"] } } ]\n");

    GatewayConfig config = GatewayConfig.load(boot(), Map.of());

    assertThat(allows(config, "write")).isFalse();
    assertThat(allows(config, "read")).isTrue();
  }

  @Test
  void load_withoutABundleInPlace_dependsOnNothingOnTheDisk() throws Exception {
    publish(1, ALICE);
    Path boot = boot();
    Files.delete(run.resolve("prod.bundle"));

    assertThat(problems(boot)).contains("/bundle/file").contains("does not exist");
  }

  @Test
  void load_tamperedBundleBytes_isRefusedNamingTheFile() throws Exception {
    publish(1, ALICE);
    Path file = run.resolve("prod.bundle");
    String text = Files.readString(file);
    // The policy's bytes are base64 in the file: change one character of them.
    String policy = java.util.Base64.getEncoder().encodeToString(
        Files.readAllBytes(source.resolve("policy.yaml")));
    String tampered = policy.substring(0, 10) + (policy.charAt(10) == 'A' ? 'B' : 'A')
        + policy.substring(11);
    assertThat(text).contains(policy);
    Files.writeString(file, text.replace(policy, tampered));

    assertThat(problems(boot())).contains("/bundle/file").contains("policy.yaml");
  }

  @Test
  void load_aBundleSignedByAnUntrustedKey_isRefused() throws Exception {
    publish(1, MALLORY);

    assertThat(problems(boot())).contains("/bundle/file").contains("signed by 0 of the 1")
        .contains("untrusted " + Ed25519Keys.id(MALLORY.getPublic()));
  }

  @Test
  void load_tooFewSigners_isRefused_andTheThresholdMetLoads() throws Exception {
    publish(1, ALICE);
    Path boot = boot("  file: prod.bundle\n  trust: [alice.pub, bob.pub]\n  min_signers: 2\n");

    assertThat(problems(boot)).contains("signed by 1 of the 2");

    publish(1, ALICE, BOB);
    assertThat(GatewayConfig.load(boot, Map.of()).fromBundle().orElseThrow().signers()).hasSize(2);
  }

  @Test
  void load_aBundleBelowTheStateFilesSequence_isRefused_unlessARollbackIsAllowed() throws Exception {
    Bundle older = publish(3, ALICE);
    new BundleState(5, "sha256:" + "0".repeat(64), Instant.EPOCH)
        .write(run.resolve("bundle-state.json"));
    Path boot = boot();

    assertThat(problems(boot)).contains("sequence 3 is not above the running 5")
        .contains("an operator can force it");

    RunningBundle forced = GatewayConfig.loadAllowingRollback(boot, Map.of(),
        dev.sentinel.core.policy.PolicyOptions.defaults()).fromBundle().orElseThrow();
    assertThat(forced.rollback()).isTrue();
    assertThat(forced.digest()).isEqualTo(older.digest());
    assertThat(forced.previous().orElseThrow().sequence()).isEqualTo(5);
  }

  @Test
  void load_theBundleAppliedLast_loadsAgain_butAnotherOfTheSameSequenceIsRefused() throws Exception {
    Bundle applied = publish(4, ALICE);
    Path boot = boot();
    GatewayConfig.load(boot, Map.of()).fromBundle().orElseThrow().commit(Instant.EPOCH);

    assertThat(GatewayConfig.load(boot, Map.of()).fromBundle().orElseThrow().digest())
        .isEqualTo(applied.digest());

    policy("write");
    publish(4, ALICE);
    assertThat(problems(boot)).contains("sequence 4 is not above the running 4");

    publish(5, ALICE);
    assertThat(allows(GatewayConfig.load(boot, Map.of()), "write")).isTrue();
  }

  @Test
  void load_aTruncatedBundle_isRefused() throws Exception {
    publish(1, ALICE);
    Path file = run.resolve("prod.bundle");
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));

    assertThat(problems(boot())).contains("/bundle/file").contains("prod.bundle");
  }

  @Test
  void load_aBundleOrStateThatIsAPipe_isRefusedWithoutBlocking() throws Exception {
    publish(1, ALICE);
    Path boot = boot();
    Path pipe = run.resolve("pipe");
    Process mkfifo = new ProcessBuilder("mkfifo", pipe.toString()).start();
    assertThat(mkfifo.waitFor()).isZero();

    Files.delete(run.resolve("prod.bundle"));
    Files.createSymbolicLink(run.resolve("prod.bundle"), pipe);
    assertThat(problems(boot)).contains("/bundle/file").contains("not a regular file");

    Files.delete(run.resolve("prod.bundle"));
    publish(1, ALICE);
    Files.createSymbolicLink(run.resolve("bundle-state.json"), pipe);
    assertThat(problems(boot)).contains("/bundle/state").contains("not a regular file");
  }

  @Test
  void load_aCorruptStateFile_refusesEveryBundle() throws Exception {
    publish(1, ALICE);
    Files.writeString(run.resolve("bundle-state.json"), "{\"format\": \"other\"}");

    assertThat(problems(boot())).contains("/bundle/state").contains("is not one");
  }

  @Test
  void load_aBundleConfigWithOtherSections_isRefused() throws Exception {
    publish(1, ALICE);
    Path boot = Files.writeString(run.resolve("sentinel.yaml"),
        "bundle: { file: prod.bundle, trust: [alice.pub] }\n"
            + "policy: { rules: [ { id: all, allow: { tools: [\"*\"] } } ] }\n");

    assertThat(problems(boot)).contains("/policy").contains("holds only 'bundle:'");
  }

  @Test
  void load_aBundledConfigThatNamesABundle_isRefused() throws Exception {
    Files.writeString(source.resolve("sentinel.yaml"),
        "bundle: { file: other.bundle, trust: [alice.pub] }\n");
    Bundle bundle = Bundle.of("sentinel.yaml",
        Map.of("sentinel.yaml", Files.readAllBytes(source.resolve("sentinel.yaml"))), 1);
    bundle.sign(ALICE.getPrivate(), ALICE.getPublic()).write(run.resolve("prod.bundle"));

    assertThat(problems(boot())).contains("cannot name another bundle");
  }

  @Test
  void load_badSettings_areEachLocated() throws Exception {
    publish(1, ALICE);

    assertThat(problems(boot("  file: prod.bundle\n  trust: [alice.pub]\n  min_signers: 2\n")))
        .contains("/bundle/min_signers").contains("no bundle could ever apply");
    assertThat(problems(boot("  file: prod.bundle\n  trust: []\n")))
        .contains("/bundle/trust").contains("at least one");
    assertThat(problems(boot("  file: ${env:BUNDLE}\n  trust: [alice.pub]\n")))
        .contains("/bundle/file").contains("literal path");
    assertThat(problems(boot("  file: prod.bundle\n  trust: [nokey.pub]\n")))
        .contains("/bundle/trust").contains("nokey.pub");
    assertThat(problems(boot("  file: prod.bundle\n  trust: [alice.pub]\n  channel: prod\n")))
        .contains("channel");
  }

  @Test
  void loadDatabase_ofABundleConfig_readsTheBundledConfigsDatabase() throws Exception {
    publish(1, ALICE);

    DatabaseSettings database = GatewayConfig.loadDatabase(boot(), Map.of());

    assertThat(database.toString()).contains(run.resolve("gateway.db").toString());
  }

  @Test
  void stateFile_roundTrips_andCommitWritesOnlyAChange() throws Exception {
    publish(2, ALICE);
    RunningBundle running = GatewayConfig.load(boot(), Map.of()).fromBundle().orElseThrow();

    assertThat(running.commit(Instant.parse("2026-12-05T10:00:00Z"))).isTrue();
    assertThat(running.commit(Instant.parse("2026-12-05T11:00:00Z"))).isFalse();
    BundleState state = BundleState.read(run.resolve("bundle-state.json")).orElseThrow();
    assertThat(state).isEqualTo(new BundleState(2, running.digest(),
        Instant.parse("2026-12-05T10:00:00Z")));
    assertThat(new String(Files.readAllBytes(run.resolve("bundle-state.json")),
        StandardCharsets.UTF_8)).contains(BundleState.FORMAT);
  }
}
