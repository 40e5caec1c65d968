package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Rate;
import dev.sentinel.api.Request;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.limit.LimitRule;
import dev.sentinel.core.limit.LimitSync;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LimitsTest {

  @Test
  void limits_parsedIntoLimitRules() {
    PolicyEngine engine = PolicyEngine.parse("roles:\n  admin: { inherits: [developer] }\n"
        + "  developer: {}\nlimits:\n"
        + "  - id: per-user\n    description: sixty a minute\n    rate: 60/min\n"
        + "    burst: 100\n    per: [principal, Tool]\n    tools: [\"db__*\"]\n    cost: 2\n"
        + "  - id: global\n    rate: 10/10s\n"
        + "  - id: devs\n    rate: 5/s\n    roles: developer\n    backends: [db]\n"
        + "    principals: [bob]\n    methods: [\"tools/call\", \"resources/read\"]\n",
        "l.yaml");
    List<LimitRule> limits = engine.limits();
    assertThat(limits).extracting(LimitRule::id).containsExactly("per-user", "global", "devs");

    LimitRule perUser = limits.get(0);
    assertThat(perUser.rate()).isEqualTo(new Rate(60, Duration.ofMinutes(1), 100));
    assertThat(perUser.per()).containsExactlyInAnyOrder(LimitRule.Key.PRINCIPAL,
        LimitRule.Key.TOOL);
    assertThat(perUser.tools()).containsExactly(Glob.name("db__*"));
    assertThat(perUser.cost()).isEqualTo(2);
    assertThat(perUser.methods()).containsExactly(Request.TOOLS_CALL);

    LimitRule global = limits.get(1);
    assertThat(global.rate()).isEqualTo(Rate.of(10, Duration.ofSeconds(10)));
    assertThat(global.per()).isEmpty();
    assertThat(global.cost()).isEqualTo(1);

    LimitRule devs = limits.get(2);
    assertThat(devs.roles()).isEqualTo(Set.of("developer", "admin"));
    assertThat(devs.backends()).containsExactly("db");
    assertThat(devs.principals()).containsExactly("bob");
    assertThat(devs.methods()).containsExactlyInAnyOrder("tools/call", "resources/read");
  }

  @Test
  void limits_roleFilterAppliesToInheritingRoles() {
    PolicyEngine engine = PolicyEngine.parse("roles:\n  admin: { inherits: [developer] }\n"
        + "  developer: {}\n  guest: {}\nlimits:\n  - { id: devs, rate: 5/s, roles: [developer] }\n",
        "l.yaml");
    LimitRule devs = engine.limits().get(0);
    Request call = Request.toolCall("b", "t", null);
    assertThat(devs.appliesTo(Principal.of("a", "admin"), call)).isTrue();
    assertThat(devs.appliesTo(Principal.of("d", "developer"), call)).isTrue();
    assertThat(devs.appliesTo(Principal.of("g", "guest"), call)).isFalse();
  }

  @Test
  void limits_perRole_isParsed() {
    PolicyEngine engine = PolicyEngine.parse("roles:\n  developer: {}\nlimits:\n"
        + "  - { id: team, rate: 100/min, per: role, methods: [llm/chat] }\n", "l.yaml");
    assertThat(engine.limits().get(0).per()).containsExactly(LimitRule.Key.ROLE);
  }

  @Test
  void limits_absentIsEmpty() {
    assertThat(PolicyEngine.parse("rules: []\n", "l.yaml").limits()).isEmpty();
  }

  @Test
  void limits_ownSync_overridesTheDefaultForThatLimitAlone() {
    PolicyEngine engine = PolicyEngine.parse("limits:\n"
        + "  - { id: payments, rate: 10/min, sync: exact }\n"
        + "  - { id: reads, rate: 1000/s, sync: \"batched(50)\" }\n"
        + "  - { id: search, rate: 100/s, sync: \"delayed(200ms)\" }\n"
        + "  - { id: other, rate: 5/s }\n", "l.yaml");

    assertThat(engine.limits()).extracting(LimitRule::sync).containsExactly(LimitSync.exact(),
        LimitSync.batched(50), LimitSync.delayed(Duration.ofMillis(200)), null);
  }

  @Test
  void limits_syncOutOfRange_isAnErrorNamingTheLimit() {
    assertThatThrownBy(() -> PolicyEngine.parse(
        "limits:\n  - { id: reads, rate: 1000/s, sync: \"batched(0)\" }\n", "l.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("limit 'reads'")
        .hasMessageContaining("batched(N) needs N between 1 and 1000000");
  }

  @Test
  void limits_syncNotAMode_isAnErrorSayingWhatIsExpected() {
    assertThatThrownBy(() -> PolicyEngine.parse(
        "limits:\n  - { id: reads, rate: 1000/s, sync: 20 }\n", "l.yaml"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("limit 'reads'")
        .hasMessageContaining("expected exact, batched(N)");
  }
}
