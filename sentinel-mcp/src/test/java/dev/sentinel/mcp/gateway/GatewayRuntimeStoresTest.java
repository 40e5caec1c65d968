package dev.sentinel.mcp.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.core.Call;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.api.SentinelException;
import dev.sentinel.core.audit.DigestKey;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.InMemoryKeyStore;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * {@link GatewayRuntime} on {@link Stores}: the key store verifies {@code identity.api_key}, the
 * database sink receives the trail, and a config that needs a database is refused without one.
 * The backend is a program that does not exist, so no process is started.
 */
class GatewayRuntimeStoresTest {
  private static final String BASE = "gateway: { start_timeout: 1s }\n"
      + "backends:\n  - name: fs\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
      + "policy: { rules: [ { id: all, allow: {} } ] }\n";

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();

  /** Real in-memory stores that count how often they were closed. */
  private static final class MemoryStores implements Stores {
    final InMemoryKeyStore keys = InMemoryKeyStore.create();
    final RecordingSink sink = new RecordingSink();
    final AtomicInteger closes = new AtomicInteger();

    /** The recording sink, declared durable as a database's is: it keeps what it returns. */
    @Override
    public Optional<AuditSink> auditSink() {
      return Optional.of(new AuditSink() {
        @Override
        public void write(List<AuditEvent> events) throws IOException {
          sink.write(events);
        }

        @Override
        public boolean durable() {
          return true;
        }
      });
    }

    @Override
    public Optional<KeyStore> keyStore() {
      return Optional.of(keys);
    }

    @Override
    public String description() {
      return "memory";
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }
  }

  private GatewayConfig config(String yaml, Map<String, String> env) {
    return GatewayConfig.parse(BASE + yaml, "sentinel.yaml", dir, env);
  }

  @Test
  void start_withoutStores_refusesTheDefaultDatabaseSink() {
    GatewayConfig config = config("", Map.of());
    assertThatThrownBy(() -> GatewayRuntime.start(config, clock))
        .isInstanceOf(SentinelException.class)
        .hasMessageContaining("sentinel.yaml: the database audit sink (the default without an "
            + "audit: section) needs the gateway's database");
  }

