package dev.sentinel.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target for globs ({@code benchmarks/fuzz GlobFuzzTest}): both flavours agree with a
 * plain backtracking matcher over code points.
 */
class GlobFuzzTest {

  /**
   * For any glob and value: path and name globs answer as the reference does and never throw,
   * every match starts with the glob's literal prefix, and a path-glob match is a name-glob
   * match (names only relax {@code /}).
   */
  @FuzzTest
  void matches_anyGlobAnyValue_agreesWithReference(FuzzedDataProvider data) {
    String glob = data.consumeString(24);
    String value = data.consumeRemainingAsString();

    boolean path = Glob.compile(glob).matches(value);
    boolean name = Glob.name(glob).matches(value);

    assertThat(path).as("path glob %s on %s", glob, value).isEqualTo(reference(glob, value, false));
    assertThat(name).as("name glob %s on %s", glob, value).isEqualTo(reference(glob, value, true));
    if (name) {
      assertThat(value).startsWith(Glob.name(glob).literalPrefix());
    }
    if (path) {
      assertThat(name).isTrue();
    }
  }

  // ---- the reference: tokens, then backtracking with memo

  private static final int STAR = -1;
  private static final int DOUBLE_STAR = -2;
  private static final int ONE = -3;

  /** Whether the value matches; {@code \} escapes the next character, alone at the end it is literal. */
  static boolean reference(String glob, String value, boolean names) {
    int[] tokens = tokens(glob);
    int[] text = value.codePoints().toArray();
    Boolean[][] memo = new Boolean[tokens.length + 1][text.length + 1];
    return match(tokens, 0, text, 0, names, memo);
  }

  private static int[] tokens(String glob) {
    int[] cps = glob.codePoints().toArray();
    int[] out = new int[cps.length];
    int n = 0;
    for (int i = 0; i < cps.length; i++) {
      if (cps[i] == '\\' && i + 1 < cps.length) {
        out[n++] = cps[++i];
      } else if (cps[i] == '*' && i + 1 < cps.length && cps[i + 1] == '*') {
        out[n++] = DOUBLE_STAR;
        i++;
      } else if (cps[i] == '*') {
        out[n++] = STAR;
      } else if (cps[i] == '?') {
        out[n++] = ONE;
      } else {
        out[n++] = cps[i];
      }
    }
    return java.util.Arrays.copyOf(out, n);
  }

  private static boolean match(
      int[] tokens, int t, int[] text, int s, boolean names, Boolean[][] memo) {
    if (memo[t][s] != null) {
      return memo[t][s];
    }
    boolean result;
    if (t == tokens.length) {
      result = s == text.length;
    } else {
      int token = tokens[t];
      if (token == STAR || token == DOUBLE_STAR) {
        boolean crosses = names || token == DOUBLE_STAR;
        result = match(tokens, t + 1, text, s, names, memo);
        for (int k = s; !result && k < text.length && (crosses || text[k] != '/'); k++) {
          result = match(tokens, t + 1, text, k + 1, names, memo);
        }
      } else if (token == ONE) {
        result = s < text.length && (names || text[s] != '/')
            && match(tokens, t + 1, text, s + 1, names, memo);
      } else {
        result = s < text.length && text[s] == token
            && match(tokens, t + 1, text, s + 1, names, memo);
      }
    }
    memo[t][s] = result;
    return result;
  }
}
