package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.Gen;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

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

  static LongStream seeds() {
    return Gen.seeds(300);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void distance_isSymmetricAndZeroOnlyForEqual(long seed) {
    Random random = new Random(seed);
    // a small alphabet makes near-equal pairs common; any text tests the rest
    String a = random.nextBoolean() ? Gen.string(random, "ab", 0, 12) : Gen.text(random, 12);
    String b = random.nextBoolean() ? Gen.string(random, "ab", 0, 12) : Gen.text(random, 12);
    assertThat(Suggestions.distance(a, b)).isEqualTo(Suggestions.distance(b, a));
    assertThat(Suggestions.distance(a, b) == 0).isEqualTo(a.equals(b));
    assertThat(Suggestions.distance(a, b)).isLessThanOrEqualTo(Math.max(a.length(), b.length()));
  }
}
