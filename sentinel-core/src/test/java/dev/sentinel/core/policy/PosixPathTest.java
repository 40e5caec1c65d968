package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

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

  @Property
  void normalize_resultHasNoDotSegments(@ForAll @StringLength(max = 30) String tail) {
    String input = "/" + tail.replace('x', '/').replace('y', '.');
    String out = PosixPath.normalize(input);
    if (out != null) {
      assertThat(out).startsWith("/");
      assertThat(("/" + out + "/")).doesNotContain("/./", "/../", "//" + "x");
      assertThat(PosixPath.normalize(out)).isEqualTo(out);
    }
  }
}
