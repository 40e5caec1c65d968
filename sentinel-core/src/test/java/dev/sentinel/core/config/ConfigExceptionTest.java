package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.SentinelException;
import dev.sentinel.core.config.ConfigException.Problem;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigExceptionTest {

  @Test
  void getMessage_singleProblem() {
    ConfigException e = new ConfigException(new Problem("policy.yaml", 12, 5,
        "/rules/3/alow", "rule 'devs-write'", "unknown key 'alow'"));
    assertThat(e).isInstanceOf(SentinelException.class);
    assertThat(e.getMessage()).isEqualTo("policy.yaml:12:5: rule 'devs-write': unknown key 'alow'");
    assertThat(e.source()).isEqualTo("policy.yaml");
    assertThat(e.line()).isEqualTo(12);
    assertThat(e.column()).isEqualTo(5);
    assertThat(e.path()).isEqualTo("/rules/3/alow");
    assertThat(e.subject()).isEqualTo("rule 'devs-write'");
  }

  @Test
  void getMessage_unknownLocationAndNoSubject() {
    assertThat(new Problem("x.yaml", 0, 0, "", null, "cannot read").toString())
        .isEqualTo("x.yaml: cannot read");
    assertThat(new Problem("x.yaml", 3, 0, "/a", null, "bad").toString())
        .isEqualTo("x.yaml:3: at /a: bad");
  }

  @Test
  void getMessage_severalProblemsEachOnALine() {
    ConfigException e = new ConfigException(List.of(
        new Problem("p.yaml", 1, 1, "/a", null, "one"),
        new Problem("p.yaml", 2, 3, "/b", "rule 'b'", "two")));
    assertThat(e.getMessage()).isEqualTo(
        "2 problems in p.yaml:\n  p.yaml:1:1: at /a: one\n  p.yaml:2:3: rule 'b': two");
    assertThat(e.problems()).hasSize(2);
  }

  @Test
  void constructor_needsAProblem() {
    assertThatThrownBy(() -> new ConfigException(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Problem("p", -1, 0, "", null, "m"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
