package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code telemetry:} section: OTLP traces, off unless an exporter is configured. */
class TelemetryConfigTest {
  @TempDir Path dir;

  private GatewayConfig parse(String telemetry) {
    return GatewayConfig.parse(telemetry + GatewayConfigTest.MINIMAL, "sentinel.yaml", dir,
        Map.of("OTLP_TOKEN", "Bearer collector-secret-0123456789"));
  }

  private String problems(String telemetry) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(telemetry));
    assertThat(e).as("expected a ConfigException for:\n" + telemetry).isNotNull();
    return e.getMessage();
  }

  @Test
  void absent_meansNoTracing() {
    assertThat(parse("").telemetry()).isEqualTo(Telemetry.NONE);
    assertThat(Telemetry.NONE.enabled()).isFalse();
    assertThat(parse("telemetry: { service_name: gw }\n").telemetry().enabled()).isFalse();
  }

  @Test
  void anOtlpExporter_isRead_withDefaults_andItsHeadersNeverPrinted() {
    Telemetry telemetry = parse("telemetry:\n  otlp:\n    endpoint: http://127.0.0.1:4318\n"
        + "    headers: { Authorization: \"${env:OTLP_TOKEN}\" }\n").telemetry();
    assertThat(telemetry.enabled()).isTrue();
    assertThat(telemetry.serviceName()).isEqualTo(Telemetry.DEFAULT_SERVICE_NAME);
    assertThat(telemetry.sampleRatio()).isEqualTo(1.0);
    assertThat(telemetry.otlp().endpoint()).isEqualTo(URI.create("http://127.0.0.1:4318"));
    assertThat(telemetry.otlp().tracesUrl()).isEqualTo(URI.create("http://127.0.0.1:4318/v1/traces"));
    assertThat(telemetry.otlp().timeout()).isEqualTo(Telemetry.Otlp.DEFAULT_TIMEOUT);
    assertThat(telemetry.otlp().headers())
        .containsExactly(Map.entry("Authorization", "Bearer collector-secret-0123456789"));
    assertThat(telemetry.toString()).doesNotContain("collector-secret");
  }

  @Test
  void everyKey_isRead() {
    Telemetry telemetry = parse("telemetry:\n  service_name: edge-gateway\n  sample_ratio: 0.25\n"
        + "  otlp:\n    endpoint: https://otel.example.com/v1/traces\n    timeout: 3s\n").telemetry();
    assertThat(telemetry.serviceName()).isEqualTo("edge-gateway");
    assertThat(telemetry.sampleRatio()).isEqualTo(0.25);
    assertThat(telemetry.otlp().tracesUrl()).isEqualTo(URI.create("https://otel.example.com/v1/traces"));
    assertThat(telemetry.otlp().timeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(new Telemetry.Otlp(URI.create("http://c:4318/otel/"), Map.of(), Duration.ofSeconds(1))
        .tracesUrl()).isEqualTo(URI.create("http://c:4318/otel/v1/traces"));
  }

  @Test
  void badValues_areLocatedErrors() {
    assertThat(problems("telemetry:\n  otlp:\n    endpoint: grpc://127.0.0.1:4317\n"))
        .contains("sentinel.yaml:3:5: telemetry.otlp: expected an http or https URL with a host");
    assertThat(problems("telemetry:\n  otlp: {}\n")).contains("missing required key 'endpoint'");
    assertThat(problems("telemetry:\n  sample_ratio: 2\n  otlp: { endpoint: http://c:4318 }\n"))
        .contains("expected a number from 0 to 1");
    assertThat(problems("telemetry:\n  otlp: { endpoint: http://c:4318, timeout: 10 }\n"))
        .contains("timeout:");
    assertThat(problems("telemetry:\n  otlp: { endpoint: http://c:4318, protocol: grpc }\n"))
        .contains("unknown key 'protocol'");
    assertThat(problems("telemetry:\n  exporter: otlp\n")).contains("unknown key 'exporter'");
    assertThat(problems("telemetry:\n  otlp: { endpoint: http://c:4318, headers: { \"a b\": x } }\n"))
        .contains("invalid header name 'a b'");
  }
}
