package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Effect;
import dev.sentinel.api.Principal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimeWindowTest {

  private static boolean allowedAt(String during, String instant) {
    PolicyEngine engine = PolicyEngine.parse("rules:\n  - id: office\n    allow:\n"
        + "      tools: [t]\n      during: " + during + "\n", "t.yaml");
    return engine.decide(Requests.at(Requests.tool(Principal.of("p"), "t"),
        Instant.parse(instant))).effect() == Effect.ALLOW;
  }

  @Test
  void during_officeHoursInZone() {
    String office = "{ days: [mon-fri], hours: \"09:00-18:00\", zone: Europe/Berlin }";
    // Monday 2025-01-06: Berlin is UTC+1 in winter.
    assertThat(allowedAt(office, "2025-01-06T08:00:00Z")).isTrue();
    assertThat(allowedAt(office, "2025-01-06T07:59:59Z")).isFalse();
    assertThat(allowedAt(office, "2025-01-06T16:59:00Z")).isTrue();
    assertThat(allowedAt(office, "2025-01-06T17:00:00Z")).isFalse();
    // Saturday.
    assertThat(allowedAt(office, "2025-01-11T10:00:00Z")).isFalse();
    // Summer time: UTC+2.
    assertThat(allowedAt(office, "2025-07-07T07:00:00Z")).isTrue();
    assertThat(allowedAt(office, "2025-07-07T06:59:00Z")).isFalse();
  }

  @Test
  void during_defaultsToUtcAndEveryDay() {
    assertThat(allowedAt("{ hours: \"09:00-10:00\" }", "2025-01-11T09:30:00Z")).isTrue();
    assertThat(allowedAt("{ hours: \"09:00-10:00\" }", "2025-01-11T10:00:00Z")).isFalse();
    assertThat(allowedAt("{ days: [sat, sun] }", "2025-01-11T23:59:00Z")).isTrue();
    assertThat(allowedAt("{ days: [sat, sun] }", "2025-01-13T00:00:00Z")).isFalse();
  }

  @Test
  void during_hoursAcrossMidnight() {
    String night = "{ hours: \"22:00-06:00\" }";
    assertThat(allowedAt(night, "2025-01-06T23:00:00Z")).isTrue();
    assertThat(allowedAt(night, "2025-01-06T05:59:00Z")).isTrue();
    assertThat(allowedAt(night, "2025-01-06T06:00:00Z")).isFalse();
    assertThat(allowedAt(night, "2025-01-06T12:00:00Z")).isFalse();
  }

  @Test
  void during_dayNamesRangesAndWrap() {
    assertThat(allowedAt("{ days: \"fri-mon\" }", "2025-01-05T12:00:00Z")).isTrue();
    assertThat(allowedAt("{ days: \"fri-mon\" }", "2025-01-07T12:00:00Z")).isFalse();
    assertThat(allowedAt("{ days: [Monday] }", "2025-01-06T12:00:00Z")).isTrue();
    assertThat(allowedAt("{ hours: \"00:00-24:00\", days: [tue] }", "2025-01-07T23:59:59Z"))
        .isTrue();
  }

  @Test
  void during_beforeEpochStillComputesDays() {
    // 1969-12-29 was a Monday.
    assertThat(allowedAt("{ days: [mon] }", "1969-12-29T10:00:00Z")).isTrue();
    assertThat(allowedAt("{ days: [mon] }", "1969-12-31T10:00:00Z")).isFalse();
  }

  @Test
  void explain_namesLocalTimeAndWindow() {
    PolicyEngine engine = PolicyEngine.parse("rules:\n  - id: office\n    allow:\n"
        + "      tools: [t]\n      during: { days: [mon-fri], hours: \"09:00-18:00\", "
        + "zone: Europe/Berlin }\n", "t.yaml");
    var trace = engine.explain(Requests.at(Requests.tool(Principal.of("p"), "t"),
        Instant.parse("2025-01-11T10:00:00Z"))).rules().get(0);
    assertThat(trace.matched()).isFalse();
    assertThat(trace.why()).isEqualTo(
        "time Sat 11:00 Europe/Berlin is outside mon,tue,wed,thu,fri 09:00-18:00 Europe/Berlin");
  }
}
