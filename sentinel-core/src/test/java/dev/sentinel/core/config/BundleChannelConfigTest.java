package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleException;
import dev.sentinel.core.bundle.BundleSettings;
import dev.sentinel.core.bundle.BundleSources;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.bundle.RunningBundle;
import dev.sentinel.core.internal.Ed25519Keys;
import dev.sentinel.core.policy.PolicyOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway config that follows a channel of the fleet's database ({@code bundle: { source:
 * database, channel: prod }}): the channel's head is verified exactly as a bundle file is, and
 * every refusal names the channel and the reason. The store is the real in-memory one.
 */
class BundleChannelConfigTest {
  private static final KeyPair ALICE = Ed25519Keys.generate();
  private static final KeyPair BOB = Ed25519Keys.generate();
  private static final KeyPair MALLORY = Ed25519Keys.generate();
  private static final String CONFIG = "identity: { principal: { id: ann, roles: [dev] } }\n"
      + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
      + "policy: { file: policy.yaml }\n";

  @TempDir Path dir;
  private Path source;
  private Path run;
  private final BundleStore store = BundleStore.inMemory();
  private final List<DatabaseSettings> opened = new CopyOnWriteArrayList<>();
  private final BundleSources sources = database -> {
    opened.add(database);
    return store;
  };

  @BeforeEach
  void files() throws Exception {
    source = Files.createDirectories(dir.resolve("source"));
    run = Files.createDirectories(dir.resolve("run"));
    Files.writeString(source.resolve("sentinel.yaml"), CONFIG);
    for (var key : Map.of("alice", ALICE, "bob", BOB).entrySet()) {
      Files.writeString(run.resolve(key.getKey() + ".pub"),
          Ed25519Keys.publicPem(key.getValue().getPublic()));
    }
  }

  /** Builds the source as a bundle allowing {@code tool}, signed by the keys. */
  private Bundle bundle(long sequence, String tool, KeyPair... signers) throws Exception {
    Files.writeString(source.resolve("policy.yaml"),
        "rules: [ { id: allow-" + tool + ", allow: { tools: [" + tool + "] } } ]\n");
    Bundle bundle = Bundle.build(source.resolve("sentinel.yaml"), sequence);
    for (KeyPair key : signers) {
      bundle = bundle.sign(key.getPrivate(), key.getPublic());
    }
    return bundle;
  }

  private Bundle publish(long sequence, String tool, KeyPair... signers) throws Exception {
    Bundle bundle = bundle(sequence, tool, signers);
    store.publish("prod", bundle.toBytes(), "alice", Instant.EPOCH);
    return bundle;
  }

  private Path boot(String extra) throws Exception {
    return Files.writeString(run.resolve("sentinel.yaml"), "bundle:\n  source: database\n"
        + "  channel: prod\n  trust: [alice.pub, bob.pub]\n" + extra
        + "database: { url: \"jdbc:sqlite:fleet.db\" }\n");
  }

  private GatewayConfig load(Path boot) {
    return GatewayConfig.load(boot, Map.of(), PolicyOptions.defaults(), sources);
  }

