package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.NumbersServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Numbers through the HTTP gateway, byte level on both sides: raw request bodies, and a backend
 * child process ({@link NumbersServer}) that shows the line it received and answers with numbers
 * written by hand. Request ids that could not be answered with the same token are refused with
 * id null; progress tokens may be any number ({@link FixtureServer}'s {@code progress} tool).
 */
class HttpNumbersTest {
  private static final String ARGUMENTS = "{\"a\":12345678901234567.89,\"b\":0.1000000000000000000001,"
      + "\"c\":1e999999,\"d\":-0.0,\"e\":1.10,\"f\":123456789012345678901234567890,\"g\":1.5e1,"
      + "\"h\":-1E-999999}";
  private static final String REFUSAL = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
      + "\"message\":\"invalid request: \\\"id\\\" must be a string or an integer of at most 64 bits\"}}";

  @TempDir static Path dir;
  static Fixture fixture;
  static HttpGateway gateway;
  Client alice;

  @BeforeAll
  static void start() {
    String java = ProcessHandle.current().info().command().orElse("java");
    String yaml = Fixture.backend()
        + "  - name: numbers\n"
        + "    stdio:\n"
        + "      command: " + Fixture.quote(java) + "\n"
        + "      args: [\"-cp\", " + Fixture.quote(System.getProperty("java.class.path")) + ", "
        + Fixture.quote(NumbersServer.class.getName()) + "]\n"
        + "policy: { rules: [ { id: everything, allow: {} } ] }\n"
        + "audit: { sinks: [ { jsonl: audit.jsonl } ] }\n";
    fixture = new Fixture(dir, yaml, UnaryOperator.identity());
    gateway = fixture.start(fixture.gateway());
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @BeforeEach
  void session() {
    alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.initialize();
  }

  private static String call(String id, String arguments) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\","
        + "\"params\":{\"name\":\"numbers__numbers\",\"arguments\":" + arguments + "}}";
  }

  @Test
  void toolsCall_numbersCrossTheGatewayAsSent_bothWays() throws Exception {
    HttpResponse<String> response = alice.post(call("7", ARGUMENTS), "Accept", "application/json");

    assertThat(response.statusCode()).isEqualTo(200);
    String atTheBackend = Client.JSON.readTree(response.body()).path("result").path("content").get(0)
        .path("text").asString();
    assertThat(atTheBackend).contains("\"arguments\":" + ARGUMENTS);
    assertThat(response.body()).startsWith("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":")
        .contains("\"structuredContent\":{\"back\":[" + NumbersServer.NUMBERS + "]}");
    assertThat(fixture.runtime.sentinel().audit().flush(java.time.Duration.ofSeconds(30))).isTrue();
    assertThat(Files.readAllLines(dir.resolve("audit.jsonl"), StandardCharsets.UTF_8))
        .filteredOn(line -> line.contains("tools/call"))
        .anySatisfy(line -> assertThat(line).contains("\"arguments\":" + ARGUMENTS).hasSizeLessThan(2048));
  }

  @Test
  void toolsCall_numbersOverAnEventStream_areSentAsReceived() {
    HttpResponse<String> response = alice.post(call("8", ARGUMENTS), "Accept", "text/event-stream");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("\"structuredContent\":{\"back\":[" + NumbersServer.NUMBERS + "]}");
    JsonNode answer = Client.events(response.body()).get(Client.events(response.body()).size() - 1);
    assertThat(answer.path("result").path("content").get(0).path("text").asString())
        .contains("\"arguments\":" + ARGUMENTS);
  }

  @ParameterizedTest(name = "token {0}")
  @ValueSource(strings = {"1e999999", "1.5", "18446744073709551617"})
  void toolsCall_withAnyNumberProgressToken_getsItsProgressOnItsOwnStream(String token) {
    HttpResponse<String> response = alice.post("{\"jsonrpc\":\"2.0\",\"id\":\"p1\",\"method\":\"tools/call\","
        + "\"params\":{\"name\":\"fx__progress\",\"arguments\":{},\"_meta\":{\"progressToken\":" + token + "}}}");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    assertThat(response.body()).contains("\"progressToken\":" + token + ",");
    assertThat(Client.events(response.body())).filteredOn(e -> e.has("method")).hasSize(2);
  }

  @ParameterizedTest(name = "id {0}")
  @ValueSource(strings = {"1e999", "1.5", "1.0", "18446744073709551617", "null"})
  void request_withIdThatCannotRoundTrip_is400WithNullId(String id) {
    for (String body : new String[] {"{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"ping\"}",
        call(id, "{}"), "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/list\"}"}) {
      HttpResponse<String> response = alice.post(body);

      assertThat(response.statusCode()).as(body).isEqualTo(400);
      assertThat(response.body()).as(body).isEqualTo(REFUSAL);
    }
    assertThat(alice.post(call("2", "{}")).statusCode()).as("the session still serves").isEqualTo(200);
  }

  @ParameterizedTest(name = "id {0}")
  @ValueSource(strings = {"9223372036854775807", "-9223372036854775808", "\"1e999\""})
  void request_with64BitOrStringId_isAnsweredWithTheSameToken(String id) {
    HttpResponse<String> response = alice.post(call(id, "{}"), "Accept", "application/json");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).startsWith("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":");
  }
}
