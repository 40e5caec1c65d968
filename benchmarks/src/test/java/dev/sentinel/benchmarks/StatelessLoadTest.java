package dev.sentinel.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@link HttpLoad}'s MCP 2026-07-28 client mode against a server that checks what it is sent. */
class StatelessLoadTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /**
   * A stateless MCP server on 127.0.0.1 for the one tool {@code echo}: it refuses (400) what the
   * gateway refuses from a 2026-07-28 client (a session id, {@code initialize}, a missing
   * {@code _meta} field, a header that does not mirror the body) and records why; it answers
   * calls with {@code resultType: complete}, or without it when {@code complete} is false.
   */
  private static final class StatelessServer implements AutoCloseable {
    final HttpServer server;
    final List<String> refusals = new CopyOnWriteArrayList<>();
    final AtomicLong calls = new AtomicLong();

    StatelessServer(boolean complete) throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.setExecutor(Executors.newFixedThreadPool(4));
      server.createContext("/mcp", exchange -> {
        try (exchange) {
          serve(exchange, complete);
        }
      });
      server.start();
    }

    URI endpoint() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/mcp");
    }

    private void serve(HttpExchange exchange, boolean complete) throws IOException {
      JsonNode request = JSON.readTree(exchange.getRequestBody().readAllBytes());
      JsonNode meta = request.path("params").path("_meta");
      String refusal = null;
      if (exchange.getRequestHeaders().containsKey("Mcp-Session-Id")) {
        refusal = "session id";
      } else if (!request.path("method").asString("").equals("tools/call")) {
        refusal = "method " + request.path("method").asString("");
      } else if (!meta.path("io.modelcontextprotocol/protocolVersion").asString("")
          .equals("2026-07-28")) {
        refusal = "_meta protocol version";
      } else if (!meta.path("io.modelcontextprotocol/clientCapabilities").isObject()
          || !meta.path("io.modelcontextprotocol/clientInfo").path("name").isString()) {
        refusal = "_meta capabilities or client info";
      } else if (!"2026-07-28".equals(exchange.getRequestHeaders().getFirst("MCP-Protocol-Version"))
          || !"tools/call".equals(exchange.getRequestHeaders().getFirst("Mcp-Method"))
          || !request.path("params").path("name").asString("")
              .equals(exchange.getRequestHeaders().getFirst("Mcp-Name"))) {
        refusal = "headers " + exchange.getRequestHeaders().entrySet();
      }
      if (refusal != null) {
        refusals.add(refusal);
        respond(exchange, 400, "{\"jsonrpc\":\"2.0\",\"id\":" + request.path("id")
            + ",\"error\":{\"code\":-32020,\"message\":\"" + refusal.replace('"', '\'') + "\"}}");
        return;
      }
      calls.incrementAndGet();
      respond(exchange, 200, "{\"jsonrpc\":\"2.0\",\"id\":" + request.path("id") + ",\"result\":"
          + "{\"content\":[{\"type\":\"text\",\"text\":"
          + request.path("params").path("arguments").path("text") + "}]"
          + (complete ? ",\"resultType\":\"complete\"" : "") + "}}");
    }

    private static void respond(HttpExchange exchange, int status, String body)
        throws IOException {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, bytes.length);
      exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
      server.stop(0);
      ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
  }

  @Test
  void run_stateless_sendsNoInitializeNoSession_andEveryCallCarriesMetaAndHeaders()
      throws Exception {
    try (StatelessServer server = new StatelessServer(true)) {
      HttpLoad.Outcome outcome = HttpLoad.run(HttpLoad.Settings.echo(server.endpoint(), 3,
          Duration.ofMillis(200), Duration.ofMillis(800), "stateless")
          .withProtocolVersion("2026-07-28"));
      assertThat(server.refusals).isEmpty();
      assertThat(outcome.errorSamples()).isEmpty();
      assertThat(outcome.errors()).isZero();
      assertThat(outcome.sessionFailures()).isZero();
      assertThat(outcome.calls()).isPositive();
      assertThat(server.calls.get()).isEqualTo(outcome.totalCalls());
    }
  }

  @Test
  void run_stateless_paced_measuresTheScheduledCalls() throws Exception {
    try (StatelessServer server = new StatelessServer(true)) {
      HttpLoad.Outcome outcome = HttpLoad.run(HttpLoad.Settings.echo(server.endpoint(), 2,
          Duration.ofMillis(300), Duration.ofSeconds(1), "paced")
          .withProtocolVersion("2026-07-28").withRate(100));
      assertThat(server.refusals).isEmpty();
      assertThat(outcome.errors()).isZero();
      assertThat(outcome.calls()).isBetween(96L, 104L);
    }
  }

  @Test
  void run_stateless_countsAnAnswerWithoutResultTypeAsAFailure() throws Exception {
    try (StatelessServer server = new StatelessServer(false)) {
      HttpLoad.Outcome outcome = HttpLoad.run(HttpLoad.Settings.echo(server.endpoint(), 1,
          Duration.ZERO, Duration.ofMillis(300), "x").withProtocolVersion("2026-07-28"));
      assertThat(outcome.calls()).isZero();
      assertThat(outcome.errors()).isPositive();
      assertThat(outcome.errorSamples()).first().asString().contains("not served statelessly");
    }
  }

  @Test
  void run_sessionBased_againstAStatelessServer_isRefused() throws Exception {
    try (StatelessServer server = new StatelessServer(true)) {
      HttpLoad.Outcome outcome = HttpLoad.run(HttpLoad.Settings.echo(server.endpoint(), 1,
          Duration.ZERO, Duration.ofMillis(300), "x").withProtocolVersion("2025-11-25"));
      assertThat(outcome.calls()).isZero();
      assertThat(outcome.sessionFailures()).isPositive();
      assertThat(server.refusals).first().asString().isEqualTo("method initialize");
    }
  }

  @Test
  void statelessMeta_isAnObjectWithTheVersionCapabilitiesAndInfo() throws Exception {
    JsonNode meta = JSON.readTree(HttpLoad.statelessMeta("2026-07-28"));
    assertThat(meta.path("io.modelcontextprotocol/protocolVersion").asString())
        .isEqualTo("2026-07-28");
    assertThat(meta.path("io.modelcontextprotocol/clientCapabilities").isObject()).isTrue();
    assertThat(meta.path("io.modelcontextprotocol/clientInfo").path("name").asString())
        .isEqualTo("sentinel-http-load");
  }

  @Test
  void headerValue_encodesWhatAHeaderCannotCarry() {
    assertThat(HttpLoad.headerValue("echo__echo")).isEqualTo("echo__echo");
    assertThat(HttpLoad.headerValue("héllo")).isEqualTo("=?base64?aMOpbGxv?=");
    assertThat(HttpLoad.headerValue(" padded")).startsWith("=?base64?");
  }
}
