package dev.sentinel.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.Gen;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GlobTest {

  @Test
  void matches_literalOnlyItself() {
    Glob glob = Glob.compile("fs__read_file");
    assertThat(glob.isLiteral()).isTrue();
    assertThat(glob.matches("fs__read_file")).isTrue();
    assertThat(glob.matches("fs__read_files")).isFalse();
    assertThat(glob.matches(null)).isFalse();
  }

  @Test
  void matches_trailingStarAnySuffixWithoutSlash() {
    Glob glob = Glob.compile("fs__read_*");
    assertThat(glob.matches("fs__read_")).isTrue();
    assertThat(glob.matches("fs__read_file")).isTrue();
    assertThat(glob.matches("fs__write_file")).isFalse();
    assertThat(glob.matches("fs__read_a/b")).isFalse();
  }

  @Test
  void matches_doubleStarCrossesSlashes() {
    Glob glob = Glob.compile("/workspace/**");
    assertThat(glob.matches("/workspace/a/b/c.txt")).isTrue();
    assertThat(glob.matches("/workspace")).isFalse();
    assertThat(glob.matches("/etc/passwd")).isFalse();
  }

  @Test
  void matches_innerWildcardsAndQuestionMark() {
    Glob glob = Glob.compile("/home/*/notes?.md");
    assertThat(glob.matches("/home/ann/notes1.md")).isTrue();
    assertThat(glob.matches("/home/ann/sub/notes1.md")).isFalse();
    assertThat(glob.matches("/home/ann/notes12.md")).isFalse();
  }

  @Test
  void matches_escapedStarLiterally() {
    Glob glob = Glob.compile("a\\*b");
    assertThat(glob.isLiteral()).isTrue();
    assertThat(glob.matches("a*b")).isTrue();
    assertThat(glob.matches("axb")).isFalse();
  }

  @Test
  void matches_regexMetacharactersLiterally() {
    assertThat(Glob.compile("a.b*").matches("a.bc")).isTrue();
    assertThat(Glob.compile("a.b*").matches("axbc")).isFalse();
    assertThat(Glob.compile("*(x)+").matches("y(x)+")).isTrue();
  }

  @Test
  void name_wildcardsCrossSlashes() {
    assertThat(Glob.name("db__*").matches("db__query/../../admin")).isTrue();
    assertThat(Glob.name("db__?uery").matches("db__/uery")).isTrue();
    assertThat(Glob.name("*_admin").matches("a/b_admin")).isTrue();
    assertThat(Glob.compile("db__*").matches("db__query/x")).isFalse();
    assertThat(Glob.name("db__*")).isNotEqualTo(Glob.compile("db__*"));
  }

  @Test
  void literalPrefix_stopsAtFirstWildcard() {
    assertThat(Glob.compile("db__*_query").literalPrefix()).isEqualTo("db__");
    assertThat(Glob.compile("exact").literalPrefix()).isEqualTo("exact");
    assertThat(Glob.compile("*x").literalPrefix()).isEmpty();
  }

  static LongStream seeds() {
    return Gen.seeds(200);
  }

  private static final String LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void matches_everyStringStartingWithItsPrefix(long seed) {
    Random random = new Random(seed);
    String prefix = Gen.string(random, LETTERS, 0, 12);
    String rest = Gen.string(random, LETTERS, 0, 12);
    Glob glob = Glob.compile(prefix + "*");
    assertThat(glob.matches(prefix + rest)).isTrue();
    assertThat(glob.literalPrefix()).isEqualTo(prefix);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void matches_literalGlobIsEquality(long seed) {
    Random random = new Random(seed);
    // two letters make equal pairs common
    String a = Gen.string(random, random.nextBoolean() ? "ab" : LETTERS, 0, 4);
    String b = random.nextInt(4) == 0 ? a : Gen.string(random, "ab", 0, 4);
    assertThat(Glob.compile(a).matches(b)).isEqualTo(a.equals(b));
  }
}
