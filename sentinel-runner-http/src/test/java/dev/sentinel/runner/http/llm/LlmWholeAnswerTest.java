package dev.sentinel.runner.http.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.InMemoryKeyStore;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.runner.http.HttpGateway;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Whole (non-streamed) answers on the LLM route, on every path a request can end by: each request
 * gets its own answer and exactly one audit record with the outcome of its path (allowed, refused
 * by the policy or a budget, upstream error, upstream timeouts before and during the answer, a
 * client that went away, an answer too large), and an upstream request whose client went away is
 * cancelled. Every request carries a unique marker in its body, which the trail shows
 * ({@code audit.llm_bodies: redacted}), so that records are counted per request.
 */
class LlmWholeAnswerTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir static Path dir;
  private static ModelFixture fixture;
  private static IssuedKey alice;
  private static IssuedKey ian;
  private static GatewayRuntime runtime;
  private static HttpGateway gateway;
  private static final HttpClient raw =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    fixture = ModelFixture.start();
    ApiKeys keys = ApiKeys.create(InMemoryKeyStore.create(), Clock.system());
    alice = keys.issue("alice", Set.of("developer"), "alice's key", null);
    ian = keys.issue("ian", Set.of("intern"), "ian's key", null);
    GatewayConfig config = GatewayConfig.parse(config(fixture.v1()), "llm-whole-test.yaml", dir,
        Map.of("UPSTREAM_KEY", "sk-upstream-whole"));
    runtime = GatewayRuntime.start(config, new ManualClock(), Stores.none(),
        keys.authenticator());
    gateway = HttpGateway.builder().runtime(runtime).authenticator(keys.authenticator()).build();
    gateway.start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    runtime.close();
    fixture.close();
  }

  private static String config(URI v1) {
    String java = ProcessHandle.current().info().command().orElse("java");
    return "backends:\n"
        + "  - name: fx\n    stdio:\n      command: \"" + java + "\"\n"
        + "      args: [\"-cp\", \"" + System.getProperty("java.class.path") + "\", "
        + "\"dev.sentinel.runner.http.FixtureServer\"]\n"
        + "policy:\n"
        + "  roles: { developer: {}, intern: {} }\n"
        + "  rules:\n"
        + "    - id: devs-any-model\n      allow: { roles: [developer], models: [\"*\"] }\n"
        + "    - id: interns-echo\n      allow: { roles: [intern], models: [echo] }\n"
        + "llm:\n"
        + "  upstreams:\n"
        + "    - name: oai\n      api: openai\n      base_url: " + v1 + "\n"
        + "      api_key: ${env:UPSTREAM_KEY}\n"
        + "      models: [echo, gpt-4o, error-429, error-500, error-big, linger, huge]\n"
        + "    - name: slow\n      api: openai\n      base_url: " + v1 + "\n"
        + "      api_key: ${env:UPSTREAM_KEY}\n      models: [hang]\n"
        + "      first_byte_timeout: 300ms\n"
        + "    - name: stalling\n      api: openai\n      base_url: " + v1 + "\n"
        + "      api_key: ${env:UPSTREAM_KEY}\n      models: [stall]\n"
        + "      idle_timeout: 300ms\n"
        + "  budgets:\n    - { id: interns-daily, tokens: 30/day, per: [principal], roles: [intern] }\n"
        + "  keep_alive: 50ms\n  default_reservation: 20\n"
        + "audit: { sinks: [ { jsonl: audit.jsonl } ], llm_bodies: redacted }\n";
  }

  private static URI origin() {
    return URI.create("http://127.0.0.1:" + gateway.port());
  }

  /** A chat request for the model whose one message is the marker. */
  private static String chat(String model, String marker) {
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
        + marker + "\"}]}";
  }

  private static HttpResponse<String> post(String key, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(origin() + "/v1/chat/completions"))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + key)
        .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build();
    return raw.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static List<JsonNode> trail() {
    assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(10))).isTrue();
    List<JsonNode> out = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(dir.resolve("audit.jsonl"))) {
        out.add(JSON.readTree(line));
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  /** Whether the record is of the request that carried the marker. */
  private static Predicate<JsonNode> of(String marker) {
    return record -> record.at("/arguments/body/messages/0/content").asString("").equals(marker);
  }

  /**
   * The one record of the request that carried the marker, once it is written. A second record
   * of the same request would be written by the same completion, before the record of a request
   * sent after it: one more request, recorded, shows that none came.
   */
  private static JsonNode onlyRecord(String marker) {
    Conditions.await("the record of " + marker, () -> trail().stream().anyMatch(of(marker)));
    String after = marker("after");
    try {
      assertThat(post(alice.secret(), chat("echo", after)).statusCode()).isEqualTo(200);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    Conditions.await("the record of " + after, () -> trail().stream().anyMatch(of(after)));
    List<JsonNode> records = trail().stream().filter(of(marker)).toList();
    assertThat(records).as("records of " + marker).hasSize(1);
    return records.get(0);
  }

  private static String marker(String what) {
    return what + "-" + UUID.randomUUID();
  }

  private static String errorMessage(HttpResponse<String> response) {
    return JSON.readTree(response.body()).at("/error/message").asString();
  }

  // ---- allowed, many at once ---------------------------------------------------------------

  @Test
  void sixteenConcurrentClients_eachGetTheirOwnAnswer_andOneRecordPerRequest() throws Exception {
    int clients = 16;
    int each = 20;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<String> markers = new ArrayList<>();
    try {
      List<Future<List<String>>> runs = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        runs.add(pool.submit(() -> {
          List<String> sent = new ArrayList<>();
          for (int i = 0; i < each; i++) {
            String marker = marker("client-" + client + "-" + i);
            HttpResponse<String> response = post(alice.secret(), chat("echo", marker));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(response.body()).at("/choices/0/message/content")
                .asString()).isEqualTo(marker);
            sent.add(marker);
          }
          return sent;
        }));
      }
      for (Future<List<String>> run : runs) {
        markers.addAll(run.get());
      }
    } finally {
      pool.shutdownNow();
    }
    Set<String> expected = Set.copyOf(markers);
    assertThat(expected).hasSize(clients * each);
    Conditions.await("a record of every request", () -> trail().stream()
        .filter(r -> expected.contains(r.at("/arguments/body/messages/0/content").asString("")))
        .count() >= expected.size());
    List<JsonNode> records = trail().stream()
        .filter(r -> expected.contains(r.at("/arguments/body/messages/0/content").asString("")))
        .toList();
    assertThat(records).hasSize(expected.size());
    assertThat(records.stream().map(r -> r.at("/arguments/body/messages/0/content").asString()))
        .doesNotHaveDuplicates();
    assertThat(records).allSatisfy(r -> {
      assertThat(r.get("outcome").asString()).isEqualTo("ALLOWED");
      assertThat(r.at("/arguments/status").asInt()).isEqualTo(200);
      assertThat(r.at("/arguments/usage/total").asLong())
          .isEqualTo(ModelFixture.INPUT_TOKENS + ModelFixture.OUTPUT_TOKENS);
      assertThat(r.get("response_digest").asString()).startsWith("hmac-sha256:");
    });
  }

  // ---- refused --------------------------------------------------------------------------------

  @Test
  void refusedByThePolicy_is403_oneRecord_neverForwarded() throws Exception {
    String marker = marker("denied");
    HttpResponse<String> response = post(ian.secret(), chat("gpt-4o", marker));
    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(fixture.requests().stream().filter(s -> s.body().contains(marker))).isEmpty();
    assertThat(onlyRecord(marker).get("outcome").asString()).isEqualTo("DENIED");
  }

  @Test
  void refusedByATokenBudget_is429_oneRecord_neverForwarded() throws Exception {
    // 30 tokens a day; 20 reserved per request, 17 used: the second cannot be reserved.
    String first = marker("budget-first");
    assertThat(post(ian.secret(), chat("echo", first)).statusCode()).isEqualTo(200);
    assertThat(onlyRecord(first).get("outcome").asString()).isEqualTo("ALLOWED");
    String second = marker("budget-second");
    HttpResponse<String> limited = post(ian.secret(), chat("echo", second));
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).isPresent();
    assertThat(fixture.requests().stream().filter(s -> s.body().contains(second))).isEmpty();
    JsonNode record = onlyRecord(second);
    assertThat(record.get("outcome").asString()).isEqualTo("LIMITED");
    assertThat(record.get("rules").toString()).contains("interns-daily");
  }

  // ---- upstream errors and timeouts ----------------------------------------------------------

  @Test
  void upstreamError_isPassedOn_oneFailedRecord() throws Exception {
    String marker = marker("error-500");
    HttpResponse<String> failed = post(alice.secret(), chat("error-500", marker));
    assertThat(failed.statusCode()).isEqualTo(500);
    assertThat(errorMessage(failed)).isEqualTo("the fixture failed");
    JsonNode record = onlyRecord(marker);
    assertThat(record.get("outcome").asString()).isEqualTo("FAILED");
    assertThat(record.at("/arguments/status").asInt()).isEqualTo(500);

    String limited = marker("error-429");
    HttpResponse<String> slowDown = post(alice.secret(), chat("error-429", limited));
    assertThat(slowDown.statusCode()).isEqualTo(429);
    assertThat(slowDown.headers().firstValue("Retry-After")).hasValue("7");
    assertThat(onlyRecord(limited).get("outcome").asString()).isEqualTo("FAILED");
  }

  @Test
  void upstreamErrorTooLargeToPassOn_isAGenericError_oneFailedRecord() throws Exception {
    String marker = marker("error-big");
    HttpResponse<String> failed = post(alice.secret(), chat("error-big", marker));
    assertThat(failed.statusCode()).isEqualTo(500);
    assertThat(errorMessage(failed)).isEqualTo("the upstream answered 500");
    assertThat(onlyRecord(marker).get("outcome").asString()).isEqualTo("FAILED");
  }

  @Test
  void upstreamThatNeverAnswers_is504_oneTimedOutRecord() throws Exception {
    String marker = marker("hang");
    HttpResponse<String> response = post(alice.secret(), chat("hang", marker));
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(errorMessage(response)).isEqualTo("the upstream did not answer in time");
    JsonNode record = onlyRecord(marker);
    assertThat(record.get("outcome").asString()).isEqualTo("TIMED_OUT");
    assertThat(record.toString()).contains("first_byte_timeout");
  }

  @Test
  void upstreamThatStallsMidAnswer_is504_oneTimedOutRecord_andIsCancelled() throws Exception {
    String marker = marker("stall");
    int cancels = fixture.cancels();
    HttpResponse<String> response = post(alice.secret(), chat("stall", marker));
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(errorMessage(response)).isEqualTo("the upstream stopped answering");
    assertThat(onlyRecord(marker).get("outcome").asString()).isEqualTo("TIMED_OUT");
    Conditions.await("the upstream sees its request end", () -> fixture.cancels() > cancels);
  }

  @Test
  void answerTooLarge_is502_oneFailedRecord_andTheUpstreamIsCut() throws Exception {
    String marker = marker("huge");
    int cancels = fixture.cancels();
    HttpResponse<String> response = post(alice.secret(), chat("huge", marker));
    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(errorMessage(response)).contains("larger than 32 MiB");
    assertThat(onlyRecord(marker).get("outcome").asString()).isEqualTo("FAILED");
    Conditions.await("the upstream's answer is cut", () -> fixture.cancels() > cancels);
  }

  // ---- the client goes away ------------------------------------------------------------------

  @Test
  void clientThatGoesAway_cancelsTheUpstream_oneCancelledRecord_othersServed() throws Exception {
    String marker = marker("linger");
    int cancels = fixture.cancels();
    String body = chat("linger", marker);
    try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
      socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:"
          + gateway.port() + "\r\nAuthorization: Bearer " + alice.secret()
          + "\r\nContent-Type: application/json\r\nContent-Length: "
          + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
          .getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
      Conditions.await("the upstream has the request", () -> fixture.requests().stream()
          .anyMatch(s -> s.body().contains(marker)));
      // Meanwhile another client is served, with its own answer.
      String other = marker("meanwhile");
      HttpResponse<String> served = post(alice.secret(), chat("echo", other));
      assertThat(JSON.readTree(served.body()).at("/choices/0/message/content").asString())
          .isEqualTo(other);
    }
    Conditions.await("the upstream sees the cancel", () -> fixture.cancels() > cancels);
    Conditions.await("the call is recorded", () -> trail().stream().anyMatch(of(marker)));
    assertThat(onlyRecord(marker).get("outcome").asString()).isEqualTo("CANCELLED");
  }
}
