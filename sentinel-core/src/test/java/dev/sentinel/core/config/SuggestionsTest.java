package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class SuggestionsTest {
  private static final List<String> KEYS =
      List.of("allow", "deny", "confirm", "id", "reason", "description");

  @Test
  void nearest_typos() {
    assertThat(Suggestions.nearest("alow", KEYS)).hasValue("allow");
    assertThat(Suggestions.nearest("dney", KEYS)).hasValue("deny");
    assertThat(Suggestions.nearest("confrim", KEYS)).hasValue("confirm");
    assertThat(Suggestions.nearest("Reason", KEYS)).hasValue("reason");
    assertThat(Suggestions.nearest("descripton", KEYS)).hasValue("description");
    assertThat(Suggestions.nearest("ix", KEYS)).hasValue("id");
  }

  @Test
  void nearest_nothingWhenFar() {
    assertThat(Suggestions.nearest("zzz", KEYS)).isEmpty();
    assertThat(Suggestions.nearest("permit", KEYS)).isEmpty();
    assertThat(Suggestions.nearest("x", KEYS)).isEmpty();
    assertThat(Suggestions.nearest("", KEYS)).isEmpty();
  }

  @Test
  void distance_countsTranspositionAsOne() {
    assertThat(Suggestions.distance("ab", "ba")).isEqualTo(1);
    assertThat(Suggestions.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(Suggestions.distance("", "abc")).isEqualTo(3);
  }

  @Property
  void distance_isSymmetricAndZeroOnlyForEqual(
      @ForAll @StringLength(max = 12) String a, @ForAll @StringLength(max = 12) String b) {
    assertThat(Suggestions.distance(a, b)).isEqualTo(Suggestions.distance(b, a));
    assertThat(Suggestions.distance(a, b) == 0).isEqualTo(a.equals(b));
    assertThat(Suggestions.distance(a, b)).isLessThanOrEqualTo(Math.max(a.length(), b.length()));
  }
}
