package dev.sentinel.core.policy;

import org.jspecify.annotations.Nullable;

/**
 * POSIX path normalization for argument conditions, so that {@code /workspace/../etc/passwd}
 * cannot pass a {@code /workspace/**} glob. Purely lexical: symbolic links are not resolved (the
 * gateway cannot see the backend's file system).
 */
final class PosixPath {

  private PosixPath() {}

  /**
   * Normalizes an absolute path: collapses repeated slashes, drops {@code .} segments and a
   * trailing slash, and resolves {@code ..} against the preceding segment.
   *
   * @return the normalized path, or {@code null} if the path is not absolute or climbs above
   *     {@code /} (such paths match nothing)
   */
  static @Nullable String normalize(@Nullable String path) {
    if (path == null || path.isEmpty() || path.charAt(0) != '/') {
      return null;
    }
    if (isNormal(path)) {
      return path;
    }
    String[] parts = path.split("/");
    String[] kept = new String[parts.length];
    int depth = 0;
    for (String part : parts) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (depth == 0) {
          return null;
        }
        depth--;
      } else {
        kept[depth++] = part;
      }
    }
    if (depth == 0) {
      return "/";
    }
    StringBuilder out = new StringBuilder(path.length());
    for (int i = 0; i < depth; i++) {
      out.append('/').append(kept[i]);
    }
    return out.toString();
  }

  /** Whether no segment is empty, {@code .} or {@code ..} (so no copy is needed). */
  private static boolean isNormal(String path) {
    int n = path.length();
    if (n == 1) {
      return true;
    }
    if (path.charAt(n - 1) == '/') {
      return false;
    }
    int start = 1;
    while (start <= n) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = n;
      }
      int len = end - start;
      if (len == 0
          || (len == 1 && path.charAt(start) == '.')
          || (len == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.')) {
        return false;
      }
      start = end + 1;
    }
    return true;
  }
}
