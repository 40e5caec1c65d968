package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigReaderTest {

  private static ConfigReader reader(String yaml) {
    return new ConfigReader(YamlDocument.parse(yaml, "c.yaml"));
  }

  @Test
  void checkKeys_reportsEachUnknownKeyWithSuggestion() {
    ConfigReader in = reader("alow: 1\ndney: 2\nid: x\nzzz: 3\n");
    assertThat(in.checkKeys("", null, List.of("allow", "deny", "id"))).isTrue();
    assertThat(in.problems()).extracting(Object::toString).containsExactly(
        "c.yaml:1:1: at /alow: unknown key 'alow' (expected one of allow, deny, id); did you "
            + "mean 'allow'?",
        "c.yaml:2:1: at /dney: unknown key 'dney' (expected one of allow, deny, id); did you "
            + "mean 'deny'?",
        "c.yaml:4:1: at /zzz: unknown key 'zzz' (expected one of allow, deny, id); remove it or "
            + "fix its spelling");
  }

  @Test
  void checkKeys_notAMapping() {
    ConfigReader in = reader("a: [1]\n");
    assertThat(in.checkKeys("/a", "thing", List.of("x"))).isFalse();
    assertThat(in.problems().get(0).message()).isEqualTo("expected a mapping of x, got a list");
  }

  @Test
  void names_acceptsSingleStringAndRejectsMap() {
    ConfigReader in = reader("one: a\nmany: [a, 2, true]\nmap: { a: 1 }\nnested: [a, [b]]\n");
    assertThat(in.names("/one", null, "names")).containsExactly("a");
    assertThat(in.names("/many", null, "names")).containsExactly("a", "2", "true");
    assertThat(in.hasErrors()).isFalse();
    assertThat(in.names("/map", null, "names")).isEmpty();
    assertThat(in.names("/nested", null, "names")).containsExactly("a");
    assertThat(in.problems()).extracting(ConfigException.Problem::message).containsExactly(
        "expected a list of names (or a single one), got a mapping",
        "expected names, got a list");
  }

  @Test
  void string_andPresent() {
    ConfigReader in = reader("s: text\nn: 5\nl: []\nz:\n");
    assertThat(in.string("/s", null, "text")).isEqualTo("text");
    assertThat(in.string("/n", null, "text")).isEqualTo("5");
    assertThat(in.string("/l", null, "text")).isNull();
    assertThat(in.present("/z", "x", false)).isFalse();
    assertThat(in.present("/missing", "x", true)).isFalse();
    assertThat(in.problems()).extracting(ConfigException.Problem::message).containsExactly(
        "expected text, got a list", "missing required key 'missing'");
  }

  @Test
  void positiveLong_acceptsNumbersAndDigitStrings() {
    ConfigReader in = reader("a: 5\nb: \"7\"\nc: 0\nd: x\ne: 1.5\n");
    assertThat(in.positiveLong("/a", null, "n")).hasValue(5);
    assertThat(in.positiveLong("/b", null, "n")).hasValue(7);
    assertThat(in.positiveLong("/c", null, "n")).isEmpty();
    assertThat(in.positiveLong("/d", null, "n")).isEmpty();
    assertThat(in.positiveLong("/e", null, "n")).isEmpty();
    assertThat(in.problems()).hasSize(3);
  }

  @Test
  void throwIfErrors_sortsByLineAndReportsAll() {
    ConfigReader in = reader("a: 1\nb: 2\nc: 3\n");
    in.throwIfErrors();
    in.error("/c", null, "third");
    in.error("/a", "the a", "first");
    ConfigException e = catchThrowableOfType(ConfigException.class, in::throwIfErrors);
    assertThat(e.getMessage()).isEqualTo(
        "2 problems in c.yaml:\n  c.yaml:1:1: the a: first\n  c.yaml:3:1: at /c: third");
    assertThat(e.line()).isEqualTo(1);
  }

  @Test
  void describe_namesNodeKinds() {
    YamlDocument doc = YamlDocument.parse("a: {}\nb: []\nc: x\nd: 5\ne:\n", "d.yaml");
    assertThat(ConfigReader.describe(doc.at("/a"))).isEqualTo("a mapping");
    assertThat(ConfigReader.describe(doc.at("/b"))).isEqualTo("a list");
    assertThat(ConfigReader.describe(doc.at("/c"))).isEqualTo("the text 'x'");
    assertThat(ConfigReader.describe(doc.at("/d"))).isEqualTo("5");
    assertThat(ConfigReader.describe(doc.at("/e"))).isEqualTo("null (an empty value)");
    assertThat(ConfigReader.describe(doc.at("/f"))).isEqualTo("nothing");
  }
}
