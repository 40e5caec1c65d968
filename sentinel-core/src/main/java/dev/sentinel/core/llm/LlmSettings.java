package dev.sentinel.core.llm;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The config's {@code llm:} section (and {@code audit.llm_bodies}): the upstream model APIs, the
 * aliases clients may ask for, the token budgets, and how the route streams and records.
 *
 * @param upstreams the upstreams, with unique names; no model is served by two upstreams of the
 *     same API, and no path is passed through by two (a request maps to one upstream, or is
 *     refused)
 * @param aliases the model aliases by name; an alias is never also a served model's name
 * @param budgets the token budgets
 * @param keepAlive how long a stream may stay silent before the gateway writes a comment
 * @param maxBodyBytes the largest request body accepted
 * @param defaultReservation tokens reserved against budgets for a request that sets no {@code
 *     max_tokens} (its usage then settles the difference)
 * @param auditBodies whether the trail keeps request bodies (redacted) or only their digest and
 *     a summary
 */
public record LlmSettings(List<LlmUpstream> upstreams, Map<String, ModelAlias> aliases,
    List<TokenBudget> budgets, Duration keepAlive, long maxBodyBytes, long defaultReservation,
    AuditBodies auditBodies) {

  /** The keep-alive interval when the config gives none. */
  public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(15);
  /** The body limit when the config gives none: 4 MiB. */
  public static final long DEFAULT_MAX_BODY_BYTES = 4L << 20;
  /** The reservation of a request without {@code max_tokens}, when the config gives none. */
  public static final long DEFAULT_RESERVATION = 4_096;
  /** No upstreams: the LLM routes are not served. */
  public static final LlmSettings NONE = new LlmSettings(List.of(), Map.of(), List.of(),
      DEFAULT_KEEP_ALIVE, DEFAULT_MAX_BODY_BYTES, DEFAULT_RESERVATION, AuditBodies.NONE);

  /** What the audit trail keeps of a model request's body. */
  public enum AuditBodies {
    /** A summary (model, parameters, sizes) and the keyed digest; no prompt or completion text. */
    NONE,
    /** The body, redacted like tool arguments, and the digest. */
    REDACTED
  }

  /** Validates and copies. */
  public LlmSettings {
    upstreams = List.copyOf(upstreams);
    aliases = Map.copyOf(aliases);
    budgets = List.copyOf(budgets);
    Objects.requireNonNull(keepAlive, "keepAlive");
    Objects.requireNonNull(auditBodies, "auditBodies");
    if (maxBodyBytes <= 0) {
      throw new IllegalArgumentException("maxBodyBytes must be positive, got " + maxBodyBytes);
    }
    if (defaultReservation <= 0) {
      throw new IllegalArgumentException(
          "defaultReservation must be positive, got " + defaultReservation);
    }
    Map<String, String> names = new HashMap<>();
    Map<String, String> served = new HashMap<>();
    Map<String, String> passed = new HashMap<>();
    for (LlmUpstream upstream : upstreams) {
      for (String pattern : upstream.passthrough()) {
        for (Map.Entry<String, String> other : passed.entrySet()) {
          if (PassthroughPaths.overlap(pattern, other.getKey())
              && !other.getValue().equals(upstream.name())) {
            throw new IllegalArgumentException("passthrough '" + pattern + "' of '"
                + upstream.name() + "' overlaps '" + other.getKey() + "' of '" + other.getValue()
                + "'; a path must map to one upstream");
          }
        }
        passed.put(pattern, upstream.name());
      }
      if (names.put(upstream.name(), upstream.name()) != null) {
        throw new IllegalArgumentException("duplicate upstream name '" + upstream.name() + "'");
      }
      for (String model : upstream.models()) {
        String other = served.put(upstream.api() + " " + model, upstream.name());
        if (other != null) {
          throw new IllegalArgumentException("model '" + model + "' is served by both '" + other
              + "' and '" + upstream.name() + "'; a model must map to one upstream");
        }
      }
    }
  }

  /** Whether the LLM routes are served: at least one upstream is configured. */
  public boolean enabled() {
    return !upstreams.isEmpty();
  }

  /**
   * The model a caller's request is decided and forwarded with: the alias resolved for the
   * caller's roles, or the name itself when it is no alias; {@code null} when the alias has no
   * model for this caller.
   */
  public @Nullable String resolve(String requested, java.util.Collection<String> roles) {
    ModelAlias alias = aliases.get(requested);
    return alias == null ? requested : alias.resolve(roles);
  }

  /**
   * The one upstream that passes a canonical path through, or {@code null} (patterns of different
   * upstreams never overlap).
   */
  public @Nullable LlmUpstream passthrough(String path) {
    for (LlmUpstream upstream : upstreams) {
      if (upstream.passesThrough(path)) {
        return upstream;
      }
    }
    return null;
  }

  /** The one upstream of an API serving a model, or {@code null}. */
  public @Nullable LlmUpstream upstream(LlmApi api, String model) {
    for (LlmUpstream upstream : upstreams) {
      if (upstream.api() == api && upstream.models().contains(model)) {
        return upstream;
      }
    }
    return null;
  }
}
