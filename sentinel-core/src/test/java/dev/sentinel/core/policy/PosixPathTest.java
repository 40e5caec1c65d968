package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.Gen;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PosixPathTest {

  @Test
  void normalize_leavesNormalPathsAlone() {
    String path = "/workspace/a/b.txt";
    assertThat(PosixPath.normalize(path)).isSameAs(path);
    assertThat(PosixPath.normalize("/")).isEqualTo("/");
  }

  @Test
  void normalize_collapsesSlashesAndDots() {
    assertThat(PosixPath.normalize("//workspace///a/./b/")).isEqualTo("/workspace/a/b");
    assertThat(PosixPath.normalize("/workspace/a/../b")).isEqualTo("/workspace/b");
    assertThat(PosixPath.normalize("/workspace/..")).isEqualTo("/");
    assertThat(PosixPath.normalize("/a/.")).isEqualTo("/a");
    assertThat(PosixPath.normalize("/a/...")).isEqualTo("/a/...");
  }

  @Test
  void normalize_rejectsClimbingAboveRootAndRelativePaths() {
    assertThat(PosixPath.normalize("/..")).isNull();
    assertThat(PosixPath.normalize("/workspace/../../etc")).isNull();
    assertThat(PosixPath.normalize("workspace/a")).isNull();
    assertThat(PosixPath.normalize("")).isNull();
    assertThat(PosixPath.normalize(null)).isNull();
  }

  static LongStream seeds() {
    return Gen.seeds(300);
  }

  /** Arbitrary input is {@code PosixPathFuzzTest}'s; this draws from the characters that matter. */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void normalize_resultHasNoDotSegments(long seed) {
    String input = "/" + Gen.string(new Random(seed), "/./.a.b/", 0, 30);
    String out = PosixPath.normalize(input);
    if (out != null) {
      assertThat(out).startsWith("/");
      assertThat(("/" + out + "/")).doesNotContain("/./", "/../", "//" + "x");
      assertThat(PosixPath.normalize(out)).isEqualTo(out);
    }
  }
}
