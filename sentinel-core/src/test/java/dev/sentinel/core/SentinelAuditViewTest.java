package dev.sentinel.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.AuditMode;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A call with an {@link AuditView}: the trail shows the view, never the arguments, whatever the
 * outcome, with the whole arguments' digest; an invoker that throws {@link RefusedException}
 * is recorded as refused.
 */
class SentinelAuditViewTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String POLICY = "rules:\n  - id: gpt\n    allow: { models: [gpt-4o] }\n";
  private final RecordingSink sink = new RecordingSink();
  private final Redactor redactor = Redactor.defaults();
  private Sentinel sentinel;

  @AfterEach
  void close() {
    sentinel.close();
  }

  private Sentinel sentinel(AuditMode mode) {
    sentinel = Sentinel.builder().clock(new ManualClock()).instance("test")
        .authenticator(Authenticator.fixed(Principal.of("alice")))
        .policy(PolicyEngine.parse(POLICY, "p.yaml")).redactor(redactor).auditMode(mode)
        .audit(AuditDispatcher.builder().sink(sink).build()).build();
    return sentinel;
  }

  private static Call chat(String model) {
    JsonNode body = JSON.readTree("{\"model\":\"" + model + "\",\"messages\":[{\"content\":\"the secret prompt\"}]}");
    return Call.of(Credentials.launch(), new Request(Request.LLM_CHAT, "openai", model, body));
  }

  private static final class View implements AuditView {
    final AtomicInteger asked = new AtomicInteger();

    @Override
    public JsonNode arguments(Request request) {
      asked.incrementAndGet();
      return JSON.createObjectNode().put("model", request.name()).put("tokens", 17);
    }

    @Override
    public long responseSize() {
      return 42;
    }

    @Override
    public String responseDigest() {
      return "hmac-sha256:00000000:ab";
    }
  }

  private List<AuditEvent> trail() {
    assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
    return sink.events();
  }

  @Test
  void allowedAndDenied_showTheViewNotTheArguments() {
    sentinel(AuditMode.ASYNC);
    View view = new View();
    assertThat(sentinel.call(chat("gpt-4o"), r -> "ok", view).ok()).isTrue();
    assertThat(sentinel.call(chat("o1"), r -> "ok", view).outcome()).isEqualTo(Outcome.DENIED);

    List<AuditEvent> trail = trail();
    assertThat(trail).hasSize(2);
    for (AuditEvent event : trail) {
      assertThat(event.arguments().toString()).doesNotContain("secret").contains("\"tokens\":17");
    }
    assertThat(trail.get(0).argumentsDigest())
        .isEqualTo(redactor.digestKey().digest(chat("gpt-4o").request().arguments()).digest());
    assertThat(trail.get(0).responseSize()).isEqualTo(42);
  }

  @Test
  void invokerThatRefuses_isRecordedAsRefused() {
    sentinel(AuditMode.ASYNC);
    CallResult<String> result = sentinel.call(chat("gpt-4o"), r -> {
      throw new RefusedException(new Refusal(Outcome.LIMITED, List.of("daily"), "no tokens left",
          Duration.ofSeconds(30)));
    }, new View());
    assertThat(result.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(result.refusal().retryAfter()).isEqualTo(Duration.ofSeconds(30));
    AuditEvent event = trail().get(0);
    assertThat(event.outcome()).isEqualTo(Outcome.LIMITED);
    assertThat(event.rules()).containsExactly("daily");
  }

  @Test
  void refuse_withAView_showsTheView() {
    sentinel(AuditMode.ASYNC);
    sentinel.refuse(chat("nope"), Refusal.of(Outcome.DENIED, List.of(), "unknown model"), new View());
    assertThat(trail().get(0).arguments().toString()).doesNotContain("secret");
  }
}
