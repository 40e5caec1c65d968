package dev.sentinel.runner.http.llm;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The LLM route's meters: requests by route, model and outcome; tokens by model and kind
 * ({@code input}, {@code output}); time to the first upstream byte. Models outside the config
 * are labelled {@code other}, so labels stay bounded. Observers fail safe: a meter that throws
 * never fails a request. Thread-safe.
 */
final class LlmMetrics {
  static final String OTHER = "other";
  private final @Nullable MeterRegistry registry;
  private final @Nullable Timer ttft;
  /**
   * The counters registered so far, by name and labels: finding one in the registry builds its
   * id and runs the registry's filters on every increment. As bounded as the labels.
   */
  private final ConcurrentHashMap<List<String>, Counter> counters = new ConcurrentHashMap<>();

  /** Metrics into this registry; none (every method a no-op) when it is null. */
  LlmMetrics(@Nullable MeterRegistry registry) {
    this.registry = registry;
    this.ttft = registry == null ? null : Timer.builder("sentinel_llm_time_to_first_token")
        .description("Time from forwarding a model request to the upstream's first byte")
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofMinutes(2))
        .register(registry);
  }

  void request(String route, @Nullable String model, Set<String> known, String outcome) {
    if (registry == null) {
      return;
    }
    try {
      String label = label(model, known);
      counters.computeIfAbsent(List.of("requests", route, label, outcome), key ->
          Counter.builder("sentinel_llm_requests").description("Model requests by outcome")
              .tag("route", route).tag("model", label).tag("outcome", outcome)
              .register(registry)).increment();
    } catch (RuntimeException ignored) {
      // observers fail safe
    }
  }

  void tokens(@Nullable String model, Set<String> known, long input, long output) {
    MeterRegistry registry = this.registry;
    if (registry == null) {
      return;
    }
    try {
      String label = label(model, known);
      if (input > 0) {
        tokens(registry, label, "input").increment(input);
      }
      if (output > 0) {
        tokens(registry, label, "output").increment(output);
      }
    } catch (RuntimeException ignored) {
      // observers fail safe
    }
  }

  private Counter tokens(MeterRegistry registry, String label, String kind) {
    return counters.computeIfAbsent(List.of("tokens", label, kind), key ->
        Counter.builder("sentinel_llm_tokens").description("Tokens counted from upstream usage")
            .tag("model", label).tag("kind", kind).register(registry));
  }

  void timeToFirstToken(long nanos) {
    if (ttft != null && nanos >= 0) {
      ttft.record(Duration.ofNanos(nanos));
    }
  }

  private static String label(@Nullable String model, Set<String> known) {
    return model != null && known.contains(model) ? model : OTHER;
  }
}