  @Test
  void start_withoutStores_refusesAnApiKeyIdentity() {
    GatewayConfig config = config("identity: { api_key: \"${env:K}\" }\n"
        + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n", Map.of("K", "snk_abcdefghijkl_" + "A".repeat(43)));
    assertThatThrownBy(() -> GatewayRuntime.start(config, clock, Stores.none()))
        .isInstanceOf(SentinelException.class)
        .hasMessageContaining("identity.api_key is verified against the database's key store")
        .hasMessageNotContaining("AAAA");
  }

  /**
   * A tool check lists the backends' tools and makes no call: a config whose identity is an API
   * key (no fixed principal) is checked like any other. It threw a NullPointerException
   * ("principal"), so {@code sentinel config check --start} failed on such configs.
   */
  @Test
  void checkTools_withAnApiKeyIdentity_reportsTheBackends() {
    GatewayConfig config = config("identity: { api_key: \"${env:K}\" }\n",
        Map.of("K", "snk_abcdefghijkl_" + "A".repeat(43)));
    ToolReport report = GatewayRuntime.checkTools(config, clock);
    assertThat(report.tools()).isEmpty();
    assertThat(report.problems()).containsKey("fs");
  }

  @Test
  void start_withStores_verifiesTheApiKeyAndRecordsToTheDatabaseSink() {
    MemoryStores stores = new MemoryStores();
    IssuedKey key = ApiKeys.create(stores.keys, clock).issue("ann", Set.of("dev"), "t", null);
    GatewayConfig config = config("identity: { api_key: \"${env:K}\" }\n",
        Map.of("K", key.secret()));
    try (GatewayRuntime runtime = GatewayRuntime.start(config, clock, stores)) {
      AuthenticationResult who = runtime.sentinel().authenticate(config.identity().credentials());
      assertThat(who.authenticated()).isTrue();
      assertThat(who.principal().id()).isEqualTo("ann");
      runtime.sentinel().call(Call.of(config.identity().credentials(),
          Request.toolCall("fs", "read", JsonNodeFactory.instance.objectNode())), r -> "ok");
      stores.keys.revoke(key.key().id(), clock.instant());
      runtime.sentinel().call(Call.of(config.identity().credentials(),
          Request.toolCall("fs", "read", JsonNodeFactory.instance.objectNode())), r -> "ok");
      assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
      assertThat(stores.sink.events()).extracting(AuditEvent::outcome)
          .containsExactly(Outcome.ALLOWED, Outcome.UNAUTHENTICATED);
      assertThat(stores.sink.events().get(1).errorMessage())
          .isEqualTo("revoked key " + key.key().id());
      assertThat(stores.closes).hasValue(0);
    }
    assertThat(stores.closes).hasValue(1);
  }

  @Test
  void start_withDigestKey_recordsDigestsOnlyThatKeyChecks() {
    MemoryStores stores = new MemoryStores();
    String secret = "k7Yq2mWv9sXz4Rb1Nc8Td3Lf6Hg0Jp5A";
    GatewayConfig config = config("identity: { principal: { id: bob } }\n"
        + "audit: { digest_key: \"${env:D}\" }\n", Map.of("D", secret));
    JsonNode arguments = JsonNodeFactory.instance.objectNode().put("password", "hunter2");
    try (GatewayRuntime runtime = GatewayRuntime.start(config, clock, stores)) {
      runtime.sentinel().call(Call.of(Credentials.launch(),
          Request.toolCall("fs", "read", arguments)), r -> "ok");
      assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
    }
    AuditEvent event = stores.sink.events().get(0);
    DigestKey key = DigestKey.fromSecret(secret);
    assertThat(event.argumentsDigest()).startsWith("hmac-sha256:" + key.id() + ":");
    assertThat(key.matches(arguments, event.argumentsDigest())).isTrue();
    assertThat(Redactor.defaults().digestKey().matches(arguments, event.argumentsDigest()))
        .isFalse();
  }

  @Test
  void start_durableMode_writesTheIntentBeforeInvoking() {
    MemoryStores stores = new MemoryStores();
    GatewayConfig config = config("identity: { principal: { id: bob } }\n"
        + "audit: { mode: durable }\n", Map.of());
    try (GatewayRuntime runtime = GatewayRuntime.start(config, clock, stores)) {
      runtime.sentinel().call(Call.of(Credentials.launch(),
          Request.toolCall("fs", "read", JsonNodeFactory.instance.objectNode())), r -> {
            // The intent is committed before the invoker runs.
            assertThat(stores.sink.events()).extracting(AuditEvent::outcome)
                .containsExactly(Outcome.PENDING);
            return "ok";
          });
      assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(30))).isTrue();
      assertThat(stores.sink.events()).extracting(AuditEvent::outcome)
          .containsExactly(Outcome.PENDING, Outcome.ALLOWED);
    }
  }

  @Test
  void merge_configSwitchesStayOn_operatorsAddTheirs() {
    KillSwitch.State config = new KillSwitch.State(null, Map.of("fs", "config says"),
        Map.of("rm*", "never"), Map.of());
    KillSwitch.State operator = new KillSwitch.State("incident 42", Map.of("fs", "operator",
        "git", "broken"), Map.of(), Map.of("eve", "abuse"));
    KillSwitch.State merged = KillSwitch.State.merge(config, operator);
    assertThat(merged.all()).isEqualTo("incident 42");
    assertThat(merged.backends()).containsExactlyEntriesOf(
        new java.util.TreeMap<>(Map.of("fs", "config says", "git", "broken")));
    assertThat(merged.tools()).containsExactlyEntriesOf(Map.of("rm*", "never"));
    assertThat(merged.principals()).containsExactlyEntriesOf(Map.of("eve", "abuse"));
    assertThat(KillSwitch.State.merge(config, KillSwitch.State.EMPTY)).isEqualTo(config);
  }

  @Test
  void updateKillSwitch_withoutAStore_appliesLocallyOnTopOfTheConfig() {
    MemoryStores stores = new MemoryStores();
    GatewayConfig config = config("identity: { principal: { id: bob } }\n"
        + "kill_switch: { tools: { \"rm*\": never } }\n", Map.of());
    try (GatewayRuntime runtime = GatewayRuntime.start(config, clock, stores)) {
      KillSwitch.State operator = new KillSwitch.State(null, Map.of(), Map.of(),
          Map.of("bob", "paused"));
      runtime.updateKillSwitch(operator);
      assertThat(runtime.operatorKillSwitch()).isEqualTo(operator);
      assertThat(runtime.sentinel().killSwitch().state().tools()).containsKey("rm*");
      assertThat(runtime.sentinel().killSwitch().state().principals()).containsKey("bob");
      runtime.updateKillSwitch(KillSwitch.State.EMPTY);
      assertThat(runtime.sentinel().killSwitch().state())
          .isEqualTo(config.killSwitch());
      assertThat(runtime.syncKillSwitch()).isFalse();
      assertThat(runtime.purgeAudit()).isZero();
    }
  }

  @Test
  void start_thatFails_closesTheStores() {
    MemoryStores stores = new MemoryStores();
    GatewayConfig config = config("identity: { api_key: \"${env:K}\" }\n"
        + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n", Map.of("K", "snk_abcdefghijkl_" + "A".repeat(43)));
    Stores noKeys = new Stores() {
      @Override
      public Optional<AuditSink> auditSink() {
        return Optional.empty();
      }

      @Override
      public Optional<KeyStore> keyStore() {
        return Optional.empty();
      }

      @Override
      public String description() {
        return "none";
      }

      @Override
      public void close() {
        stores.close();
      }
    };
    assertThatThrownBy(() -> GatewayRuntime.start(config, clock, noKeys))
        .isInstanceOf(SentinelException.class);
    assertThat(stores.closes).hasValue(1);
  }
}