  private String problems(Path boot, boolean allowRollback) {
    try {
      if (allowRollback) {
        GatewayConfig.loadAllowingRollback(boot, Map.of(), PolicyOptions.defaults(), sources);
      } else {
        load(boot);
      }
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
  void load_theChannelsHead_servesItsConfig_fromTheBundleAndTheConfigsDatabase() throws Exception {
    Bundle bundle = publish(1, "read", ALICE);

    GatewayConfig config = load(boot(""));

    RunningBundle running = config.fromBundle().orElseThrow();
    assertThat(running.digest()).isEqualTo(bundle.digest());
    assertThat(running.settings().source()).isEqualTo(BundleSettings.Source.DATABASE);
    assertThat(running.settings().channel()).isEqualTo("prod");
    assertThat(running.settings().pollInterval()).isEqualTo(BundleSettings.DEFAULT_POLL_INTERVAL);
    assertThat(running.settings().location()).contains("channel prod")
        .contains(run.resolve("fleet.db").toString());
    assertThat(opened).extracting(DatabaseSettings::url)
        .containsOnly("jdbc:sqlite:" + run.resolve("fleet.db"));
    assertThat(config.policy().source()).contains("channel prod");
  }

  @Test
  void load_aChannelWithNoBundle_isRefusedNamingTheChannelAndWhatToDo() throws Exception {
    publish(1, "read", ALICE);
    Path boot = Files.writeString(run.resolve("sentinel.yaml"), "bundle: { source: database,"
        + " channel: staging, trust: [alice.pub] }\ndatabase: { url: \"jdbc:sqlite:fleet.db\" }\n");

    assertThat(problems(boot, false)).contains("/bundle/channel")
        .contains("no bundle is published on channel 'staging'")
        .contains("sentinel bundle publish FILE --channel staging");
  }

  @Test
  void load_aHeadSignedByAnUntrustedKey_isRefused() throws Exception {
    publish(1, "\"*\"", MALLORY);

    assertThat(problems(boot(""), false)).contains("/bundle/channel")
        .contains("signed by 0 of the 1")
        .contains("untrusted " + Ed25519Keys.id(MALLORY.getPublic()));
  }

  @Test
  void load_aHeadWhoseSignatureIsAnotherBundles_isRefused() throws Exception {
    Bundle signed = bundle(1, "read", ALICE);
    // Alice's signature of one bundle, carried over to another: the bytes still parse.
    Bundle other = bundle(1, "\"*\"");
    String text = new String(other.toBytes(), StandardCharsets.UTF_8);
    String signatures = new String(signed.toBytes(), StandardCharsets.UTF_8);
    signatures = signatures.substring(signatures.indexOf("\"signatures\""));
    String forged = text.substring(0, text.indexOf("\"signatures\"")) + signatures;
    store.publish("prod", forged.getBytes(StandardCharsets.UTF_8), "mallory", Instant.EPOCH);

    assertThat(problems(boot(""), false)).contains("/bundle/channel")
        .contains("does not verify");
  }

  @Test
  void load_tooFewSigners_isRefused_andTheThresholdMetLoads() throws Exception {
    publish(1, "read", ALICE);
    Path boot = boot("  min_signers: 2\n");

    assertThat(problems(boot, false)).contains("signed by 1 of the 2");

    publish(1, "read", ALICE, BOB);
    assertThat(load(boot).fromBundle().orElseThrow().signers()).hasSize(2);
  }

  @Test
  void load_anOlderBundlePublishedAfterANewerOneApplied_isARollback_refusedUnlessAllowed()
      throws Exception {
    publish(2, "write", ALICE);
    load(boot("")).fromBundle().orElseThrow().commit(Instant.EPOCH);
    publish(1, "read", ALICE);

    assertThat(problems(boot(""), false)).contains("/bundle/channel").contains("would roll back");
    assertThat(GatewayConfig.loadAllowingRollback(boot(""), Map.of(), PolicyOptions.defaults(),
        sources).fromBundle().orElseThrow().rollback()).isTrue();
  }

  @Test
  void load_withoutADatabaseModule_isRefusedSayingWhatReadsDatabases() throws Exception {
    publish(1, "read", ALICE);

    assertThatThrownBy(() -> GatewayConfig.load(boot(""), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("needs the database module");
  }

  @Test
  void load_aStoreThatCannotBeRead_isRefusedNamingTheChannel() throws Exception {
    BundleStore broken = new BundleStore() {
      @Override
      public dev.sentinel.core.bundle.PublishedBundle publish(String channel, byte[] bundle,
          String publishedBy, Instant at) {
        throw new IllegalStateException("database is closed");
      }

      @Override
      public java.util.Optional<dev.sentinel.core.bundle.PublishedBundle> head(String channel) {
        throw new IllegalStateException("connection refused");
      }

      @Override
      public void heartbeat(dev.sentinel.core.bundle.Heartbeat beat) {
        throw new IllegalStateException("connection refused");
      }

      @Override
      public List<dev.sentinel.core.bundle.Heartbeat> heartbeats() {
        throw new IllegalStateException("connection refused");
      }
    };

    assertThatThrownBy(() -> GatewayConfig.load(boot(""), Map.of(), PolicyOptions.defaults(),
        database -> broken))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cannot read channel 'prod'")
        .hasMessageContaining("connection refused");
  }

  @Test
  void load_badSettings_areEachLocated() throws Exception {
    publish(1, "read", ALICE);
    String db = "database: { url: \"jdbc:sqlite:fleet.db\" }\n";

    assertThat(problems(Files.writeString(run.resolve("a.yaml"),
        "bundle: { source: database, trust: [alice.pub] }\n" + db), false))
        .contains("/bundle/channel");
    assertThat(problems(Files.writeString(run.resolve("b.yaml"),
        "bundle: { source: database, channel: Prod!, trust: [alice.pub] }\n" + db), false))
        .contains("/bundle/channel").contains("invalid channel name");
    assertThat(problems(Files.writeString(run.resolve("c.yaml"),
        "bundle: { source: database, channel: prod, file: x.bundle, trust: [alice.pub] }\n" + db),
        false)).contains("/bundle/file").contains("remove file");
    assertThat(problems(Files.writeString(run.resolve("d.yaml"),
        "bundle: { source: ftp, channel: prod, trust: [alice.pub] }\n" + db), false))
        .contains("/bundle/source").contains("file or database");
    assertThat(problems(Files.writeString(run.resolve("e.yaml"),
        "bundle: { file: x.bundle, trust: [alice.pub] }\n" + db), false))
        .contains("/database").contains("holds only");
    assertThat(problems(Files.writeString(run.resolve("f.yaml"),
        "bundle: { source: database, channel: prod, trust: [alice.pub], poll_interval: 0s }\n"
            + db), false)).contains("/bundle/poll_interval");
    assertThat(problems(Files.writeString(run.resolve("g.yaml"),
        "bundle: { source: database, channel: prod, trust: [alice.pub] }\n"
            + "database: { url: \"mysql://x\" }\n"), false)).contains("/database/url");
  }

  @Test
  void load_pollInterval_isRead() throws Exception {
    publish(1, "read", ALICE);

    assertThat(load(boot("  poll_interval: 250ms\n")).fromBundle().orElseThrow().settings()
        .pollInterval()).hasMillis(250);
  }

  @Test
  void loadDatabase_ofAChannelConfig_isTheFleetsDatabase_withoutReadingTheBundle() throws Exception {
    DatabaseSettings database = GatewayConfig.loadDatabase(boot(""), Map.of());

    assertThat(database.url()).isEqualTo("jdbc:sqlite:" + run.resolve("fleet.db"));
    assertThat(opened).isEmpty();
  }

  @Test
  void inMemoryStore_refusesWhatIsNotABundle_andKeepsTheHead() throws Exception {
    Bundle bundle = publish(1, "read", ALICE);

    assertThatThrownBy(() -> store.publish("prod", "{}".getBytes(StandardCharsets.UTF_8), "eve",
        Instant.EPOCH)).isInstanceOf(BundleException.class).hasMessageContaining("not a bundle");
    assertThatThrownBy(() -> store.publish("Prod Channel", bundle.toBytes(), "eve", Instant.EPOCH))
        .isInstanceOf(BundleException.class).hasMessageContaining("invalid channel name");
    assertThat(store.head("prod").orElseThrow().digest()).isEqualTo(bundle.digest());
  }
}
