package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.config.YamlDocument.Location;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JsonPointer;

class YamlDocumentTest {
  private static final String TEXT = "roles:\n"
      + "  admin: { inherits: [dev] }\n"
      + "rules:\n"
      + "  - id: x\n"
      + "    allow:\n"
      + "      tools: [a, b]\n"
      + "      when:\n"
      + "        \"/p\": { glob: \"/w/**\" }\n";

  @Test
  void parse_buildsJacksonTree() {
    YamlDocument doc = YamlDocument.parse(TEXT, "p.yaml");
    assertThat(doc.root().at("/rules/0/allow/tools/1").stringValue()).isEqualTo("b");
    assertThat(doc.at("/roles/admin/inherits/0").stringValue()).isEqualTo("dev");
    assertThat(doc.source()).isEqualTo("p.yaml");
    assertThat(doc.text()).isEqualTo(TEXT);
  }

  @Test
  void location_ofKeysAndElements() {
    YamlDocument doc = YamlDocument.parse(TEXT, "p.yaml");
    assertThat(doc.location("")).isEqualTo(new Location(1, 1));
    assertThat(doc.location("/roles/admin")).isEqualTo(new Location(2, 3));
    assertThat(doc.location("/roles/admin/inherits/0")).isEqualTo(new Location(2, 23));
    assertThat(doc.location("/rules/0")).isEqualTo(new Location(4, 5));
    assertThat(doc.location("/rules/0/allow")).isEqualTo(new Location(5, 5));
    assertThat(doc.location("/rules/0/allow/tools/1")).isEqualTo(new Location(6, 18));
    assertThat(doc.location("/rules/0/allow/when/~1p/glob")).isEqualTo(new Location(8, 17));
    assertThat(doc.location(JsonPointer.compile("/rules/0/allow/when/~1p")))
        .isEqualTo(new Location(8, 9));
  }

  @Test
  void location_ofMissingNodeIsNearestAncestor() {
    YamlDocument doc = YamlDocument.parse(TEXT, "p.yaml");
    assertThat(doc.location("/rules/0/allow/nothing/here")).isEqualTo(new Location(5, 5));
    assertThat(doc.location("/nope")).isEqualTo(new Location(1, 1));
  }

  @Test
  void parse_emptyDocumentIsEmptyMapping() {
    YamlDocument doc = YamlDocument.parse("# nothing\n", "e.yaml");
    assertThat(doc.root().isObject()).isTrue();
    assertThat(doc.root().isEmpty()).isTrue();
  }

  @Test
  void parse_scalarTypes() {
    YamlDocument doc = YamlDocument.parse(
        "i: 5\nf: 1.5\nb: true\nn: null\ns: \"5\"\nt: 09:00\nbig: 123456789012345678901\n",
        "s.yaml");
    assertThat(doc.at("/i").isIntegralNumber()).isTrue();
    assertThat(doc.at("/f").isFloatingPointNumber()).isTrue();
    assertThat(doc.at("/b").isBoolean()).isTrue();
    assertThat(doc.at("/n").isNull()).isTrue();
    assertThat(doc.at("/s").isString()).isTrue();
    assertThat(doc.at("/t").stringValue()).isEqualTo("09:00");
    assertThat(doc.at("/big").isIntegralNumber()).isTrue();
  }

  @Test
  void parse_syntaxErrorIsLocated() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> YamlDocument.parse("a:\n  b: 1\n c: 2\n", "bad.yaml"));
    assertThat(e.source()).isEqualTo("bad.yaml");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).startsWith("bad.yaml:3:2: invalid YAML: ");
    assertThat(e.getMessage()).doesNotContain("\n");
  }

  @Test
  void parse_tabIndentationExplained() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> YamlDocument.parse("a:\n\t- b\n", "tab.yaml"));
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("TAB");
  }

  @Test
  void parse_duplicateKeysAllReported() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> YamlDocument.parse("a: 1\nb:\n  x: 1\n  x: 2\na: 3\n", "d.yaml"));
    assertThat(e.problems()).hasSize(2);
    assertThat(e.problems().get(0).toString())
        .isEqualTo("d.yaml:4:3: at /b/x: duplicate key 'x' (first at line 3); remove one of them");
    assertThat(e.problems().get(1).line()).isEqualTo(5);
    assertThat(e.problems().get(1).path()).isEqualTo("/a");
  }

  @Test
  void parse_duplicateKeyKeepsFirstValueAndLocation() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> YamlDocument.parse("a: { x: 1 }\na: { y: 2 }\n", "d.yaml"));
    assertThat(e.problems()).hasSize(1);
  }

  @Test
  void parse_aliasRejected() {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> YamlDocument.parse("a: &anchor 1\nb: *anchor\n", "a.yaml"));
    assertThat(e.getMessage()).contains("a.yaml:2:").contains("aliases (*anchor)");
  }

  @Test
  void parse_deepNestingRejected() {
    String deep = "[".repeat(500) + "]".repeat(500);
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> YamlDocument.parse(deep, "deep.yaml"));
    assertThat(e.getMessage()).contains("nesting deeper than");
  }

  @Test
  void child_escapesPointerSegments() {
    assertThat(YamlDocument.child("/when", "/a~b")).isEqualTo("/when/~1a~0b");
    assertThat(YamlDocument.child("/rules", 3)).isEqualTo("/rules/3");
  }

  @Test
  void error_locatesAtNode() {
    YamlDocument doc = YamlDocument.parse(TEXT, "p.yaml");
    ConfigException e = doc.error("/rules/0/allow/tools", "rule 'x'", "bad tools");
    assertThat(e.getMessage()).isEqualTo("p.yaml:6:7: rule 'x': bad tools");
    assertThat(e.path()).isEqualTo("/rules/0/allow/tools");
    assertThat(e.subject()).isEqualTo("rule 'x'");
    assertThat(e.column()).isEqualTo(7);
  }

  /**
   * Found by PolicyFuzzTest: snakeyaml-engine 3.0.1 reads past its 1024-character buffer
   * (IndexOutOfBoundsException) when the buffer ends in the first half of a surrogate pair, as
   * an emoji as the 1025th character of a perfectly valid file does.
   */
  @Test
  void parse_emojiAcrossTheScannersBufferEdge_loads() {
    for (int pad = 1015; pad < 1035; pad++) {
      String text = "# " + "a".repeat(pad) + "\uD83D\uDE00\nx: \"\uD83D\uDE00\"\n";

      YamlDocument document = YamlDocument.parse(text, "t.yaml");

      assertThat(document.at("/x").stringValue()).isEqualTo("\uD83D\uDE00");
    }
  }

  /** An unpaired surrogate (which no UTF-8 file decodes to) is a located problem wherever it is. */
  @Test
  void parse_unpairedHighSurrogateAtTheBufferEdge_isAProblem() {
    for (int pad = 1015; pad < 1035; pad++) {
      String text = "#" + "a".repeat(pad) + "\uD83D";

      ConfigException e = catchThrowableOfType(ConfigException.class,
          () -> YamlDocument.parse(text, "t.yaml"));

      assertThat(e).as("pad %s", pad).isNotNull();
      assertThat(e.getMessage()).startsWith("t.yaml:");
    }
  }
}
