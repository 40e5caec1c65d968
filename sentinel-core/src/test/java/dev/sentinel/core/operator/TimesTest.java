package dev.sentinel.core.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimesTest {
  private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

  @Test
  void duration_takesTheConfigFilesForms() {
    assertThat(Times.duration("--older-than", "500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Times.duration("--older-than", "90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Times.duration("--older-than", "15m")).isEqualTo(Duration.ofMinutes(15));
    assertThat(Times.duration("--older-than", "12h")).isEqualTo(Duration.ofHours(12));
    assertThat(Times.duration("--older-than", " 30d ")).isEqualTo(Duration.ofDays(30));
  }

  @Test
  void duration_thatIsZeroOrNotOne_isRefusedNamingTheField() {
    assertThatThrownBy(() -> Times.duration("--older-than", "0d"))
        .isInstanceOf(OperatorException.class).hasMessageContaining("--older-than")
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> Times.duration("'older_than'", "a while"))
        .isInstanceOf(OperatorException.class)
        .hasMessageStartingWith("'older_than': 'a while' is not a duration");
  }

  @Test
  void instant_takesAnInstantALocalDateTimeInUtcOrADate() {
    assertThat(Times.instant("f", "2026-03-01T12:00:00Z"))
        .isEqualTo(Instant.parse("2026-03-01T12:00:00Z"));
    assertThat(Times.instant("f", "2026-03-01T12:00"))
        .isEqualTo(Instant.parse("2026-03-01T12:00:00Z"));
    assertThat(Times.instant("f", "2026-03-01")).isEqualTo(Instant.parse("2026-03-01T00:00:00Z"));
  }

  @Test
  void time_readsADurationAgoOrAheadOfNow() {
    assertThat(Times.time("--from", "24h", NOW, Times.Direction.AGO))
        .isEqualTo(Instant.parse("2026-12-04T12:00:00Z"));
    assertThat(Times.time("--expires", "30d", NOW, Times.Direction.AHEAD))
        .isEqualTo(Instant.parse("2027-01-04T12:00:00Z"));
    assertThat(Times.time("--expires", "2027-01-01", NOW, Times.Direction.AHEAD))
        .isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
  }

  @Test
  void time_thatIsNeither_saysEveryAcceptedForm() {
    assertThatThrownBy(() -> Times.time("'since'", "yesterday", NOW, Times.Direction.AGO))
        .isInstanceOf(OperatorException.class)
        .hasMessageContaining("'since': 'yesterday' is neither a time")
        .hasMessageContaining("2026-03-01T12:00:00Z").hasMessageContaining("30d")
        .hasMessageEndingWith(" ago")
        .extracting(e -> ((OperatorException) e).kind())
        .isEqualTo(OperatorException.Kind.INVALID);
  }

  @Test
  void format_isUtcToTheSecondAndADashForNone() {
    assertThat(Times.format(Instant.parse("2026-03-01T12:00:00.123456Z")))
        .isEqualTo("2026-03-01T12:00:00Z");
    assertThat(Times.format(null)).isEqualTo("-");
  }
}
