package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.config.Admin;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.metrics.GatewayMetrics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code /metrics} on a real gateway: after allowed, denied, rate-limited and unknown-tool calls,
 * the scrape (parsed line by line) counts each by method, tool and outcome, folds the unknown
 * tool into {@code other}, and is served only to the operators' token; the Grafana dashboard
 * uses only metric names a scrape shows.
 */
class MetricsTest {
  static final String TOKEN = "operators-token-0123456789abcdefghijklmnop";
  static final Path DASHBOARD = Path.of("..", "examples", "grafana", "sentinel-dashboard.json");

  @TempDir static Path dir;
  static Fixture fixture;
  static HttpGateway gateway;
  static Exposition scrape;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    String yaml = Fixture.backend()
        + "policy:\n"
        + "  rules:\n"
        + "    - id: no-announcements\n"
        + "      deny: { tools: [\"fx__changed\"] }\n"
        + "    - id: everything\n"
        + "      allow: {}\n"
        + "  limits:\n"
        + "    - id: one-progress\n"
        + "      rate: 1/day\n"
        + "      tools: [\"fx__progress\"]\n"
        + "audit: { sinks: [ { slf4j: dev.sentinel.audit } ] }\n";
    fixture = new Fixture(dir, yaml, UnaryOperator.identity());
    gateway = fixture.start(fixture.gateway().admin(new Admin(TOKEN)));

