package dev.sentinel.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Confirmation;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimitResult;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.audit.DigestKey;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.InMemoryKeyStore;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.RecordingSink;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class SentinelTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String POLICY = String.join("\n",
      "roles:",
      "  developer: { inherits: [readonly] }",
      "  readonly: {}",
      "rules:",
      "  - id: readonly-tools",
      "    allow: { roles: [readonly], tools: [\"fs__read_*\"] }",
      "  - id: devs-query",
      "    allow: { roles: [developer], tools: [\"db__query\"] }",
      "  - id: no-destructive-sql",
      "    deny:",
      "      tools: [\"db__query\"]",
      "      when: { \"/sql\": { regex: \"(?i)\\\\b(drop|truncate|delete)\\\\b\" } }",
      "    reason: destructive SQL is not allowed through the gateway",
      "  - id: payments-need-a-human",
      "    confirm: { roles: [developer], tools: [\"billing__*\"] }",
      "");

  private final ManualClock clock = new ManualClock();
  private final RecordingSink sink = new RecordingSink();
  private final AtomicInteger invocations = new AtomicInteger();
  private Sentinel sentinel;

  @AfterEach
  void close() {
    if (sentinel != null) {
      sentinel.close();
    }
  }

  private Sentinel.Builder builder(Principal principal) {
    return Sentinel.builder()
        .clock(clock)
        .instance("test")
        .authenticator(Authenticator.fixed(principal))
        .policy(PolicyEngine.parse(POLICY, "policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build());
  }

  private static Call call(String tool, String json) {
    return Call.of(Credentials.launch(), Request.toolCall("b", tool, JSON.readTree(json)));
  }

  private CallResult<JsonNode> run(Call call) {
    return sentinel.call(call, request -> {
      invocations.incrementAndGet();
      return JSON.createObjectNode().put("ok", true);
    });
  }

  private List<AuditEvent> trail() {
    assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
    return sink.events();
  }

  @Test
  void call_allowed_invokesAndRecordsOneEvent() {
    sentinel = builder(Principal.of("ann", "developer")).build();

    CallResult<JsonNode> result = run(call("db__query", "{\"sql\":\"select 1\"}"));

    assertThat(result.ok()).isTrue();
    assertThat(result.value().get("ok").asBoolean()).isTrue();
    assertThat(invocations).hasValue(1);
    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.id()).isEqualTo(result.eventId());
      assertThat(event.outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(event.principal()).isEqualTo("ann");
      assertThat(event.roles()).containsExactly("developer");
      assertThat(event.effect()).isEqualTo(Effect.ALLOW);
      assertThat(event.rules()).containsExactly("devs-query");
      assertThat(event.name()).isEqualTo("db__query");
      assertThat(event.arguments().get("sql").asString()).isEqualTo("select 1");
      assertThat(event.argumentsDigest()).startsWith("hmac-sha256:");
      assertThat(event.responseSize()).isPositive();
      assertThat(event.responseDigest()).startsWith("hmac-sha256:");
      assertThat(event.revision()).startsWith("sha256:");
      assertThat(event.instance()).isEqualTo("test");
    });
  }

  /**
   * The stored event is all an attacker has: redacted arguments, their digest, the response's
   * digest. A dictionary of likely originals, put back into the redacted arguments and hashed as
   * the trail's digests once were (unsalted SHA-256 of the canonical JSON), must find nothing.
   */
  @Test
  void call_digestsOfRedactedArguments_doNotRevealSecretsByDictionary() {
    sentinel = builder(Principal.of("ann", "developer")).build();
    List<String> dictionary =
        List.of("123456", "password", "letmein", "qwerty", "hunter2", "dragon", "PIN 4711 accepted");

    sentinel.call(call("db__query", "{\"user\":\"ann\",\"password\":\"hunter2\"}"),
        request -> JSON.createObjectNode().put("text", "PIN 4711 accepted"));

    AuditEvent stored = trail().get(0);
    assertThat(stored.arguments().get("password").asString()).isEqualTo("[REDACTED]");
    List<String> recovered = new java.util.ArrayList<>();
    for (String guess : dictionary) {
      ObjectNode candidate = ((ObjectNode) stored.arguments()).deepCopy().put("password", guess);
      if (hex(stored.argumentsDigest()).equals(hex(CanonicalJson.sha256(candidate)))) {
        recovered.add("password " + guess);
      }
      ObjectNode response = JSON.createObjectNode().put("text", guess);
      if (hex(stored.responseDigest()).equals(hex(CanonicalJson.sha256(response)))) {
        recovered.add("response " + guess);
      }
    }
    assertThat(recovered).as("originals recovered from the stored digests").isEmpty();
    // whoever holds the key can still check a claimed original
    DigestKey key = Redactor.defaults().digestKey();
    assertThat(key.matches(JSON.readTree("{\"password\":\"hunter2\",\"user\":\"ann\"}"),
        stored.argumentsDigest())).isTrue();
    assertThat(key.matches(JSON.readTree("{\"user\":\"ann\",\"password\":\"hunter3\"}"),
        stored.argumentsDigest())).isFalse();
    assertThat(key.matches(JSON.createObjectNode().put("text", "PIN 4711 accepted"),
        stored.responseDigest())).isTrue();
  }

  /** The hex part of a digest text, whatever its prefix: {@code sha256:<hex>} or {@code ...:<hex>}. */
  private static String hex(String digest) {
    return digest.substring(digest.lastIndexOf(':') + 1);
  }

  @Test
  void call_deniedByRule_neverInvokesAndNamesRuleAndReason() {
    sentinel = builder(Principal.of("ann", "developer")).build();

    CallResult<JsonNode> result = run(call("db__query", "{\"sql\":\"DROP TABLE users\"}"));

    assertThat(invocations).hasValue(0);
    assertThat(result.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(result.refusal().rules()).containsExactly("no-destructive-sql");
    assertThat(result.refusal().message())
        .isEqualTo("denied by rule no-destructive-sql: destructive SQL is not allowed through the gateway");
    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.DENIED);
      assertThat(event.effect()).isEqualTo(Effect.DENY);
      assertThat(event.rules()).containsExactly("no-destructive-sql");
    });
  }

  @Test
  void call_destructiveSqlInAnotherShape_isRefusedAndNeverForwarded() {
    sentinel = builder(Principal.of("ann", "developer")).build();

    for (String args : List.of("{\"sql\":[\"DROP TABLE users\"]}",
        "{\"sql\":{\"q\":\"DROP TABLE users\"}}")) {
      CallResult<JsonNode> result = run(call("db__query", args));

      assertThat(result.outcome()).as(args).isEqualTo(Outcome.DENIED);
      assertThat(result.refusal().rules()).containsExactly("no-destructive-sql");
    }
    assertThat(invocations).hasValue(0);
    assertThat(trail()).hasSize(2).allSatisfy(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.DENIED);
      assertThat(event.rules()).containsExactly("no-destructive-sql");
    });
  }

  @Test
  void call_noRuleMatches_isDeniedByDefault() {
    sentinel = builder(Principal.of("ann", "readonly")).build();

    CallResult<JsonNode> result = run(call("db__query", "{\"sql\":\"select 1\"}"));

    assertThat(invocations).hasValue(0);
    assertThat(result.refusal().outcome()).isEqualTo(Outcome.DENIED);
    assertThat(result.refusal().rules()).isEmpty();
    assertThat(result.refusal().message()).isEqualTo("denied: no rule allows this request");
  }

  @Test
  void call_unauthenticated_givesGenericMessageAndRecordsTheReason() {
    ApiKeys keys = ApiKeys.create(InMemoryKeyStore.create(), clock);
    IssuedKey key = keys.issue("ann", Set.of("developer"), "laptop", null);
    keys.revoke(key.key().id());
    sentinel = builder(Principal.of("unused")).authenticator(keys.authenticator()).build();

    CallResult<JsonNode> result = sentinel.call(
        Call.of(Credentials.apiKey(key.secret()), Request.toolCall("b", "db__query", null)),
        request -> {
          invocations.incrementAndGet();
          return null;
        });

    assertThat(invocations).hasValue(0);
    assertThat(result.outcome()).isEqualTo(Outcome.UNAUTHENTICATED);
    assertThat(result.refusal().message()).isEqualTo("authentication failed: missing or invalid credentials");
    assertThat(trail()).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(Outcome.UNAUTHENTICATED);
      assertThat(event.principal()).isNull();
      assertThat(event.errorMessage()).contains("revoked");
      assertThat(AuditEventText.of(event)).doesNotContain(key.secret());
    });
  }

  @Test
  void call_disabledByKillSwitch_isRefusedOnTheNextRequest() {
    sentinel = builder(Principal.of("ann", "developer")).build();
    assertThat(run(call("db__query", "{\"sql\":\"select 1\"}")).ok()).isTrue();

    sentinel.killSwitch().disableTool("db__*", "incident 42");
    CallResult<JsonNode> refused = run(call("db__query", "{\"sql\":\"select 1\"}"));
    sentinel.killSwitch().enableTool("db__*");
    CallResult<JsonNode> again = run(call("db__query", "{\"sql\":\"select 1\"}"));

    assertThat(refused.outcome()).isEqualTo(Outcome.DISABLED);
    assertThat(refused.refusal().message()).contains("'db__query' is disabled: incident 42");
    assertThat(again.ok()).isTrue();
    assertThat(invocations).hasValue(2);
    assertThat(trail()).extracting(AuditEvent::outcome)
        .containsExactly(Outcome.ALLOWED, Outcome.DISABLED, Outcome.ALLOWED);
  }

  @Test
  void call_overTheLimit_isRefusedWithRetryAfterUntilTheBucketRefills() {
    Limits limits = Limits.of(
        List.of(LimitRule.of("per-user", Rate.parse("2/min"), LimitRule.Key.PRINCIPAL)),
        LocalRateLimiter.create(clock));
    sentinel = builder(Principal.of("ann", "developer")).limits(limits).build();

    run(call("db__query", "{}"));
    run(call("db__query", "{}"));
    CallResult<JsonNode> limited = run(call("db__query", "{}"));
    clock.advance(Duration.ofSeconds(30));
    CallResult<JsonNode> refilled = run(call("db__query", "{}"));

    assertThat(limited.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(limited.refusal().rules()).containsExactly("per-user");
    assertThat(limited.refusal().retryAfter()).isEqualTo(Duration.ofSeconds(30));
    assertThat(refilled.ok()).isTrue();
    assertThat(invocations).hasValue(3);
    assertThat(trail()).extracting(AuditEvent::rateRemaining).containsExactly(1L, 0L, 0L, 0L);
  }

  @Test
  void instance_byDefault_isTheJvmsNameWithADash_pidThenHost() {
    // Made without the management beans (a stdio gateway's start), and still the same name.
    sentinel = Sentinel.builder()
        .clock(clock)
        .authenticator(Authenticator.fixed(Principal.of("ann", "developer")))
        .policy(PolicyEngine.parse(POLICY, "policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .build();

    assertThat(sentinel.instance()).isEqualTo(
        java.lang.management.ManagementFactory.getRuntimeMXBean().getName().replace('@', '-'));
    assertThat(sentinel.instance()).startsWith(ProcessHandle.current().pid() + "-");
  }

  @Test
  void build_withAPolicyFileDeclaringLimits_appliesThemWithoutBeingToldTwice() {
    // The trap this closes: a policy file's limits: section was ignored unless a second
    // object (Limits) was wired by hand.
    sentinel = Sentinel.builder()
        .clock(clock)
        .authenticator(Authenticator.fixed(Principal.of("ann", "developer")))
        .policy(PolicyEngine.parse(POLICY + "limits:\n  - { id: per-user, rate: 2/min, per: [principal] }\n",
            "policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .build();

    run(call("db__query", "{}"));
    run(call("db__query", "{}"));
    CallResult<JsonNode> limited = run(call("db__query", "{}"));

    assertThat(limited.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(limited.refusal().rules()).containsExactly("per-user");
    assertThat(invocations).hasValue(2);
  }

  @Test
  void reconfigure_withAPolicyFile_takesItsLimitsAndRevisionTogether() {
    sentinel = builder(Principal.of("ann", "developer")).build();
    PolicyEngine limited = PolicyEngine.parse(
        POLICY + "limits:\n  - { id: one-a-minute, rate: 1/min }\n", "policy.yaml");

    sentinel.reconfigure(limited);
    run(call("db__query", "{}"));
    CallResult<JsonNode> refused = run(call("db__query", "{}"));

    assertThat(refused.refusal().rules()).containsExactly("one-a-minute");
    assertThat(sentinel.revision()).isEqualTo(limited.revision());
  }

  @Test
  void rateLimiter_keepsThePolicyFilesLimitsInTheGivenStore() {
    List<String> keys = new java.util.concurrent.CopyOnWriteArrayList<>();
    LocalRateLimiter local = LocalRateLimiter.create(clock);
    RateLimiter shared = new RateLimiter() {
      @Override
      public RateLimitResult tryAcquire(String key, Rate rate, long cost) {
        keys.add(key);
        return local.tryAcquire(key, rate, cost);
      }

      @Override
      public void refund(String key, Rate rate, long cost) {
        local.refund(key, rate, cost);
      }
    };
    sentinel = builder(Principal.of("ann", "developer"))
        .policy(PolicyEngine.parse(POLICY + "limits:\n  - { id: per-user, rate: 5/min, per: [principal] }\n",
            "policy.yaml"))
        .rateLimiter(shared)
        .build();

    run(call("db__query", "{}"));

    assertThat(keys).singleElement().asString().contains("per-user").contains("ann");
  }

  @Test
  void call_asAnApplicationsOwnUser_isDecidedAndRecordedAsThatPrincipal() {
    // One pipeline for every user of an application that authenticated them itself.
    sentinel = Sentinel.builder()
        .clock(clock)
        .policy(PolicyEngine.parse(POLICY, "policy.yaml"))
        .audit(AuditDispatcher.builder().sink(sink).build())
        .build();
    Request query = Request.toolCall("b", "db__query", JSON.readTree("{}"));

    CallResult<JsonNode> developer = run(Call.as(Principal.of("ann", "developer"), query));
    CallResult<JsonNode> reader = run(Call.as(Principal.of("bob", "readonly"), query));
    CallResult<JsonNode> anonymous = run(Call.of(Credentials.launch(), query));

    assertThat(developer.ok()).isTrue();
    assertThat(reader.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(anonymous.outcome()).isEqualTo(Outcome.UNAUTHENTICATED);
    assertThat(invocations).hasValue(1);
    assertThat(trail()).extracting(AuditEvent::principal)
        .containsExactly("ann", "bob", null);
  }

  @Test
  void call_asAPrincipalOtherThanTheSessions_isRefused() {
    sentinel = builder(Principal.of("ann", "developer")).build();
    Request query = Request.toolCall("b", "db__query", JSON.readTree("{}"));
    Call bound = new Call(Credentials.none(), query, "s-1", null, "1", "ann", List.of(),
        Principal.of("mallory", "developer"));

    assertThat(run(bound).outcome()).isEqualTo(Outcome.UNAUTHENTICATED);
    assertThat(invocations).hasValue(0);
  }

  @Test
  void build_withoutAnAuditSink_failsWhenTheDefaultLoggerWouldDropEveryEvent() {
    // No SLF4J binding means the NOP logger: the default sink would lose the trail silently.
    assertThatThrownBy(() -> Sentinel.defaultAudit(org.slf4j.helpers.NOPLogger.NOP_LOGGER))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("every audit event would be lost")
        .hasMessageContaining("JsonLinesAuditSink");
  }

  @Test
  void build_withoutAnAuditSink_writesToTheAuditLoggerWhenItWrites() {
    // slf4j-simple is bound in these tests and writes INFO
    try (Sentinel built = Sentinel.builder().build()) {
      CallResult<Void> refused = built.call(call("db__query", "{}"), request -> null);

      assertThat(refused.outcome()).isEqualTo(Outcome.UNAUTHENTICATED);
      assertThat(built.audit().flush(Duration.ofSeconds(10))).isTrue();
      assertThat(built.audit().stats().written()).isEqualTo(1);
    }
  }

  @Test
  void call_needingConfirmation_runsOnlyWhenConfirmed() {
    AtomicInteger asked = new AtomicInteger();
    sentinel = builder(Principal.of("ann", "developer"))
        .confirmer((context, decision) -> asked.incrementAndGet() == 1
            ? Confirmation.approve("ops")
            : Confirmation.reject("ops", "not during the freeze"))
        .build();

    CallResult<JsonNode> approved = run(call("billing__refund", "{\"amount\":5}"));
    CallResult<JsonNode> rejected = run(call("billing__refund", "{\"amount\":5}"));

    assertThat(approved.ok()).isTrue();
    assertThat(approved.decision().effect()).isEqualTo(Effect.CONFIRM);
    assertThat(rejected.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(rejected.refusal().message())
        .isEqualTo("not confirmed by rule payments-need-a-human: not during the freeze");
    assertThat(invocations).hasValue(1);
  }

  @Test
  void call_needingConfirmation_withoutConfirmer_isRefused() {
    sentinel = builder(Principal.of("ann", "developer")).build();

    CallResult<JsonNode> result = run(call("billing__refund", "{}"));

    assertThat(result.outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(invocations).hasValue(0);
  }

  @Test
  void call_invokerOutcomes_areEachRecordedOnce() {
    sentinel = builder(Principal.of("ann", "developer")).build();
    Call query = call("db__query", "{\"sql\":\"select 1\"}");

    CallResult<Object> failed = sentinel.call(query, r -> {
      throw new IllegalStateException("backend exploded");
    });
    CallResult<Object> timedOut = sentinel.call(query, r -> {
      throw new TimeoutException("30 s");
    });
    CallResult<Object> cancelled = sentinel.call(query, r -> {
      throw new CancellationException("client went away");
    });

    assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(failed.failure()).hasMessage("backend exploded");
    assertThat(timedOut.outcome()).isEqualTo(Outcome.TIMED_OUT);
    assertThat(cancelled.outcome()).isEqualTo(Outcome.CANCELLED);
    assertThat(trail()).extracting(AuditEvent::outcome, AuditEvent::errorClass).containsExactly(
        org.assertj.core.groups.Tuple.tuple(Outcome.FAILED, IllegalStateException.class.getName()),
        org.assertj.core.groups.Tuple.tuple(Outcome.TIMED_OUT, TimeoutException.class.getName()),
        org.assertj.core.groups.Tuple.tuple(Outcome.CANCELLED, CancellationException.class.getName()));
  }

  @Test
  void call_everyOutcome_producesExactlyOneEventWithItsId() {
    Limits limits = Limits.of(
        List.of(LimitRule.of("global", Rate.parse("3/h"))), LocalRateLimiter.create(clock));
    sentinel = builder(Principal.of("ann", "developer")).limits(limits).build();
    sentinel.killSwitch().disableTool("fs__read_secret", "");
    List<Call> calls = List.of(
        call("db__query", "{}"),
        call("db__query", "{\"sql\":\"drop table x\"}"),
        call("nope", "{}"),
        call("fs__read_secret", "{}"),
        call("billing__pay", "{}"),
        call("db__query", "{}"),
        call("db__query", "{}"));

    List<String> ids = calls.stream().map(c -> run(c).eventId()).toList();

    assertThat(trail()).extracting(AuditEvent::id).containsExactlyElementsOf(ids).doesNotHaveDuplicates();
    assertThat(sink.events()).extracting(AuditEvent::outcome).containsExactly(
        Outcome.ALLOWED, Outcome.DENIED, Outcome.DENIED, Outcome.DISABLED, Outcome.UNCONFIRMED,
        Outcome.ALLOWED, Outcome.LIMITED);
  }

  @Test
  void call_throwingAuthenticator_failsClosed() {
    sentinel = builder(Principal.of("x")).authenticator(credentials -> {
      throw new IllegalStateException("idp down");
    }).build();

    CallResult<JsonNode> result = run(call("fs__read_file", "{}"));

    assertThat(result.outcome()).isEqualTo(Outcome.UNAUTHENTICATED);
    assertThat(invocations).hasValue(0);
    assertThat(trail()).singleElement()
        .satisfies(event -> assertThat(event.errorMessage()).contains("IllegalStateException"));
  }

  @Test
  void call_throwingPolicy_failsClosedWithTheErrorInDiagnostics() {
    sentinel = builder(Principal.of("ann", "developer")).policy(context -> {
      throw new IllegalStateException("index corrupt");
    }).build();

    CallResult<JsonNode> result = run(call("fs__read_file", "{}"));

    assertThat(result.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(result.decision().diagnostics()).singleElement().asString().contains("index corrupt");
    assertThat(result.refusal().message()).doesNotContain("index corrupt").contains("policy failed");
    assertThat(invocations).hasValue(0);
    assertThat(trail()).singleElement()
        .satisfies(event -> assertThat(event.errorMessage()).contains("index corrupt"));
  }

  @Test
  void call_throwingLimiter_failsClosed() {
    RateLimiter broken = new RateLimiter() {
      @Override
      public RateLimitResult tryAcquire(String key, Rate rate, long cost) {
        throw new IllegalStateException("database gone");
      }
    };
    Limits limits = Limits.of(List.of(LimitRule.of("global", Rate.parse("10/s"))), broken);
    sentinel = builder(Principal.of("ann", "developer")).limits(limits).build();

    CallResult<JsonNode> result = run(call("db__query", "{}"));

    assertThat(result.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(invocations).hasValue(0);
  }

  @Test
  void call_throwingConfirmer_failsClosed() {
    sentinel = builder(Principal.of("ann", "developer")).confirmer((context, decision) -> {
      throw new IllegalStateException("pager down");
    }).build();

    assertThat(run(call("billing__pay", "{}")).outcome()).isEqualTo(Outcome.UNCONFIRMED);
    assertThat(invocations).hasValue(0);
  }

  @Test
  void call_throwingListener_neverBreaksTheCall() {
    sentinel = builder(Principal.of("ann", "developer"))
        .listener(event -> {
          throw new IllegalStateException("metrics broke");
        })
        .build();

    CallResult<JsonNode> result = run(call("db__query", "{}"));

    assertThat(result.ok()).isTrue();
    assertThat(sentinel.listenerFailures()).isEqualTo(1);
    assertThat(trail()).hasSize(1);
  }

  @Test
  void call_brokenAuditSinkInBlockMode_refusesUntilRepairedAndLosesNothing() {
    sentinel = builder(Principal.of("ann", "developer"))
        .audit(AuditDispatcher.builder()
            .sink(sink)
            .onSinkFailure(AuditDispatcher.OnSinkFailure.BLOCK)
            .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(5))
            .build())
        .build();
    sink.breakDown();
    CallResult<JsonNode> first = run(call("db__query", "{}"));
    Conditions.await("the dispatcher sees the sink fail", () -> !sentinel.audit().stats().healthy());

    CallResult<JsonNode> refused = run(call("db__query", "{}"));
    sink.repair();
    Conditions.await("the dispatcher sees the sink recover", () -> sentinel.audit().stats().healthy());
    CallResult<JsonNode> recovered = run(call("db__query", "{}"));

    assertThat(first.ok()).isTrue();
    assertThat(refused.outcome()).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(recovered.ok()).isTrue();
    assertThat(invocations).hasValue(2);
    assertThat(trail()).extracting(AuditEvent::id)
        .containsExactly(first.eventId(), refused.eventId(), recovered.eventId());
  }

  @Test
  void call_brokenAuditSinkInContinueMode_keepsServing() {
    sentinel = builder(Principal.of("ann", "developer"))
        .audit(AuditDispatcher.builder()
            .sink(sink)
            .onSinkFailure(AuditDispatcher.OnSinkFailure.CONTINUE)
            .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(2))
            .build())
        .build();
    sink.failNext(1);

    for (int i = 0; i < 20; i++) {
      assertThat(run(call("db__query", "{}")).ok()).isTrue();
    }
    assertThat(trail()).hasSize(20);
  }

  @Test
  void call_denial_neverLeaksArgumentsOrSecrets() {
    sentinel = builder(Principal.of("ann", "developer")).build();
    ObjectNode args = JSON.createObjectNode()
        .put("sql", "drop table x -- password=hunter2")
        .put("token", "Bearer abcdefghijklmnopqrstuvwxyz012345");

    CallResult<JsonNode> result = run(Call.of(Credentials.launch(), Request.toolCall("b", "db__query", args)));

    assertThat(result.refusal().message()).doesNotContain("hunter2", "abcdefghij", "drop table", "Exception");
    assertThat(AuditEventText.of(trail().get(0))).doesNotContain("abcdefghijklmnopqrstuvwxyz012345");
  }

  @Test
  void visible_showsOnlyWhatThePolicyCouldAllow() {
    sentinel = builder(Principal.of("unused")).build();
    Principal reader = Principal.of("rita", "readonly");
    Principal developer = Principal.of("dev", "developer");

    assertThat(sentinel.visible(reader, Request.toolCall("b", "fs__read_file", null))).isTrue();
    assertThat(sentinel.visible(reader, Request.toolCall("b", "db__query", null))).isFalse();
    assertThat(sentinel.visible(developer, Request.toolCall("b", "db__query", null))).isTrue();
    assertThat(sentinel.visible(developer, Request.toolCall("b", "billing__pay", null))).isTrue();
    sentinel.killSwitch().disableTool("db__query", "");
    assertThat(sentinel.visible(developer, Request.toolCall("b", "db__query", null))).isFalse();
  }

  @Test
  void check_answersWithoutInvokingConsumingOrAuditing() {
    Limits limits = Limits.of(
        List.of(LimitRule.of("global", Rate.parse("1/h"))), LocalRateLimiter.create(clock));
    sentinel = builder(Principal.of("ann", "developer")).limits(limits).build();

    Check allowed = sentinel.check(call("db__query", "{\"sql\":\"select 1\"}"));
    Check denied = sentinel.check(call("db__query", "{\"sql\":\"drop table x\"}"));

    assertThat(allowed.permitted()).isTrue();
    assertThat(allowed.decision().rules()).containsExactly("devs-query");
    assertThat(denied.permitted()).isFalse();
    assertThat(denied.refusal().rules()).containsExactly("no-destructive-sql");
    assertThat(run(call("db__query", "{}")).ok()).isTrue();
    assertThat(trail()).hasSize(1);
  }

  /** The audit event as the JSON Lines sink would write it. */
  static final class AuditEventText {
    static String of(AuditEvent event) {
      return dev.sentinel.core.audit.AuditEventJson.toLine(event);
    }
  }
}
