package dev.sentinel.core.llm;

import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The rules of {@code /v1} paths an upstream passes through ({@code passthrough:} in an
 * upstream's config): what a pattern may be, which paths it matches, and which request paths are
 * canonical enough to forward.
 *
 * <p>A pattern is a path such as {@code /v1/responses}, matching itself only, or a path ending in
 * {@code /*}, such as {@code /v1/audio/*}, matching every path below it (one segment or more),
 * not the path itself. Segments are letters, digits and {@code . _ ~ : -}, never {@code .} or
 * {@code ..}, never ending in {@code .}. A pattern may not match a route the gateway serves itself ({@link #SERVED}): those
 * are governed as model calls.
 *
 * <p>A request path is forwarded only when it is canonical by the same rule, so that the path the
 * policy decides is byte for byte the path the upstream receives: no percent-encoding, no empty
 * ({@code //}), {@code .} or {@code ..} segments, no {@code ;} parameters, no trailing slash, no
 * segment ending in {@code .} (some servers drop trailing dots, so that {@code /v1/files/f1.}
 * would reach {@code /v1/files/f1} while the policy decided on another name).
 *
 * <p>Stateless and thread-safe.
 */
public final class PassthroughPaths {
  /** The paths the gateway serves itself; no pattern may match them. */
  public static final List<String> SERVED = List.of("/v1/chat/completions", "/v1/embeddings",
      "/v1/models", "/v1/messages", "/v1/messages/count_tokens");
  private static final Pattern PATH = Pattern.compile("(/[A-Za-z0-9._~:-]+)+");
  private static final int MAX_LENGTH = 2048;

  private PassthroughPaths() {}

  /**
   * Why a request path cannot be forwarded, or {@code null} when it is canonical: segments of
   * letters, digits and {@code . _ ~ : -}, none of them {@code .} or {@code ..} or ending in
   * {@code .}.
   */
  public static @Nullable String problem(String path) {
    if (path == null || path.length() > MAX_LENGTH || !PATH.matcher(path).matches()) {
      return "a passed-through path is '/'-separated segments of letters, digits and . _ ~ : -"
          + " (no percent-encoding, no empty segments, no ';' parameters, no trailing '/'),"
          + " at most " + MAX_LENGTH + " characters";
    }
    for (String segment : path.substring(1).split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        return "a passed-through path has no '.' or '..' segments";
      }
      if (segment.endsWith(".")) {
        return "a passed-through path has no segment ending in '.'";
      }
    }
    return null;
  }

  /** Why a pattern is not valid, or {@code null}. */
  public static @Nullable String patternProblem(String pattern) {
    if (pattern == null || !pattern.startsWith("/v1/")) {
      return "a passthrough pattern is a path under /v1/, such as /v1/responses or /v1/audio/*";
    }
    String path = pattern.endsWith("/*") ? pattern.substring(0, pattern.length() - 2) : pattern;
    String problem = problem(path);
    if (problem != null) {
      return problem.replace("a passed-through path", "a passthrough pattern")
          + "; '*' only as the whole last segment";
    }
    for (String served : SERVED) {
      if (matches(pattern, served)) {
        return "the pattern '" + pattern + "' covers " + served + ", which the gateway serves and"
            + " governs as a model call; name the paths to pass through more narrowly";
      }
    }
    return null;
  }

  /** Whether a (valid) pattern matches a (canonical) path. */
  public static boolean matches(String pattern, String path) {
    if (pattern.endsWith("/*")) {
      String under = pattern.substring(0, pattern.length() - 1);
      return path.length() > under.length() && path.startsWith(under);
    }
    return pattern.equals(path);
  }

  /** Whether some path matches both (valid) patterns. */
  public static boolean overlap(String a, String b) {
    boolean aAll = a.endsWith("/*");
    boolean bAll = b.endsWith("/*");
    if (!aAll && !bAll) {
      return a.equals(b);
    }
    if (aAll && bAll) {
      String aUnder = a.substring(0, a.length() - 1);
      String bUnder = b.substring(0, b.length() - 1);
      return aUnder.startsWith(bUnder) || bUnder.startsWith(aUnder);
    }
    return aAll ? matches(a, b) : matches(b, a);
  }
}
