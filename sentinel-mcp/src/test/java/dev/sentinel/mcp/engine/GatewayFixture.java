package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A gateway over scripted backends with a small policy, a manual clock and an in-memory audit
 * sink; closes everything it made.
 */
final class GatewayFixture implements AutoCloseable {
  static final String POLICY = String.join("\n",
      "roles:",
      "  user: {}",
      "rules:",
      "  - id: everything",
      "    allow: {}",
      "  - id: no-secret",
      "    deny: { tools: [\"*__secret\"] }",
      "    reason: secrets stay put",
      "  - id: no-sampling-from-beta",
      "    deny: { methods: [\"sampling/createMessage\"], backends: [beta] }",
      "    reason: beta may not sample",
      "");

  final ManualClock clock = new ManualClock();
  final RecordingSink sink = new RecordingSink();
  final Sentinel sentinel;
  final McpGateway gateway;
  final List<ScriptedServer> servers = new ArrayList<>();
  private final List<ScriptedClient> clients = new ArrayList<>();

  GatewayFixture(List<ScriptedServer> backends, Consumer<McpGateway.Builder> options) {
    this(POLICY, backends, options);
  }

  GatewayFixture(String policy, List<ScriptedServer> backends, Consumer<McpGateway.Builder> options) {
    this(policy, backends, Authenticator.fixed(Principal.of("ann", "user")), options);
  }

  /**
   * Bearer tokens {@code alice} and {@code bob} authenticate as those principals (role user);
   * anything else is refused.
   */
  static Authenticator twoPrincipals() {
    return credentials -> {
      String secret = credentials.secret();
      if ("alice".equals(secret) || "bob".equals(secret)) {
        return dev.sentinel.api.AuthenticationResult.success(Principal.of(secret, "user"));
      }
      return dev.sentinel.api.AuthenticationResult.failure("unknown token");
    };
  }

  GatewayFixture(String policy, List<ScriptedServer> backends, Authenticator authenticator,
      Consumer<McpGateway.Builder> options) {
    this(policy, backends, authenticator, (pipeline, fixture) -> {}, options);
  }

  /**
   * As above, with more of the pipeline set by {@code pipeline} (a confirmer, say), which gets
   * this fixture with its clock set (its {@link #sentinel} is read later, once built).
   */
  GatewayFixture(String policy, List<ScriptedServer> backends, Authenticator authenticator,
      java.util.function.BiConsumer<Sentinel.Builder, GatewayFixture> pipeline,
      Consumer<McpGateway.Builder> options) {
    Sentinel.Builder assembled = Sentinel.builder()
        .clock(clock)
        .instance("test")
        .authenticator(authenticator)
        .policy(PolicyEngine.parse(policy, "policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build());
    pipeline.accept(assembled, this);
    sentinel = assembled.build();
    McpGateway.Builder builder = McpGateway.builder().sentinel(sentinel).clock(clock)
        .serverInfo("sentinel-test", "1.2.3");
    for (ScriptedServer server : backends) {
      servers.add(server);
      builder.backend(server.name, server::connect);
    }
    options.accept(builder);
    gateway = builder.build();
    gateway.start();
  }

  ScriptedClient client() {
    return client(Credentials.launch());
  }

  ScriptedClient client(Credentials credentials) {
    ScriptedClient client = new ScriptedClient(gateway, credentials);
    clients.add(client);
    return client;
  }

  /** The audit trail so far. */
  List<AuditEvent> trail() {
    assertThat(sentinel.audit().flush(Duration.ofSeconds(30))).isTrue();
    return sink.events();
  }

  @Override
  public void close() {
    gateway.close();
    sentinel.close();
  }
}
