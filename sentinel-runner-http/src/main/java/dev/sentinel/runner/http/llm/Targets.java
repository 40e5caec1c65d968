package dev.sentinel.runner.http.llm;

import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.llm.LlmUpstream;
import java.net.URI;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What the route derives from one config's {@code llm:} section, once instead of per request:
 * the served models (the bound of the metrics' model label) and each upstream's URL for each
 * route. A reload brings a new {@link LlmSettings} and so a new {@code Targets}. Immutable and
 * thread-safe.
 */
final class Targets {
  private final LlmSettings settings;
  private final Set<String> served;
  /** Each upstream's URL by route ordinal; null where it did not derive (then per request). */
  private final Map<LlmUpstream, @Nullable URI[]> urls;

  private Targets(LlmSettings settings) {
    this.settings = settings;
    Set<String> models = new HashSet<>();
    Map<LlmUpstream, @Nullable URI[]> byUpstream = new IdentityHashMap<>();
    for (LlmUpstream upstream : settings.upstreams()) {
      models.addAll(upstream.models());
      @Nullable URI[] routes = new URI[LlmRoute.values().length];
      for (LlmRoute route : LlmRoute.values()) {
        try {
          routes[route.ordinal()] = upstream.url(route.upstreamPath());
        } catch (IllegalArgumentException e) {
          // Left to fail per request, with the same error as without this cache.
        }
      }
      byUpstream.put(upstream, routes);
    }
    this.served = Set.copyOf(models);
    this.urls = byUpstream;
  }

  /** The targets of a config's settings; {@code last} when it was derived from the same ones. */
  static Targets of(LlmSettings settings, @Nullable Targets last) {
    return last != null && last.settings == settings ? last : new Targets(settings);
  }

  /** Every model an upstream serves. */
  Set<String> served() {
    return served;
  }

  /** The URL of a route at an upstream of these settings. */
  URI url(LlmUpstream upstream, LlmRoute route) {
    @Nullable URI[] routes = urls.get(upstream);
    URI url = routes == null ? null : routes[route.ordinal()];
    return url != null ? url : upstream.url(route.upstreamPath());
  }
}
