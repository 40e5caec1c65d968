package dev.sentinel.runner.http;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.InMemoryKeyStore;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.core.config.Stores;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A gateway runtime for the tests, started from a real config ({@link GatewayConfig#parse})
 * whose backend is {@link FixtureServer} in a child JVM, with API keys in an in-memory store
 * authenticating every call.
 */
final class Fixture implements AutoCloseable {
  final ApiKeys keys;
  final Authenticator authenticator;
  final IssuedKey alice;
  final IssuedKey bob;
  final GatewayConfig config;
  final GatewayRuntime runtime;
  private final List<HttpGateway> gateways = new ArrayList<>();

  Fixture(Path dir) {
    this(dir, UnaryOperator.identity());
  }

  /**
   * A fixture whose clients are authenticated by {@code clients} applied to the keys'
   * authenticator (to add anonymous access, say).
   */
  Fixture(Path dir, UnaryOperator<Authenticator> clients) {
    this(dir, config(), clients);
  }

  /** A fixture on another config (such as {@link #backend()} with a policy of one's own). */
  Fixture(Path dir, String yaml, UnaryOperator<Authenticator> clients) {
    keys = ApiKeys.create(InMemoryKeyStore.create(), Clock.system());
    authenticator = clients.apply(keys.authenticator());
    alice = keys.issue("alice", Set.of("developer"), "alice's key", null);
    bob = keys.issue("bob", Set.of("developer"), "bob's key", null);
    config = GatewayConfig.parse(yaml, "http-test.yaml", dir, System.getenv());
    runtime = GatewayRuntime.start(config, Clock.system(), Stores.none(), authenticator);
  }

  /** A fixture on {@code stores} (a database's), with the keys and config of {@code like} if not null. */
  private Fixture(Path dir, String yaml, Fixture like, Stores stores) {
    keys = like != null ? like.keys : ApiKeys.create(InMemoryKeyStore.create(), Clock.system());
    authenticator = keys.authenticator();
    alice = like != null ? like.alice : keys.issue("alice", Set.of("developer"), "alice's key", null);
    bob = like != null ? like.bob : keys.issue("bob", Set.of("developer"), "bob's key", null);
    config = like != null ? like.config : GatewayConfig.parse(yaml, "http-test.yaml", dir, System.getenv());
    runtime = GatewayRuntime.start(config, Clock.system(), stores, authenticator);
  }

  /** A fixture whose runtime runs on {@code stores}: the first replica of a fleet on one database. */
  static Fixture onStores(Path dir, String yaml, Stores stores) {
    return new Fixture(dir, yaml, null, stores);
  }

  /** Another replica: the same config and client keys, a runtime of its own on {@code stores}. */
  Fixture replica(Stores stores) {
    return new Fixture(null, null, this, stores);
  }

  /** A config fronting the fixture server, allowing everything. */
  static String config() {
    return backend()
        + "policy:\n"
        + "  rules:\n"
        + "    - id: everything\n"
        + "      allow: {}\n"
        + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n";
  }

  /**
   * The {@code backends:} section of the fixture server, named {@code fx}: a connection (a child
   * JVM) per principal, so that its sampling and logs reach the caller.
   */
  static String backend() {
    String java = ProcessHandle.current().info().command().orElse("java");
    return "backends:\n"
        + "  - name: fx\n"
        + "    isolation: per_principal\n"
        + "    stdio:\n"
        + "      command: " + quote(java) + "\n"
        + "      args: [\"-cp\", " + quote(System.getProperty("java.class.path")) + ", "
        + quote(FixtureServer.class.getName()) + "]\n";
  }

  static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** Builds and starts a gateway; {@link #close()} closes it before the runtime. */
  HttpGateway start(HttpGateway.Builder builder) {
    HttpGateway gateway = builder.build();
    gateways.add(gateway);
    gateway.start();
    return gateway;
  }

  /** A gateway builder on this engine with the keys' authenticator. */
  HttpGateway.Builder gateway() {
    return HttpGateway.builder().runtime(runtime).authenticator(authenticator);
  }

  Map<String, ?> backends() {
    return runtime.backends();
  }

  @Override
  public void close() {
    try {
      for (int i = gateways.size() - 1; i >= 0; i--) {
        gateways.get(i).close();
      }
    } finally {
      runtime.close();
    }
  }
}
