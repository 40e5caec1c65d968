package dev.sentinel.mcp.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Which backend serves a resource URI, decided before anything is forwarded.
 *
 * <p>In order: the backends' configured URI prefixes (the longest that matches wins; a backend
 * with prefixes is never routed a URI outside them); else the backends that listed the URI or a
 * URI template that matches it; else, when only one backend serves resources at all, that one. A
 * URI that maps to several backends, or to none, is not routed: it is refused, never tried in
 * turn. What backends list is remembered up to a bound, so that a backend cannot grow the table
 * without end.
 *
 * <p>Thread-safe.
 */
final class ResourceRoutes {
  static final int MAX_URIS = 100_000;
  static final int MAX_TEMPLATES_PER_BACKEND = 1_000;
  /** Templates are matched against URIs up to this length; longer ones route by prefix or listing only. */
  static final int MAX_MATCHED_URI = 8_192;
  /** Templates with more expressions than this are not used for routing (matching cost grows with them). */
  static final int MAX_EXPRESSIONS = 8;

  private final List<Backend> backends;
  private final Map<String, Set<Backend>> listed = new ConcurrentHashMap<>();
  private final Map<Backend, Map<String, Pattern>> templates = new ConcurrentHashMap<>();

  /** Where a URI goes: one backend, or why none. */
  record Route(@Nullable Backend backend, @Nullable String problem, boolean unknown) {
    static Route to(Backend backend) {
      return new Route(backend, null, false);
    }

    static Route ambiguous(String uri, Set<Backend> candidates) {
      String names = candidates.stream().map(b -> b.name).sorted().collect(Collectors.joining(", "));
      return new Route(null, "resource '" + uri + "' is ambiguous: backends " + names
          + " all serve it; the config must give each its resource uri_prefixes", false);
    }

    static Route unknown(String uri) {
      return new Route(null, "no backend serves resource '" + uri
          + "': list resources first, or give the backend resource uri_prefixes in the config", true);
    }
  }

  ResourceRoutes(List<Backend> backends) {
    this.backends = backends;
  }

  /** Routes a resource URI. */
  Route route(String uri) {
    Route configured = byPrefix(uri);
    if (configured != null) {
      return configured;
    }
    Set<Backend> candidates = new LinkedHashSet<>();
    Set<Backend> exact = listed.get(uri);
    if (exact != null) {
      candidates.addAll(exact);
    }
    for (Map.Entry<Backend, Map<String, Pattern>> entry : templates.entrySet()) {
      if (candidates.contains(entry.getKey()) || uri.length() > MAX_MATCHED_URI) {
        continue;
      }
      for (Pattern pattern : entry.getValue().values()) {
        if (pattern.matcher(uri).matches()) {
          candidates.add(entry.getKey());
          break;
        }
      }
    }
    candidates.removeIf(backend -> !backend.options.resourcePrefixes().isEmpty());
    if (candidates.size() == 1) {
      return Route.to(candidates.iterator().next());
    }
    if (candidates.size() > 1) {
      return Route.ambiguous(uri, candidates);
    }
    Backend only = null;
    for (Backend backend : backends) {
      if (backend.everStarted() && backend.has("resources")) {
        if (only != null) {
          return Route.unknown(uri);
        }
        only = backend;
      }
    }
    return only == null || !only.options.resourcePrefixes().isEmpty() ? Route.unknown(uri) : Route.to(only);
  }

  /**
   * Routes a URI template as given in {@code completion/complete}: to the one backend that listed
   * that very template, else as a URI.
   */
  Route routeTemplate(String template) {
    Backend owner = null;
    for (Map.Entry<Backend, Map<String, Pattern>> entry : templates.entrySet()) {
      if (entry.getValue().containsKey(template)) {
        if (owner != null) {
          return Route.ambiguous(template, Set.of(owner, entry.getKey()));
        }
        owner = entry.getKey();
      }
    }
    return owner != null ? Route.to(owner) : route(template);
  }

