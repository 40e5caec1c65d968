package dev.sentinel.core.llm;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One upstream model API. Requests go to {@code baseUrl} followed by the route's path after
 * {@code /v1} (so {@code base_url: https://api.openai.com/v1} serves {@code /v1/chat/completions}
 * at {@code https://api.openai.com/v1/chat/completions}), with the gateway's own credential for
 * the upstream; the client's credential is never forwarded.
 *
 * @param name the upstream's name: the backend of its requests in policy, kill switch and audit
 * @param api the API it speaks
 * @param baseUrl where its {@code /v1} is, without a trailing slash
 * @param apiKey the key the gateway sends ({@code Authorization: Bearer} for OpenAI, {@code
 *     x-api-key} for Anthropic), or {@code null} for none; never shown by {@link #toString()}
 * @param models the models it serves, exactly as the upstream names them
 * @param connectTimeout the longest a connection may take
 * @param firstByteTimeout the longest the upstream may take to start answering
 * @param idleTimeout the longest the upstream may stay silent mid-answer
 * @param passthrough the other {@code /v1} paths it serves, forwarded as they are (governed as
 *     {@code llm/passthrough} named by the path); patterns as {@link PassthroughPaths} says
 */
public record LlmUpstream(String name, LlmApi api, URI baseUrl, @Nullable String apiKey,
    List<String> models,
    Duration connectTimeout, Duration firstByteTimeout, Duration idleTimeout,
    List<String> passthrough) {

  /** The connect timeout when the config gives none. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** The first-byte timeout when the config gives none. */
  public static final Duration DEFAULT_FIRST_BYTE_TIMEOUT = Duration.ofSeconds(120);
  /** The idle timeout when the config gives none. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

  /** Validates and copies; strips a trailing slash from the base URL. */
  public LlmUpstream {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(api, "api");
    Objects.requireNonNull(baseUrl, "baseUrl");
    String text = baseUrl.toString();
    if (text.endsWith("/")) {
      baseUrl = URI.create(text.substring(0, text.length() - 1));
    }
    models = List.copyOf(models);
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(firstByteTimeout, "firstByteTimeout");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    passthrough = List.copyOf(passthrough);
    for (String pattern : passthrough) {
      String problem = PassthroughPaths.patternProblem(pattern);
      if (problem != null) {
        throw new IllegalArgumentException("upstream '" + name + "' passthrough '" + pattern
            + "': " + problem);
      }
    }
  }

  /** An upstream that passes no other paths through. */
  public LlmUpstream(String name, LlmApi api, URI baseUrl, String apiKey, List<String> models,
      Duration connectTimeout, Duration firstByteTimeout, Duration idleTimeout) {
    this(name, api, baseUrl, apiKey, models, connectTimeout, firstByteTimeout, idleTimeout,
        List.of());
  }

  /** Whether one of its passthrough patterns matches a canonical path. */
  public boolean passesThrough(String path) {
    for (String pattern : passthrough) {
      if (PassthroughPaths.matches(pattern, path)) {
        return true;
      }
    }
    return false;
  }

  /** The upstream URL of a route path such as {@code /chat/completions} (the part after /v1). */
  public URI url(String path) {
    return URI.create(baseUrl + path);
  }

  /** Never shows the key. */
  @Override
  public String toString() {
    return "LlmUpstream[" + name + ", " + api.configName() + ", " + baseUrl.getScheme() + "://"
        + baseUrl.getAuthority() + ", models=" + models + (apiKey == null ? "" : ", key=***") + "]";
  }
}
