package dev.sentinel.core.config;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The config's {@code telemetry:} section: OpenTelemetry traces of the governed calls, exported
 * by OTLP over HTTP (sentinel-otel). Off unless {@code otlp:} is given.
 *
 * @param serviceName the {@code service.name} resource attribute of the spans
 * @param sampleRatio the share of calls traced that start a trace here, from 0 to 1 (a call that
 *     joins its client's trace follows the client's sampling decision)
 * @param otlp where the spans go, or {@code null} for no tracing
 */
public record Telemetry(String serviceName, double sampleRatio, @Nullable Otlp otlp) {
  /** The default {@code service.name}. */
  public static final String DEFAULT_SERVICE_NAME = "sentinel";
  /** No tracing: the section's absence. */
  public static final Telemetry NONE = new Telemetry(DEFAULT_SERVICE_NAME, 1.0, null);

  /** Validates. */
  public Telemetry {
    Objects.requireNonNull(serviceName, "serviceName");
    if (serviceName.isBlank()) {
      throw new IllegalArgumentException("telemetry.service_name must not be blank");
    }
    if (!(sampleRatio >= 0 && sampleRatio <= 1)) {
      throw new IllegalArgumentException("telemetry.sample_ratio must be from 0 to 1, got " + sampleRatio);
    }
  }

  /** Whether calls are traced (an {@code otlp:} exporter is configured). */
  public boolean enabled() {
    return otlp != null;
  }

  /**
   * The OTLP/HTTP exporter ({@code http/protobuf}).
   *
   * @param endpoint the collector's base URL (such as {@code http://127.0.0.1:4318}); spans are
   *     posted to {@link #tracesUrl()}
   * @param headers headers sent with every export (a collector's token, say); values may be
   *     secrets and never appear in {@link #toString()}
   * @param timeout how long one export may take
   */
  public record Otlp(URI endpoint, Map<String, String> headers, Duration timeout) {
    /** The default export timeout. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** The path OTLP/HTTP receivers take traces on. */
    public static final String TRACES_PATH = "/v1/traces";

    /** Validates and copies. */
    public Otlp {
      Objects.requireNonNull(endpoint, "endpoint");
      if (!("http".equals(endpoint.getScheme()) || "https".equals(endpoint.getScheme()))
          || endpoint.getHost() == null) {
        throw new IllegalArgumentException("telemetry.otlp.endpoint must be an http or https URL"
            + " with a host, got '" + endpoint + "'");
      }
      headers = Map.copyOf(headers);
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("telemetry.otlp.timeout must be positive");
      }
    }

    /**
     * Where spans are posted: the endpoint with {@code /v1/traces} appended, unless its path
     * already ends so (as {@code OTEL_EXPORTER_OTLP_ENDPOINT} and {@code
     * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} are read).
     */
    public URI tracesUrl() {
      String text = endpoint.toString();
      if (endpoint.getPath() != null && endpoint.getPath().endsWith(TRACES_PATH)) {
        return endpoint;
      }
      return URI.create((text.endsWith("/") ? text.substring(0, text.length() - 1) : text) + TRACES_PATH);
    }

    @Override
    public String toString() {
      return "Otlp[endpoint=" + endpoint + ", headers=" + headers.keySet() + ", timeout=" + timeout + "]";
    }
  }
}
