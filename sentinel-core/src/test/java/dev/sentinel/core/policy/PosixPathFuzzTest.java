package dev.sentinel.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayDeque;
import java.util.Deque;

/** Fuzz target for path normalization ({@code benchmarks/fuzz PosixPathFuzzTest}). */
class PosixPathFuzzTest {

  /**
   * For any text: the result is the reference normalization (a stack of segments), absolute,
   * free of empty, {@code .} and {@code ..} segments, idempotent, and {@code null} exactly when
   * the path is not absolute or climbs above {@code /}.
   */
  @FuzzTest
  void normalize_anyText_agreesWithReferenceAndNeverClimbsAboveRoot(FuzzedDataProvider data) {
    String path = data.consumeRemainingAsString();
    String out = PosixPath.normalize(path);

    assertThat(out).isEqualTo(reference(path));
    if (out != null) {
      assertThat(out).startsWith("/");
      // "/" itself is normal; the oracle's own "/" suffix made it "//" ("/a/.." found it)
      assertThat(out.equals("/") ? out : out + "/").doesNotContain("//", "/./", "/../");
      assertThat(out.equals("/") || !out.endsWith("/")).isTrue();
      assertThat(PosixPath.normalize(out)).isEqualTo(out);
    }
  }

  private static String reference(String path) {
    if (path == null || !path.startsWith("/")) {
      return null;
    }
    Deque<String> stack = new ArrayDeque<>();
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".")) {
        continue;
      }
      if (segment.equals("..")) {
        if (stack.isEmpty()) {
          return null;
        }
        stack.removeLast();
      } else {
        stack.addLast(segment);
      }
    }
    return "/" + String.join("/", stack);
  }
}
