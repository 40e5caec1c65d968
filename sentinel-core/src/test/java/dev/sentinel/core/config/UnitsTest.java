package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class UnitsTest {

  @Test
  void parseDuration_everyUnit() {
    assertThat(Units.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Units.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Units.parseDuration(" 5m ")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Units.parseDuration("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Units.parseDuration("30d")).isEqualTo(Duration.ofDays(30));
    assertThat(Units.parseDuration("0s")).isEqualTo(Duration.ZERO);
  }

  @Test
  void parseDuration_rejectsBareNumbersAndUnknownUnits() {
    for (String bad : new String[] {"30", "10 sec", "1w", "1D", "-5s", "1.5s", "", "s", "1h30m"}) {
      assertThatThrownBy(() -> Units.parseDuration(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("expected a duration such as 500ms, 30s, 5m or 1h");
    }
  }

  @Test
  void parseSize_everyUnit() {
    assertThat(Units.parseSize("4MiB")).isEqualTo(4L * 1024 * 1024);
    assertThat(Units.parseSize("512KiB")).isEqualTo(512L * 1024);
    assertThat(Units.parseSize("1GiB")).isEqualTo(1024L * 1024 * 1024);
    assertThat(Units.parseSize("100B")).isEqualTo(100);
    assertThat(Units.parseSize("65536")).isEqualTo(65536);
  }

  @Test
  void parseSize_decimalUnitsGetAHint() {
    assertThatThrownBy(() -> Units.parseSize("4MB"))
        .hasMessageContaining("write KiB, MiB or GiB");
    assertThatThrownBy(() -> Units.parseSize("4 mib"))
        .hasMessageContaining("expected a size such as 4MiB");
    assertThatThrownBy(() -> Units.parseSize("-1")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void format_largestExactUnit() {
    assertThat(Units.formatDuration(Duration.ofHours(2))).isEqualTo("2h");
    assertThat(Units.formatDuration(Duration.ofHours(48))).isEqualTo("2d");
    assertThat(Units.formatDuration(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(Units.formatDuration(Duration.ofMinutes(5))).isEqualTo("5m");
    assertThat(Units.formatDuration(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(Units.formatSize(4L * 1024 * 1024)).isEqualTo("4MiB");
    assertThat(Units.formatSize(1536L * 1024)).isEqualTo("1536KiB");
    assertThat(Units.formatSize(100)).isEqualTo("100B");
  }

  @Test
  void formatThenParse_roundTrips() {
    for (String text : new String[] {"500ms", "30s", "5m", "1h", "90s", "30d"}) {
      assertThat(Units.formatDuration(Units.parseDuration(text))).isEqualTo(text);
    }
    for (String text : new String[] {"4MiB", "512KiB", "1GiB", "100B"}) {
      assertThat(Units.formatSize(Units.parseSize(text))).isEqualTo(text);
    }
  }
}
