package dev.sentinel.benchmarks;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Invoker;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.internal.Ed25519Keys;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.jdbc.Database;
import dev.sentinel.jdbc.JdbcBundleSources;
import dev.sentinel.jdbc.JdbcBundleStore;
import dev.sentinel.mcp.gateway.ConfigReloader;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Calls while a gateway applies signed bundles from a channel of the fleet's database (issue 14,
 * item 7: applying a bundle must not pause calls; p99 added at most 1 ms): {@link
 * BundleApplyBenchmark}'s harness on the channel path. A gateway follows channel {@code prod} of
 * a SQLite database ({@code bundle: { source: database }}); one thread makes governed calls
 * ({@code call}) while, in the {@code applying} group, a second thread publishes a new signed
 * bundle on the channel (one transaction) and reloads as a member of the fleet, as the channel
 * watcher does: read the rollout and the head from the database, verify, parse, swap, write the
 * state file, audit. In the {@code quiet} group the second thread only sleeps. Sample mode:
 * compare the two groups' {@code call} p99.
 *
 * <p>Run: {@code benchmarks/run BundleChannelApplyBenchmark}.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BundleChannelApplyBenchmark {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final KeyPair SIGNER = Ed25519Keys.generate();

  private Path dir;
  private Path source;
  private Database database;
  private JdbcBundleStore store;
  private JdbcBundleSources sources;
  private GatewayRuntime runtime;
  private ConfigReloader reloader;
  private Invoker<JsonNode> tool;
  private Call allowed;
  private long sequence;
  /** Reloads applied and refused, checked at tear-down: a refused apply measures nothing. */
  private long applied;
  private long refused;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("sentinel-channel-bench");
    source = Files.createDirectories(dir.resolve("source"));
    Path run = Files.createDirectories(dir.resolve("run"));
    String url = "jdbc:sqlite:" + run.resolve("fleet.db");
    Files.writeString(source.resolve("policy.yaml"), PipelineBenchmark.POLICY);
    Files.writeString(source.resolve("sentinel.yaml"), "gateway: { start_timeout: 1ms }\n"
        + "identity: { principal: { id: ann, roles: [developer] } }\n"
        + "backends:\n  - name: db\n    stdio: { command: /nonexistent/sentinel-bench-backend }\n"
        + "policy: { file: policy.yaml }\n"
        + "audit: { sinks: [ { slf4j: { logger: dev.sentinel.bench.audit } } ] }\n");
    // The trail goes to a logger that is off: storage is not what is measured here.
    System.setProperty("org.slf4j.simpleLogger.log.dev.sentinel.bench.audit", "off");
    Files.writeString(run.resolve("signer.pub"), Ed25519Keys.publicPem(SIGNER.getPublic()));
    Path boot = Files.writeString(run.resolve("sentinel.yaml"),
        "bundle: { source: database, channel: prod, trust: [signer.pub] }\n"
            + "database: { url: \"" + url + "\" }\n");
    database = Database.builder(url).open();
    store = JdbcBundleStore.create(database);
    publish();
    sources = JdbcBundleSources.create(Clock.system());
    runtime = GatewayRuntime.start(
        GatewayConfig.load(boot, Map.of(), PolicyOptions.defaults(), sources), Clock.system());
    reloader = ConfigReloader.of(runtime, boot, Map.of(), PolicyOptions.defaults(), sources);
    JsonNode result = JSON.readTree("{\"content\":[{\"type\":\"text\",\"text\":\"42 rows\"}]}");
    tool = request -> result;
    allowed = Call.of(Credentials.launch(), Request.toolCall("db", "db__query",
        JSON.readTree("{\"sql\":\"select id, name from users where id = 7\"}")));
  }

  private void publish() {
    Bundle bundle = Bundle.build(source.resolve("sentinel.yaml"), ++sequence)
        .sign(SIGNER.getPrivate(), SIGNER.getPublic());
    store.publish("prod", bundle.toBytes(), "bench", Instant.now());
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    runtime.close();
    sources.close();
    database.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> {
        try {
          Files.delete(path);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    if (refused > 0 || (sequence > 1 && applied == 0)) {
      throw new IllegalStateException("bundles applied " + applied + ", refused " + refused);
    }
  }

  /** A governed call while another thread publishes on the channel and applies. */
  @Benchmark
  @Group("applying")
  @GroupThreads(1)
  public CallResult<JsonNode> call() {
    return runtime.sentinel().call(allowed, tool);
  }

  /** Publishes a bundle of the next sequence on the channel and applies it from there. */
  @Benchmark
  @Group("applying")
  @GroupThreads(1)
  public boolean apply() {
    publish();
    boolean ok = reloader.reloadAsMember("bench@host/1").applied();
    if (ok) {
      applied++;
    } else {
      refused++;
    }
    return ok;
  }

  /** The same call while the other thread sleeps: the baseline. */
  @Benchmark
  @Group("quiet")
  @GroupThreads(1)
  public CallResult<JsonNode> quietCall() {
    return runtime.sentinel().call(allowed, tool);
  }

  /** Sleeps a millisecond: the other thread of the baseline, using no CPU. */
  @Benchmark
  @Group("quiet")
  @GroupThreads(1)
  public void idle() throws InterruptedException {
    Thread.sleep(1);
  }
}
