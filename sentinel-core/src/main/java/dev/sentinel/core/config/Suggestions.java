package dev.sentinel.core.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * "Did you mean ...?" for misspelt keys and names: the nearest candidate by Damerau-Levenshtein
 * distance (optimal string alignment: insertions, deletions, substitutions and swaps of adjacent
 * characters), ignoring case, offered only when it is close enough to be a plausible typo.
 */
public final class Suggestions {

  private Suggestions() {}

  /**
   * The candidate nearest to {@code word}, if one is close: at most one edit for words of up to
   * four characters, two for longer ones, three for words of twelve or more. Ties go to the
   * earliest candidate.
   */
  public static Optional<String> nearest(String word, Collection<String> candidates) {
    if (word == null || word.isEmpty()) {
      return Optional.empty();
    }
    String lower = word.toLowerCase(Locale.ROOT);
    int limit = lower.length() <= 4 ? 1 : lower.length() < 12 ? 2 : 3;
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : candidates) {
      int d = distance(lower, candidate.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return best != null && bestDistance <= limit && bestDistance < lower.length()
        ? Optional.of(best)
        : Optional.empty();
  }

  /** The optimal-string-alignment distance between two strings (case-sensitive). */
  public static int distance(String a, String b) {
    int n = a.length();
    int m = b.length();
    int[][] d = new int[n + 1][m + 1];
    for (int i = 0; i <= n; i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= m; j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= n; i++) {
      for (int j = 1; j <= m; j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        int best = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          best = Math.min(best, d[i - 2][j - 2] + 1);
        }
        d[i][j] = best;
      }
    }
    return d[n][m];
  }
}
