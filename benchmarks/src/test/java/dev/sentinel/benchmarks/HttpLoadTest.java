package dev.sentinel.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class HttpLoadTest {
  @Test
  void run_againstInProcessEcho_callsWithoutErrors() throws Exception {
    try (EchoHttpServer echo = EchoHttpServer.start(0)) {
      HttpLoad.Outcome outcome = HttpLoad.run(HttpLoad.Settings.echo(URI.create(echo.endpoint()),
          4, Duration.ofMillis(200), Duration.ofSeconds(1), "smoke"));
      assertThat(outcome.errorSamples()).isEmpty();
      assertThat(outcome.errors()).isZero();
      assertThat(outcome.calls()).isPositive();
      assertThat(outcome.latency().count()).isEqualTo(outcome.calls());
      assertThat(outcome.totalCalls()).isGreaterThanOrEqualTo(outcome.calls());
      assertThat(echo.sessions()).isZero(); // every session was deleted at the end
    }
  }

  @Test
  void run_paced_measuresTheScheduledCalls() throws Exception {
    try (EchoHttpServer echo = EchoHttpServer.start(0)) {
      HttpLoad.Outcome outcome = HttpLoad.run(HttpLoad.Settings.echo(URI.create(echo.endpoint()),
          4, Duration.ofMillis(300), Duration.ofSeconds(1), "paced").withRate(200));
      assertThat(outcome.errorSamples()).isEmpty();
      assertThat(outcome.errors()).isZero();
      assertThat(outcome.targetRate()).isEqualTo(200);
      // Exactly the calls scheduled in the window: 4 sessions at 50/s for 1 s.
      assertThat(outcome.calls()).isBetween(196L, 204L);
      assertThat(outcome.latency().count()).isEqualTo(outcome.calls());
      assertThat(outcome.late()).isBetween(0L, outcome.calls());
      assertThat(echo.sessions()).isZero();
    }
  }

  @Test
  void settings_rejectANegativeRate() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HttpLoad.Settings.echo(
        URI.create("http://127.0.0.1:1/mcp"), 1, Duration.ZERO, Duration.ofSeconds(1), "x")
        .withRate(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void run_withWrongTool_countsEveryFailure() throws Exception {
    try (EchoHttpServer echo = EchoHttpServer.start(0)) {
      HttpLoad.Outcome outcome = HttpLoad.run(HttpLoad.Settings.echo(URI.create(echo.endpoint()),
          2, Duration.ZERO, Duration.ofSeconds(1), "x").withTool("no-such-tool"));
      assertThat(outcome.calls()).isZero();
      assertThat(outcome.errors()).isPositive();
      assertThat(outcome.errorSamples()).first().asString().contains("not a success");
    }
  }

  @Test
  void run_againstNoServer_countsFailedSessions() throws Exception {
    int port;
    try (EchoHttpServer echo = EchoHttpServer.start(0)) {
      port = URI.create(echo.endpoint()).getPort();
    }
    HttpLoad.Outcome outcome = HttpLoad.run(HttpLoad.Settings.echo(
        URI.create("http://127.0.0.1:" + port + "/mcp"), 2, Duration.ZERO,
        Duration.ofMillis(300), "x"));
    assertThat(outcome.calls()).isZero();
    assertThat(outcome.sessionFailures()).isPositive();
    assertThat(outcome.errors()).isEqualTo(outcome.sessionFailures());
  }

  @Test
  void eventFor_findsTheResponseAmongEvents() {
    String body = "id: 1-0\ndata: \n\n"
        + "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
        + "\"params\":{\"id\":7}}\n\n"
        + "event: message\ndata: {\"result\":{},\"jsonrpc\":\"2.0\",\"id\":7}\n\n";
    assertThat(HttpLoad.eventFor(body, 7)).isEqualTo("{\"result\":{},\"jsonrpc\":\"2.0\",\"id\":7}");
    assertThat(HttpLoad.eventFor(body, 70)).isNull();
    assertThat(HttpLoad.field("{\"protocolVersion\":\"2025-06-18\"}", "protocolVersion"))
        .isEqualTo("2025-06-18");
  }
}