    Client alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.initialize();
    assertThat(alice.post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}").body()).contains("fx__echo");
    for (int i = 0; i < 3; i++) {
      assertThat(alice.post(Client.call(10 + i, "fx__echo", "hi")).body()).contains("hi");
    }
    for (int i = 0; i < 2; i++) {
      assertThat(alice.post(Client.call(20 + i, "fx__changed", "x")).body()).contains("DENIED");
    }
    assertThat(alice.post(Client.call(30, "fx__progress", "x")).body()).contains("progressed");
    assertThat(alice.post(Client.call(31, "fx__progress", "x")).body()).contains("LIMITED");
    alice.post(Client.call(40, "fx__no-such-tool", "x"));
    alice.post(Client.call(41, "fx__another-made-up-tool", "x"));
    // jvm_gc_pause_seconds appears with the first collection the JVM reports: one is asked for,
    // so that the dashboard's GC panel can be checked against a real scrape.
    System.gc();
    Conditions.await("a GC pause in the scrape", () ->
        get("/metrics", "Bearer " + TOKEN, null).body().contains("jvm_gc_pause_seconds_count"));
    scrape = Exposition.parse(get("/metrics", "Bearer " + TOKEN, null).body());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  static HttpResponse<String> get(HttpGateway on, String path, String authorization, String accept) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + on.port() + path)).GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    if (accept != null) {
      request.header("Accept", accept);
    }
    try {
      return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static HttpResponse<String> get(String path, String authorization, String accept) {
    return get(gateway, path, authorization, accept);
  }

  @Test
  void scrape_hasTheJvmAndProcessMetrics() {
    for (String name : new String[] {"jvm_memory_used_bytes", "jvm_threads_live_threads",
        "jvm_classes_loaded_classes", "jvm_gc_max_data_size_bytes", "process_cpu_usage",
        "process_uptime_seconds", "process_files_open_files"}) {
      assertThat(scrape.find(name)).as(name).isNotEmpty();
    }
  }

  @Test
  void scrape_countsCallsByMethodToolAndOutcome() {
    String requests = "sentinel_requests_total";
    assertThat(scrape.value(requests, "method", "tools/call", "tool", "fx__echo", "outcome", "allowed")).isEqualTo(3);
    assertThat(scrape.value(requests, "method", "tools/call", "tool", "fx__changed", "outcome", "denied")).isEqualTo(2);
    assertThat(scrape.value(requests, "method", "tools/call", "tool", "fx__progress", "outcome", "allowed")).isEqualTo(1);
    assertThat(scrape.value(requests, "method", "tools/call", "tool", "fx__progress", "outcome", "limited")).isEqualTo(1);
    assertThat(scrape.sum(requests, "method", "tools/call")).isEqualTo(9);
    assertThat(scrape.sum(requests, "method", "tools/list")).isEqualTo(1);

    assertThat(scrape.value("sentinel_denials_total", "rule", "no-announcements")).isEqualTo(2);
    // The made-up tools: no backend lists them, so the schema check refuses them before the policy.
    assertThat(scrape.value("sentinel_denials_total", "rule", "schema")).isEqualTo(2);
    assertThat(scrape.find("sentinel_denials_total")).hasSize(2);
    assertThat(scrape.value("sentinel_limiter_refusals_total", "rule", "one-progress")).isEqualTo(1);

    assertThat(scrape.value("sentinel_request_duration_seconds_count", "method", "tools/call")).isEqualTo(9);
    assertThat(scrape.value("sentinel_request_duration_seconds_bucket", "method", "tools/call", "le", "+Inf"))
        .isEqualTo(9);
    assertThat(scrape.find("sentinel_request_duration_seconds_bucket", "method", "tools/call")).hasSize(17);
    assertThat(scrape.value("sentinel_backend_up", "backend", "fx")).isEqualTo(1);
    assertThat(scrape.value("sentinel_backend_restarts_total", "backend", "fx")).isEqualTo(0);
    assertThat(scrape.value("sentinel_backend_connections", "backend", "fx")).isEqualTo(1); // alice's, per principal
    assertThat(scrape.value("sentinel_backend_log_messages_total", "backend", "fx")).isEqualTo(0);
    assertThat(scrape.value("sentinel_config_info", "revision", fixture.config.revision())).isEqualTo(1);
    assertThat(scrape.value("sentinel_audit_queue_depth")).isGreaterThanOrEqualTo(0);
    assertThat(scrape.value("sentinel_audit_failures_total")).isZero();
    assertThat(scrape.value("sentinel_audit_dropped_total")).isZero();
    assertThat(scrape.value("sentinel_http_sessions")).isEqualTo(1);
    assertThat(scrape.value("sentinel_http_connections")).isGreaterThanOrEqualTo(1);
    assertThat(scrape.value("sentinel_http_responses_total", "status", "200")).isGreaterThanOrEqualTo(11);
    assertThat(scrape.value("sentinel_http_responses_total", "status", "202")).isEqualTo(1);
  }

  @Test
  void unknownTools_foldIntoOther() {
    assertThat(scrape.sum("sentinel_requests_total", "method", "tools/call", "tool", GatewayMetrics.OTHER)).isEqualTo(2);
    Set<String> tools = new TreeSet<>();
    scrape.find("sentinel_requests_total").forEach(sample -> tools.add(sample.labels().get("tool")));
    assertThat(tools).containsExactly("", "fx__changed", "fx__echo", "fx__progress", "other");
  }

  @Test
  void withoutTheToken_is401AndListsNothing() {
    for (String authorization : new String[] {null, "Bearer wrong", "Bearer " + fixture.alice.secret(), TOKEN}) {
      HttpResponse<String> response = get("/metrics", authorization, null);
      assertThat(response.statusCode()).isEqualTo(401);
      assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
      assertThat(response.body()).doesNotContain("sentinel_").doesNotContain("fx__");
    }
  }

  @Test
  void openMetrics_whenAsked() {
    HttpResponse<String> response = get("/metrics", "Bearer " + TOKEN, "application/openmetrics-text; version=1.0.0");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
        v -> assertThat(v).startsWith("application/openmetrics-text"));
    assertThat(response.body()).endsWith("# EOF\n");
    Exposition open = Exposition.parse(response.body());
    assertThat(open.value("sentinel_requests_total", "method", "tools/call", "tool", "fx__echo", "outcome", "allowed"))
        .isEqualTo(3);

    HttpResponse<String> text = get("/metrics", "Bearer " + TOKEN, null);
    assertThat(text.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
  }

  @Test
  void withoutAnAdminToken_is404_unlessPublic() {
    try (HttpGateway closed = fixture.gateway().build()) {
      closed.start();
      HttpResponse<String> response = get(closed, "/metrics", "Bearer " + TOKEN, null);
      assertThat(response.statusCode()).isEqualTo(404);
      assertThat(response.body()).doesNotContain("sentinel_");
    }
    try (HttpGateway open = fixture.gateway().publicMetrics(true).build()) {
      open.start();
      HttpResponse<String> response = get(open, "/metrics", null, null);
      assertThat(response.statusCode()).isEqualTo(200);
      Exposition parsed = Exposition.parse(response.body());
      assertThat(parsed.find("sentinel_backend_up", "backend", "fx")).hasSize(1);
      // a public endpoint still refuses a foreign Host (a rebound DNS name in a browser)
      String answer = rawGet(open.port(), "/metrics", "evil.example:" + open.port());
      assertThat(answer).startsWith("HTTP/1.1 403").doesNotContain("sentinel_");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void otherMethods_are405() {
    HttpResponse<String> response;
    try {
      response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/metrics"))
          .header("Authorization", "Bearer " + TOKEN)
          .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
    assertThat(response.statusCode()).isEqualTo(405);
  }

  @Test
  void dashboard_usesOnlyExportedMetrics() throws IOException {
    JsonNode dashboard = Client.JSON.readTree(Files.readString(DASHBOARD));
    Set<String> used = new LinkedHashSet<>();
    Pattern name = Pattern.compile("\\b((?:sentinel|jvm|process)_[a-z_]+)\\b");
    Set<String> exprs = new LinkedHashSet<>();
    collect(dashboard, exprs);
    assertThat(exprs).isNotEmpty();
    for (String expr : exprs) {
      Matcher matcher = name.matcher(expr);
      while (matcher.find()) {
        used.add(matcher.group(1));
      }
    }
    Set<String> exported = new TreeSet<>(scrape.names());
    assertThat(used).isNotEmpty();
    assertThat(exported).containsAll(used);
    assertThat(used).contains("sentinel_requests_total", "sentinel_request_duration_seconds_bucket",
        "sentinel_denials_total", "sentinel_limiter_refusals_total", "sentinel_backend_up",
        "sentinel_backend_restarts_total", "sentinel_audit_queue_depth");
    assertThat(used).contains("jvm_memory_used_bytes", "jvm_gc_pause_seconds_sum",
        "jvm_threads_live_threads", "process_cpu_usage");
    assertThat(dashboard.path("templating").toString()).contains("prometheus");
  }

  /**
   * An import asks for the Prometheus to use: the dashboard declares the input {@code
   * DS_PROMETHEUS}, its data source variable starts on that input, and every panel, query and
   * variable reads its data source through the variable (or the input itself), never a uid of
   * one Grafana's own.
   */
  @Test
  void dashboard_everyDataSourceUsesTheDeclaredInput() throws IOException {
    JsonNode dashboard = Client.JSON.readTree(Files.readString(DASHBOARD));
    JsonNode inputs = dashboard.path("__inputs");
    assertThat(inputs.size()).isEqualTo(1);
    assertThat(inputs.get(0).path("name").asString()).isEqualTo("DS_PROMETHEUS");
    assertThat(inputs.get(0).path("type").asString()).isEqualTo("datasource");
    assertThat(inputs.get(0).path("pluginId").asString()).isEqualTo("prometheus");

    JsonNode variable = null;
    for (JsonNode candidate : dashboard.path("templating").path("list")) {
      if (candidate.path("type").asString().equals("datasource")) {
        variable = candidate;
      }
    }
    assertThat(variable).as("the data source variable").isNotNull();
    assertThat(variable.path("query").asString()).isEqualTo("prometheus");
    assertThat(variable.path("current").path("value").asString()).isEqualTo("${DS_PROMETHEUS}");
    String reference = "${" + variable.path("name").asString() + "}";

    int panels = 0;
    for (JsonNode panel : dashboard.path("panels")) {
      if (panel.path("type").asString().equals("row")) {
        continue;
      }
      panels++;
      assertThat(panel.path("targets").isEmpty()).as(panel.path("title").asString()).isFalse();
      assertThat(panel.has("datasource")).as(panel.path("title").asString()).isTrue();
    }
    assertThat(panels).isGreaterThanOrEqualTo(20);
    java.util.List<JsonNode> sources = new java.util.ArrayList<>();
    dataSources(dashboard, sources);
    assertThat(sources).hasSizeGreaterThan(2 * panels);
    for (JsonNode source : sources) {
      assertThat(source.path("type").asString()).as(source.toString()).isEqualTo("prometheus");
      assertThat(source.path("uid").asString()).as(source.toString()).isIn(reference, "${DS_PROMETHEUS}");
    }
  }

  private static void dataSources(JsonNode node, java.util.List<JsonNode> found) {
    if (node.isObject()) {
      node.properties().forEach(entry -> {
        if (entry.getKey().equals("datasource") && entry.getValue().isObject()) {
          found.add(entry.getValue());
        } else {
          dataSources(entry.getValue(), found);
        }
      });
    } else if (node.isArray()) {
      node.forEach(child -> dataSources(child, found));
    }
  }

  private static void collect(JsonNode node, Set<String> exprs) {
    if (node.isObject()) {
      node.properties().forEach(entry -> {
        if (entry.getKey().equals("expr") && entry.getValue().isString()) {
          exprs.add(entry.getValue().stringValue());
        } else {
          collect(entry.getValue(), exprs);
        }
      });
    } else if (node.isArray()) {
      node.forEach(child -> collect(child, exprs));
    }
  }

  private static String rawGet(int port, String path, String host) throws IOException {
    return Client.raw(port, "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n", null, false);
  }
}
