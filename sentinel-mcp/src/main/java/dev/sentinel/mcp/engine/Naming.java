package dev.sentinel.mcp.engine;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * How backend names become client-visible names ({@code <backend><separator><name>}) and back,
 * and the gateway's opaque list cursors. Immutable and thread-safe.
 */
final class Naming {
  private final List<Backend> backends;
  private final String separator;
  private final boolean prefixed;

  Naming(List<Backend> backends, String separator, boolean prefixSingleBackend) {
    this.backends = List.copyOf(backends);
    this.separator = separator;
    this.prefixed = backends.size() > 1 || prefixSingleBackend;
  }

  /**
   * Why two backend names make namespaced names ambiguous, or {@code null} if none do. With
   * {@code b} and {@code b_} and the separator {@code __}, {@code b___x} is both {@code b}'s
   * {@code _x} and {@code b_}'s {@code x}: whenever one name plus the separator starts the other
   * name plus the separator, some exposed name has two readings.
   */
  static @Nullable String ambiguity(List<String> names, String separator) {
    for (String a : names) {
      for (String b : names) {
        if (!a.equals(b) && (b + separator).startsWith(a + separator)) {
          return "backend names '" + a + "' and '" + b + "' are ambiguous with the separator '" + separator
              + "': '" + b + separator + "x' could be a tool of either; rename one of them";
        }
      }
    }
    return null;
  }

  /** A tool's or prompt's name as clients see it. */
  String expose(Backend backend, String name) {
    return prefixed ? backend.name + separator + name : name;
  }

  /** A namespaced name resolved to its backend and the backend's own name. */
  record Target(Backend backend, String name) {}

  /** Resolves a client-visible name, or {@code null} if no backend's prefix matches. */
  @Nullable Target resolve(@Nullable String exposed) {
    if (exposed == null) {
      return null;
    }
    if (!prefixed) {
      return new Target(backends.get(0), exposed);
    }
    @Nullable Target best = null;
    for (Backend backend : backends) {
      String prefix = backend.name + separator;
      if (exposed.startsWith(prefix) && exposed.length() > prefix.length()
          && (best == null || backend.name.length() > best.backend().name.length())) {
        best = new Target(backend, exposed.substring(prefix.length()));
      }
    }
    return best;
  }

  /** A position in an aggregated list: which backend, and that backend's own cursor. */
  record Cursor(int backend, @Nullable String backendCursor) {}

  /** Encodes a position as an opaque cursor. */
  static String encode(Cursor cursor) {
    String plain = cursor.backend() + ":" + (cursor.backendCursor() == null ? "" : "c" + cursor.backendCursor());
    return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
  }

  /** Decodes a cursor made by {@link #encode}, or returns {@code null} if it is not one. */
  static @Nullable Cursor decode(String cursor, int backendCount) {
    try {
      String plain = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      int colon = plain.indexOf(':');
      if (colon <= 0) {
        return null;
      }
      int backend = Integer.parseInt(plain.substring(0, colon));
      String rest = plain.substring(colon + 1);
      if (backend < 0 || backend >= backendCount || (!rest.isEmpty() && rest.charAt(0) != 'c')) {
        return null;
      }
      return new Cursor(backend, rest.isEmpty() ? null : rest.substring(1));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
