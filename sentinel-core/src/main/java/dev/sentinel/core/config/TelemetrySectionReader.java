package dev.sentinel.core.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code telemetry:} section into {@link Telemetry}, recording every problem
 * in the shared reader. Not thread-safe: one per load.
 */
final class TelemetrySectionReader {
  static final List<String> TELEMETRY_KEYS = List.of("service_name", "sample_ratio", "otlp");
  static final List<String> OTLP_KEYS = List.of("endpoint", "headers", "timeout");
  private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  private final ConfigReader in;
  private final Expander expander;

  TelemetrySectionReader(ConfigReader in, Expander expander) {
    this.in = in;
    this.expander = expander;
  }

  /** The section, or {@link Telemetry#NONE} when absent or after recording problems. */
  Telemetry read() {
    String p = "/telemetry";
    JsonNode node = in.node(p);
    if (node.isMissingNode() || node.isNull()) {
      return Telemetry.NONE;
    }
    String subject = "telemetry";
    if (!in.checkKeys(p, null, TELEMETRY_KEYS)) {
      return Telemetry.NONE;
    }
    String service = Telemetry.DEFAULT_SERVICE_NAME;
    if (in.present(p + "/service_name", subject, false)) {
      String text = in.string(p + "/service_name", subject, "a service name such as sentinel");
      if (text != null && text.isBlank()) {
        in.error(p + "/service_name", subject, "service_name must not be blank");
      } else if (text != null) {
        service = text.strip();
      }
    }
    double ratio = 1.0;
    if (in.present(p + "/sample_ratio", subject, false)) {
      JsonNode raw = in.node(p + "/sample_ratio");
      if (!raw.isNumber() || !(raw.doubleValue() >= 0 && raw.doubleValue() <= 1)) {
        in.error(p + "/sample_ratio", subject, "expected a number from 0 to 1 (the share of"
            + " calls traced), got " + ConfigReader.describe(raw));
      } else {
        ratio = raw.doubleValue();
      }
    }
    Telemetry.Otlp otlp = null;
    if (in.present(p + "/otlp", subject, false)) {
      otlp = otlp(p + "/otlp", "telemetry.otlp");
    }
    return in.hasErrors() ? Telemetry.NONE : new Telemetry(service, ratio, otlp);
  }

  private Telemetry.@Nullable Otlp otlp(String p, @Nullable String subject) {
    if (!in.checkKeys(p, subject, OTLP_KEYS)) {
      return null;
    }
    URI endpoint = null;
    if (in.present(p + "/endpoint", subject, true)) {
      String raw = in.string(p + "/endpoint", subject, "a URL such as http://127.0.0.1:4318");
      String text = raw == null ? null : expander.expand(raw, p + "/endpoint", subject);
      if (text != null) {
        try {
          endpoint = new URI(text.strip());
          if (!("http".equals(endpoint.getScheme()) || "https".equals(endpoint.getScheme()))
              || endpoint.getHost() == null) {
            in.error(p + "/endpoint", subject, "expected an http or https URL with a host (the"
                + " collector's OTLP/HTTP port, such as http://127.0.0.1:4318), got '" + text + "'");
            endpoint = null;
          }
        } catch (URISyntaxException e) {
          in.error(p + "/endpoint", subject, "not a URL: '" + text + "'");
        }
      }
    }
    Map<String, String> headers = new LinkedHashMap<>();
    if (in.present(p + "/headers", subject, false)) {
      JsonNode raw = in.node(p + "/headers");
      if (!raw.isObject()) {
        in.error(p + "/headers", subject, "expected a mapping of header names to values, got "
            + ConfigReader.describe(raw));
      } else {
        for (String header : raw.propertyNames()) {
          String hp = YamlDocument.child(p + "/headers", header);
          String template = in.string(hp, subject, "a header value");
          if (!HEADER_NAME.matcher(header).matches()) {
            in.error(hp, subject, "invalid header name '" + header + "'");
            continue;
          }
          String value = template == null ? null : expander.expand(template, hp, subject);
          if (value == null) {
            continue;
          }
          if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
            // The value may be a secret: never shown.
            in.error(hp, subject, "the value of header '" + header + "' contains a line break");
            continue;
          }
          headers.put(header, value);
        }
      }
    }
    Duration timeout = Telemetry.Otlp.DEFAULT_TIMEOUT;
    if (in.present(p + "/timeout", subject, false)) {
      JsonNode raw = in.node(p + "/timeout");
      try {
        if (!raw.isString()) {
          throw new IllegalArgumentException("expected a duration such as 500ms, 10s or 1m");
        }
        Duration parsed = Units.parseDuration(raw.stringValue());
        if (parsed.isZero()) {
          throw new IllegalArgumentException("must be longer than zero");
        }
        timeout = parsed;
      } catch (IllegalArgumentException e) {
        in.error(p + "/timeout", subject, "timeout: " + e.getMessage() + ", got "
            + ConfigReader.describe(raw));
      }
    }
    return endpoint == null ? null : new Telemetry.Otlp(endpoint, headers, timeout);
  }
}
