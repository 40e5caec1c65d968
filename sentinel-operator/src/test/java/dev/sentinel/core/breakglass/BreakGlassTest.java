package dev.sentinel.core.breakglass;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.notify.Notification;
import dev.sentinel.operator.BreakGlassOperations;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.core.testing.RecordingSink;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Break-glass end to end in the library: the policy's section, windows opened by an operator or
 * with a TOTP code computed here, the pipeline's decisions and tags, expiry at the edge, and the
 * hostile cases (replay, another principal's code, wrong codes, no section, TTL over the cap).
 */
class BreakGlassTest {
  private static final String POLICY = String.join("\n",
      "roles: { oncall: {}, dev: {} }",
      "rules:",
      "  - id: devs-read",
      "    allow: { roles: [dev, oncall], tools: [\"db__read\"] }",
      "  - id: no-drop",
      "    deny: { tools: [\"db__drop\"] }",
      "    reason: never drop",
      "break_glass:",
      "  max_ttl: 1h",
      "  totp_attempts: 3",
      "  totp_lockout: 10m",
      "  rules:",
      "    - id: oncall-write",
      "      allow: { roles: [oncall], tools: [\"db__write\", \"db__drop\"] }",
      "      reason: emergency writes",
      "    - id: never-truncate",
      "      deny: { tools: [\"db__read\"], when: { \"/truncate\": { equals: true } } }",
      "      reason: not even in an emergency",
      "");
  private static final Pattern SECRET = Pattern.compile("secret=([A-Z2-7]+)&");

  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-05T12:00:00Z"));
  private final RecordingSink sink = new RecordingSink();
  private final List<Notification> notified = new CopyOnWriteArrayList<>();
  private final InMemoryBreakGlassStore store = new InMemoryBreakGlassStore();
  private final BreakGlassWindows windows = BreakGlassWindows.of(store, clock, notified::add);
  private PolicyEngine policy = PolicyEngine.parse(POLICY, "policy.yaml");
  private Sentinel sentinel;

  @AfterEach
  void close() {
    if (sentinel != null) {
      sentinel.close();
    }
  }

  private BreakGlassOperations ops() {
    PolicyEngine p = policy;
    return Operations.builder().breakGlassStore(store).breakGlassSettings(p::breakGlass)
        .onBreakGlassChange(windows::refresh).notifier(notified::add).clock(clock).build()
        .breakGlass();
  }

  private Sentinel sentinel(String principal, String... roles) {
    sentinel = Sentinel.builder().clock(clock).instance("test")
        .authenticator(Authenticator.fixed(Principal.of(principal, roles)))
        .policy(policy).breakGlass(windows)
        .audit(AuditDispatcher.builder().sink(sink).build()).build();
    return sentinel;
  }

  private CallResult<JsonNode> call(String tool) {
    return call(tool, "{}");
  }

  private CallResult<JsonNode> call(String tool, String json) {
    return sentinel.call(Call.of(Credentials.launch(), Request.toolCall("db", tool,
            tools.jackson.databind.json.JsonMapper.builder().build().readTree(json))),
        request -> JsonNodeFactory.instance.objectNode().put("ok", true));
  }

  private AuditEvent last() {
    assertThat(sentinel.audit().flush(Duration.ofSeconds(10))).isTrue();
    List<AuditEvent> events = sink.events();
    return events.get(events.size() - 1);
  }

  /** The enrolled secret, read back from the URI as an authenticator app would. */
  private static byte[] secretOf(String uri) {
    Matcher m = SECRET.matcher(uri);
    assertThat(m.find()).isTrue();
    return base32Decode(m.group(1));
  }

  private static byte[] base32Decode(String text) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    byte[] out = new byte[text.length() * 5 / 8];
    int buffer = 0;
    int bits = 0;
    int n = 0;
    for (char c : text.toCharArray()) {
      buffer = (buffer << 5) | alphabet.indexOf(c);
      bits += 5;
      if (bits >= 8) {
        out[n++] = (byte) (buffer >>> (bits - 8));
        bits -= 8;
      }
    }
    return out;
  }

  private String codeNow(byte[] secret) {
    return Totp.code(secret, Totp.step(clock.instant()));
  }

  @Test
  void call_outsideAWindow_isDecidedByTheNormalRulesAlone_andNotTagged() {
    sentinel("olga", "oncall");
    assertThat(call("db__write").outcome()).isEqualTo(Outcome.DENIED);
    assertThat(last().rules()).doesNotContain(Sentinel.BREAK_GLASS);
    assertThat(call("db__read").outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(last().rules()).containsExactly("devs-read");
  }

  @Test
  void window_openedWithATotpCode_allowsTheBreakGlassRules_andTagsEveryCall() {
    sentinel("olga", "oncall");
    byte[] secret = secretOf(ops().enroll("olga"));

    BreakGlassWindow w = ops().openWithCode("olga", codeNow(secret), "db on fire", "30m");

    assertThat(w.openedBy()).isEqualTo("olga (totp)");
    assertThat(w.expires()).isEqualTo(clock.instant().plus(Duration.ofMinutes(30)));
    CallResult<JsonNode> write = call("db__write");
    assertThat(write.outcome()).isEqualTo(Outcome.ALLOWED);
    AuditEvent event = last();
    assertThat(event.rules()).containsExactly("oncall-write", Sentinel.BREAK_GLASS);
    assertThat(event.reason()).contains("break-glass window " + w.id());
    // A call the normal rules decide is tagged too: it was made inside the window.
    assertThat(call("db__read").outcome()).isEqualTo(Outcome.ALLOWED);
    assertThat(last().rules()).containsExactly("devs-read", Sentinel.BREAK_GLASS);
    assertThat(notified).extracting(Notification::type).containsExactly("break_glass.opened");
    assertThat(notified.get(0).toJson().toString()).doesNotContain(Totp.base32(secret));
  }

  @Test
  void window_breakGlassRulesComeFirst_overTheNormalDeny_andTheirDenyOverTheNormalAllow() {
    sentinel("olga", "oncall");
    ops().open("olga", "restore from backup", "10m", "ops-lead");

    assertThat(call("db__drop").outcome()).isEqualTo(Outcome.ALLOWED);
    CallResult<JsonNode> truncate = call("db__read", "{\"truncate\":true}");
    assertThat(truncate.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(truncate.refusal().rules()).containsExactly("never-truncate", Sentinel.BREAK_GLASS);
    assertThat(truncate.refusal().reason()).endsWith("not even in an emergency");
    // Deny by default stays: nothing allows another tool.
    assertThat(call("fs__rm").outcome()).isEqualTo(Outcome.DENIED);
    assertThat(last().rules()).containsExactly(Sentinel.BREAK_GLASS);
  }

  @Test
  void window_theKillSwitchStillWins() {
    sentinel("olga", "oncall");
    ops().open("olga", "restore", "10m", "ops-lead");
    sentinel.killSwitch().disablePrincipal("olga", "compromised");
    assertThat(call("db__write").outcome()).isEqualTo(Outcome.DISABLED);
  }

  @Test
  void window_atItsExpiryExactly_isClosed_andThenAnnouncedClosedOnce() {
    sentinel("olga", "oncall");
    BreakGlassWindow w = ops().open("olga", "restore", "30m", "ops-lead");
    clock.advance(Duration.ofMinutes(30).minusNanos(1));
    assertThat(call("db__write").outcome()).isEqualTo(Outcome.ALLOWED);

    clock.advance(Duration.ofNanos(1));

    assertThat(clock.instant()).isEqualTo(w.expires());
    assertThat(call("db__write").outcome()).isEqualTo(Outcome.DENIED);
    assertThat(last().rules()).doesNotContain(Sentinel.BREAK_GLASS);
    windows.refresh();
    windows.refresh();
    assertThat(notified).extracting(Notification::type)
        .containsExactly("break_glass.opened", "break_glass.closed");
    assertThat(store.find(w.id()).orElseThrow().closedBy()).isEqualTo(BreakGlassWindow.EXPIRY);
    assertThat(ops().list(false, 10)).isEmpty();
  }

  @Test
  void window_closedEarlyByAnOperator_endsAtOnce() {
    sentinel("olga", "oncall");
    BreakGlassWindow w = ops().open("olga", "restore", "30m", "ops-lead");
    BreakGlassWindow closed = ops().close(w.id(), "ops-lead");
    assertThat(closed.closedBy()).isEqualTo("ops-lead");
    assertThat(call("db__write").outcome()).isEqualTo(Outcome.DENIED);
    assertThatThrownBy(() -> ops().close(w.id(), "ops-lead")).isInstanceOf(OperatorException.class)
        .hasMessageContaining("closed already");
    assertThatThrownBy(() -> ops().close("nosuchwindow", "x"))
        .satisfies(e -> assertThat(((OperatorException) e).kind())
            .isEqualTo(OperatorException.Kind.NOT_FOUND));
    assertThat(notified).extracting(Notification::type)
        .containsExactly("break_glass.opened", "break_glass.closed");
  }

  @Test
  void openWithCode_aReplayedCode_isRefused_evenAfterTheWindowClosed() {
    byte[] secret = secretOf(ops().enroll("olga"));
    String code = codeNow(secret);
    BreakGlassWindow w = ops().openWithCode("olga", code, "first", "5m");
    ops().close(w.id(), "ops-lead");

    assertThatThrownBy(() -> ops().openWithCode("olga", code, "again", "5m"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("not accepted");
    // The next step's code is good.
    clock.advance(Duration.ofSeconds(30));
    assertThat(ops().openWithCode("olga", codeNow(secret), "again", "5m").principal())
        .isEqualTo("olga");
  }

  @Test
  void openWithCode_anotherPrincipalsCode_isRefused() {
    byte[] olga = secretOf(ops().enroll("olga"));
    secretOf(ops().enroll("mallory"));
    assertThatThrownBy(() -> ops().openWithCode("mallory", codeNow(olga), "mine now", "5m"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("not accepted");
    assertThat(store.unclosed()).isEmpty();
  }

  @Test
  void openWithCode_withoutEnrolment_isRefused() {
    assertThatThrownBy(() -> ops().openWithCode("olga", "123456", "why", "5m"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("no TOTP secret enrolled");
  }

  @Test
  void openWithCode_tooManyWrongCodes_locksOut_evenTheRightCode_untilTheLockoutEnds() {
    byte[] secret = secretOf(ops().enroll("olga"));
    String right = codeNow(secret);
    String wrong = right.equals("000000") ? "000001" : "000000";
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> ops().openWithCode("olga", wrong, "why", "5m"))
          .isInstanceOf(OperatorException.class);
    }
    assertThatThrownBy(() -> ops().openWithCode("olga", right, "why", "5m"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("too many wrong codes");
    assertThat(notified).extracting(Notification::type).containsExactly("break_glass.lockout");

    clock.advance(Duration.ofMinutes(10));
    assertThat(ops().openWithCode("olga", codeNow(secret), "why", "5m")).isNotNull();
  }

  @Test
  void open_withoutABreakGlassSection_isRefusedWithTheReason() {
    policy = PolicyEngine.parse("rules: []\n", "policy.yaml");
    assertThatThrownBy(() -> ops().open("olga", "why", "5m", "ops-lead"))
        .isInstanceOf(OperatorException.class)
        .hasMessageContaining("no 'break_glass:' section")
        .satisfies(e -> assertThat(((OperatorException) e).kind())
            .isEqualTo(OperatorException.Kind.UNSUPPORTED));
    byte[] secret = secretOf(ops().enroll("olga"));
    assertThatThrownBy(() -> ops().openWithCode("olga", codeNow(secret), "why", "5m"))
        .hasMessageContaining("no 'break_glass:' section");
    assertThat(store.unclosed()).isEmpty();
  }

  @Test
  void open_aTtlOverTheCap_isRefused_notShortened() {
    assertThatThrownBy(() -> ops().open("olga", "why", "61m", "ops-lead"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("max_ttl (1h)");
    assertThat(ops().open("olga", "why", null, "ops-lead").expires())
        .isEqualTo(clock.instant().plus(Duration.ofHours(1)));
  }

  @Test
  void open_withoutAReason_orTwiceForOnePrincipal_isRefused() {
    assertThatThrownBy(() -> ops().open("olga", "  ", "5m", "ops-lead"))
        .hasMessageContaining("needs a reason");
    assertThatThrownBy(() -> ops().open("olga", "why", "5m", null))
        .hasMessageContaining("operator");
    ops().open("olga", "why", "5m", "ops-lead");
    assertThatThrownBy(() -> ops().open("olga", "again", "5m", "ops-lead"))
        .hasMessageContaining("has an open break-glass window");
  }

  @Test
  void enroll_showsTheSecretOnce_asAnOtpauthUri_andReplacesTheOldSecret() {
    String first = ops().enroll("olga");
    URI uri = URI.create(first);
    assertThat(uri.getScheme()).isEqualTo("otpauth");
    assertThat(first).startsWith("otpauth://totp/Sentinel:olga?secret=").contains("issuer=Sentinel");
    byte[] old = secretOf(first);
    ops().enroll("olga");
    assertThatThrownBy(() -> ops().openWithCode("olga", codeNow(old), "why", "5m"))
        .hasMessageContaining("not accepted");
  }

  @Test
  void policy_breakGlassSection_isCheckedLikeTheRest() {
    assertThatThrownBy(() -> PolicyEngine.parse(String.join("\n",
        "rules:", "  - { id: a, allow: { tools: [x] } }",
        "break_glass:", "  max_ttl: 2d", "  rules:", "    - { id: a, allow: { tools: [y] } }",
        "    - { id: break_glass, allow: { tools: [y] } }", "  ttl: 1h", ""), "p.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("1m to 24h")
        .hasMessageContaining("duplicate rule id 'a'")
        .hasMessageContaining("'break_glass' is reserved")
        .hasMessageContaining("ttl");
    PolicyEngine empty = PolicyEngine.parse("break_glass: {}\n", "p.yaml");
    assertThat(empty.breakGlass()).hasValue(
        dev.sentinel.core.policy.BreakGlassSettings.DEFAULTS);
    assertThat(PolicyEngine.parse("rules: []\n", "p.yaml").breakGlass()).isEmpty();
  }

  @Test
  void visible_inAWindow_listsWhatTheBreakGlassRulesAllow() {
    sentinel("olga", "oncall");
    Principal olga = Principal.of("olga", "oncall");
    Request write = Request.toolCall("db", "db__write", JsonNodeFactory.instance.objectNode());
    assertThat(sentinel.visible(olga, write)).isFalse();
    ops().open("olga", "restore", "5m", "ops-lead");
    assertThat(sentinel.visible(olga, write)).isTrue();
    assertThat(sentinel.visible(Principal.of("dan", "oncall"), write)).isFalse();
  }
}
