package dev.sentinel.runner.http;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.InMemoryKeyStore;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.gateway.Backend;
import dev.sentinel.core.gateway.GatewayConfig;
import dev.sentinel.core.gateway.StdioBackend;
import dev.sentinel.core.mcp.McpGateway;
import dev.sentinel.core.transport.FrameLimits;
import dev.sentinel.core.transport.ProcessSpec;
import dev.sentinel.core.transport.ProcessTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * A governed MCP engine for the tests, assembled from a real config ({@link GatewayConfig#parse})
 * whose backend is {@link FixtureServer} in a child JVM, with API keys in an in-memory store.
 *
 * <p>Why not {@link dev.sentinel.core.gateway.GatewayRuntime#start}: the runtime builds its
 * pipeline's authenticator from the config's {@code identity} section (a fixed principal accepts
 * only launch credentials), so it would refuse the API keys HTTP sessions present. Until the
 * runtime can be given the HTTP authenticator, the tests assemble the same parts (config policy,
 * config backends, the real pipeline and engine) with the keys' authenticator.
 */
final class Fixture implements AutoCloseable {
  final ApiKeys keys;
  final Authenticator authenticator;
  final IssuedKey alice;
  final IssuedKey bob;
  final GatewayConfig config;
  private final McpGateway mcp;
  final Engine engine;

  Fixture(Path dir) {
    keys = ApiKeys.create(InMemoryKeyStore.create(), Clock.system());
    authenticator = keys.authenticator();
    alice = keys.issue("alice", Set.of("developer"), "alice's key", null);
    bob = keys.issue("bob", Set.of("developer"), "bob's key", null);
    config = GatewayConfig.parse(config(), "http-test.yaml", dir, System.getenv());
    Sentinel sentinel = Sentinel.builder()
        .authenticator(authenticator)
        .policy(config.policy())
        .build();
    McpGateway.Builder builder = McpGateway.builder().sentinel(sentinel);
    for (Backend backend : config.backends()) {
      StdioBackend stdio = (StdioBackend) backend;
      ProcessSpec spec = ProcessSpec.of(stdio.name(), stdio.command(), stdio.env());
      builder.backend(stdio.name(), () -> {
        try {
          return ProcessTransport.start(spec);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    mcp = builder.build();
    mcp.start();
    engine = Engine.of(mcp, FrameLimits.defaults());
  }

  /** A config fronting the fixture server, allowing everything. */
  static String config() {
    String java = ProcessHandle.current().info().command().orElse("java");
    return "backends:\n"
        + "  - name: fx\n"
        + "    stdio:\n"
        + "      command: " + quote(java) + "\n"
        + "      args: [\"-cp\", " + quote(System.getProperty("java.class.path")) + ", "
        + quote(FixtureServer.class.getName()) + "]\n"
        + "policy:\n"
        + "  rules:\n"
        + "    - id: everything\n"
        + "      allow: {}\n";
  }

  static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** A gateway builder on this engine with the keys' authenticator. */
  HttpGateway.Builder gateway() {
    return HttpGateway.builder().engine(engine).authenticator(authenticator);
  }

  Map<String, ?> backends() {
    return mcp.backends();
  }

  @Override
  public void close() {
    mcp.close();
  }
}