  private @Nullable Route byPrefix(String uri) {
    int best = -1;
    Set<Backend> winners = new LinkedHashSet<>();
    for (Backend backend : backends) {
      for (String prefix : backend.options.resourcePrefixes()) {
        if (uri.startsWith(prefix)) {
          if (prefix.length() > best) {
            best = prefix.length();
            winners.clear();
          }
          if (prefix.length() == best) {
            winners.add(backend);
          }
        }
      }
    }
    if (winners.isEmpty()) {
      return null;
    }
    return winners.size() == 1 ? Route.to(winners.iterator().next()) : Route.ambiguous(uri, winners);
  }

  /**
   * Whether a backend may serve the URI at all: its prefixes route the URI to it, or it has none
   * and the URI is under no backend's prefixes.
   */
  boolean serves(Backend backend, String uri) {
    Route configured = byPrefix(uri);
    return backend.options.resourcePrefixes().isEmpty() ? configured == null
        : configured != null && configured.backend() == backend;
  }

  /** Remembers that a backend listed a resource. */
  void listedResource(Backend backend, String uri) {
    Set<Backend> owners = listed.get(uri);
    if (owners == null) {
      if (listed.size() >= MAX_URIS) {
        return;
      }
      owners = listed.computeIfAbsent(uri, key -> ConcurrentHashMap.newKeySet());
    }
    owners.add(backend);
  }

  /** Remembers that a backend listed a resource template. */
  void listedTemplate(Backend backend, String template) {
    Map<String, Pattern> mine = templates.computeIfAbsent(backend, key -> new ConcurrentHashMap<>());
    if (mine.containsKey(template) || mine.size() >= MAX_TEMPLATES_PER_BACKEND) {
      return;
    }
    Pattern pattern = compile(template);
    if (pattern != null) {
      mine.put(template, pattern);
    }
  }

  /**
   * A URI template (RFC 6570) as a pattern that matches the URIs it expands to: literal text as
   * is; {@code {var}} one path segment's worth of characters; {@code {+var}} and {@code {#var}}
   * anything; {@code {/var}}, {@code {.var}}, {@code {;var}} that many prefixed segments;
   * {@code {?var}} and {@code {&var}} a query. {@code null} for an unbalanced template or one
   * with more than {@value #MAX_EXPRESSIONS} expressions. Repeated groups never overlap (each
   * starts with a character its body excludes), so a match fails in time linear in the URI for a
   * bounded number of expressions.
   */
  static @Nullable Pattern compile(String template) {
    StringBuilder regex = new StringBuilder();
    int at = 0;
    int expressions = 0;
    while (at < template.length()) {
      int open = template.indexOf('{', at);
      if (open < 0) {
        regex.append(Pattern.quote(template.substring(at)));
        break;
      }
      int close = template.indexOf('}', open);
      if (close < 0) {
        return null;
      }
      if (open > at) {
        regex.append(Pattern.quote(template.substring(at, open)));
      }
      if (++expressions > MAX_EXPRESSIONS) {
        return null;
      }
      String expression = template.substring(open + 1, close);
      char operator = expression.isEmpty() ? ' ' : expression.charAt(0);
      switch (operator) {
        case '+':
        case '#':
          regex.append(".*");
          break;
        case '/':
          regex.append("(?:/[^/?#]*)*");
          break;
        case '.':
          regex.append("(?:\\.[^/?#.]*)*");
          break;
        case ';':
          regex.append("(?:;[^/?#;]*)*");
          break;
        case '?':
        case '&':
          regex.append("(?:[?&][^#]*)?");
          break;
        default:
          regex.append("[^/?#]*");
      }
      at = close + 1;
    }
    try {
      return Pattern.compile(regex.toString());
    } catch (PatternSyntaxException e) {
      return null;
    }
  }

  /** For tests and diagnostics: the templates each backend listed. */
  Map<String, List<String>> templates() {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    for (Map.Entry<Backend, Map<String, Pattern>> entry : templates.entrySet()) {
      copy.put(entry.getKey().name, new ArrayList<>(entry.getValue().keySet()));
    }
    return copy;
  }
}
