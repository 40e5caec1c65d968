package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The Streamable HTTP transport end to end: real HTTP over 127.0.0.1, a real governed engine from
 * a config, and a real MCP server (the SDK fixture) in a child JVM.
 */
class HttpGatewayTest {
  @TempDir static Path dir;
  static Fixture fixture;
  static HttpGateway gateway;
  Client alice;

  @BeforeAll
  static void start() {
    fixture = new Fixture(dir);
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

  @AfterEach
  void healthy() {
    // Whatever a test did, a session opened before it keeps working.
    alice.assertStillServed();
  }

  @Test
  void initialize_answersJsonWithASessionId() {
    Client client = new Client(gateway.endpoint(), fixture.alice.secret());
    HttpResponse<String> response = client.post(Client.initializeBody("{}"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("application/json"));
    String session = response.headers().firstValue("Mcp-Session-Id").orElseThrow();
    assertThat(session).matches("[\\x21-\\x7E]{32,}");
    JsonNode result = Client.JSON.readTree(response.body()).get("result");
    assertThat(result.get("protocolVersion").asString()).isEqualTo("2025-11-25");
    assertThat(result.path("capabilities").has("tools")).isTrue();
  }

  @Test
  void toolsListAndCall_answerJson() {
    HttpResponse<String> list = alice.post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode tools = Client.JSON.readTree(list.body()).path("result").path("tools");
    assertThat(tools.findValuesAsString("name")).contains("fx__echo", "fx__progress", "fx__sample");

    HttpResponse<String> call = alice.post(Client.call(2, "fx__echo", "hello"));
    assertThat(call.statusCode()).isEqualTo(200);
    JsonNode answer = Client.JSON.readTree(call.body());
    assertThat(answer.get("id").asInt()).isEqualTo(2);
    assertThat(answer.path("result").path("content").get(0).path("text").asString()).isEqualTo("hello");
  }

  @Test
  void toolsCall_withProgress_answersSse() {
    String body = "{\"jsonrpc\":\"2.0\",\"id\":\"p1\",\"method\":\"tools/call\",\"params\":{\"name\":\"fx__progress\","
        + "\"arguments\":{},\"_meta\":{\"progressToken\":\"tok-7\"}}}";
    HttpResponse<String> response = alice.post(body);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    assertThat(response.body()).startsWith("id: 1-0\ndata: \n\n");
    List<JsonNode> events = Client.events(response.body());
    assertThat(events).hasSize(3);
    assertThat(events.get(0).get("method").asString()).isEqualTo("notifications/progress");
    assertThat(events.get(0).path("params").path("progressToken").asString()).isEqualTo("tok-7");
    assertThat(events.get(1).path("params").path("message").asString()).isEqualTo("done");
    assertThat(events.get(2).get("id").asString()).isEqualTo("p1");
    assertThat(events.get(2).path("result").path("content").get(0).path("text").asString()).isEqualTo("progressed");
  }

  @Test
  void toolsCall_whenOnlySseAccepted_answersSse() {
    HttpResponse<String> response = alice.post(Client.call(3, "fx__echo", "streamed"), "Accept", "text/event-stream");

    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    List<JsonNode> events = Client.events(response.body());
    assertThat(events).hasSize(1);
    assertThat(events.get(0).path("result").path("content").get(0).path("text").asString()).isEqualTo("streamed");
  }

  @Test
  void toolsCall_whenOnlyJsonAccepted_sendsProgressToTheSessionStream() {
    String body = "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"fx__progress\","
        + "\"arguments\":{},\"_meta\":{\"progressToken\":5}}}";
    HttpResponse<String> response = alice.post(body, "Accept", "application/json");

    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(Client.JSON.readTree(response.body()).path("result").path("content").get(0).path("text").asString())
        .isEqualTo("progressed");
  }

  @Test
  void notificationsAndResponses_areAccepted202() {
    HttpResponse<String> notification = alice.post(
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":777}}");
    assertThat(notification.statusCode()).isEqualTo(202);
    assertThat(notification.body()).isEmpty();

    HttpResponse<String> response = alice.post("{\"jsonrpc\":\"2.0\",\"id\":12345,\"result\":{}}");
    assertThat(response.statusCode()).isEqualTo(202);
  }

  @Test
  void sampling_duringACall_travelsOnThatCallsStream() throws Exception {
    Client client = new Client(gateway.endpoint(), fixture.alice.secret());
    client.initialize("{\"sampling\":{}}");
    HttpResponse<InputStream> call = client.postStreaming(Client.call(5, "fx__sample", ""));
    assertThat(call.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    try (InputStream in = call.body()) {
      String[] request = Client.nextEvent(in);
      JsonNode sampling = Client.JSON.readTree(request[1]);
      assertThat(sampling.get("method").asString()).isEqualTo("sampling/createMessage");

      HttpResponse<String> answered = client.post("{\"jsonrpc\":\"2.0\",\"id\":" + sampling.get("id")
          + ",\"result\":{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":\"hi there\"},"
          + "\"model\":\"test\"}}");
      assertThat(answered.statusCode()).isEqualTo(202);

      String[] result = Client.nextEvent(in);
      JsonNode answer = Client.JSON.readTree(result[1]);
      assertThat(answer.get("id").asInt()).isEqualTo(5);
      assertThat(answer.path("result").path("content").get(0).path("text").asString()).isEqualTo("sampled: hi there");
      assertThat(Client.nextEvent(in)).isNull();
    }
  }

  @Test
  void aCallTheClientCancels_endsItsStreamWithoutAnAnswer_andLeavesNothingWaiting() throws Exception {
    Client client = new Client(gateway.endpoint(), fixture.alice.secret());
    client.initialize("{\"sampling\":{}}");
    HttpResponse<InputStream> call = client.postStreaming(Client.call(8, "fx__sample", ""));
    try (InputStream in = call.body()) {
      // The backend's question travels on the call's stream: the call is in flight.
      assertThat(Client.JSON.readTree(Client.nextEvent(in)[1]).get("method").asString())
          .isEqualTo("sampling/createMessage");

      HttpResponse<String> cancelled = client.post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
          + "\"params\":{\"requestId\":8,\"reason\":\"changed my mind\"}}");
      assertThat(cancelled.statusCode()).isEqualTo(202);

      assertThat(Client.nextEvent(in)).as("the stream ends, with no answer to the cancelled call").isNull();
    }
    client.assertStillServed();
  }

  @Test
  void aJsonOnlyCallTheClientCancels_isAnswered204() throws Exception {
    Client client = new Client(gateway.endpoint(), fixture.alice.secret());
    client.initialize("{\"sampling\":{}}");
    HttpResponse<InputStream> stream = client.listen();
    try (InputStream in = stream.body()) {
      java.util.concurrent.CompletableFuture<HttpResponse<String>> call = java.util.concurrent.CompletableFuture
          .supplyAsync(() -> client.post(Client.call(9, "fx__sample", ""), "Accept", "application/json"));
      // A JSON-only call's question goes to the session's stream: the call is in flight.
      assertThat(Client.JSON.readTree(Client.nextEvent(in)[1]).get("method").asString())
          .isEqualTo("sampling/createMessage");

      client.post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":9}}");

      HttpResponse<String> answered = call.get(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(answered.statusCode()).isEqualTo(204);
      assertThat(answered.body()).isEmpty();
    }
  }

  @Test
  void get_streamsMessagesTiedToNoRequest_andBuffersThemWhileClosed() throws Exception {
    Client client = new Client(gateway.endpoint(), fixture.alice.secret());
    client.initialize();
    // Sent while no stream is open: buffered for the session.
    assertThat(client.post(Client.call(6, "fx__changed", "")).statusCode()).isEqualTo(200);

    HttpResponse<InputStream> stream = client.listen();
    assertThat(stream.statusCode()).isEqualTo(200);
    assertThat(stream.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    try (InputStream in = stream.body()) {
      String[] buffered = Client.nextEvent(in);
      assertThat(Client.JSON.readTree(buffered[1]).get("method").asString())
          .isEqualTo("notifications/tools/list_changed");
      assertThat(buffered[0]).startsWith("0-");

      assertThat(client.post(Client.call(7, "fx__changed", "")).statusCode()).isEqualTo(200);
      String[] live = Client.nextEvent(in);
      assertThat(Client.JSON.readTree(live[1]).get("method").asString())
          .isEqualTo("notifications/tools/list_changed");
    }
  }

  @Test
  void get_withLastEventId_resumesAfterIt() throws Exception {
    Client client = new Client(gateway.endpoint(), fixture.alice.secret());
    client.initialize();
    String firstId;
    HttpResponse<InputStream> stream = client.listen();
    try (InputStream in = stream.body()) {
      assertThat(client.post(Client.call(8, "fx__changed", "")).statusCode()).isEqualTo(200);
      firstId = Client.nextEvent(in)[0];
    }
    assertThat(client.post(Client.call(9, "fx__changed", "")).statusCode()).isEqualTo(200);

    HttpResponse<InputStream> resumed = client.listen("Last-Event-ID", firstId);
    try (InputStream in = resumed.body()) {
      String[] next = Client.nextEvent(in);
      // Event ids are <stream>-<sequence>: the next event of the same stream.
      String[] first = firstId.split("-");
      String[] second = next[0].split("-");
      assertThat(second[0]).isEqualTo(first[0]);
      assertThat(Long.parseLong(second[1])).isEqualTo(Long.parseLong(first[1]) + 1);
    }
  }

  @Test
  void delete_endsTheSession_then404() {
    Client client = new Client(gateway.endpoint(), fixture.alice.secret());
    client.initialize();

    assertThat(client.delete().statusCode()).isEqualTo(200);
    HttpResponse<String> after = client.post(Client.call(10, "fx__echo", "gone"));
    assertThat(after.statusCode()).isEqualTo(404);
    assertThat(Client.JSON.readTree(after.body()).path("error").path("code").asInt()).isEqualTo(-32001);
    assertThat(client.get().statusCode()).isEqualTo(404);
    assertThat(client.delete().statusCode()).isEqualTo(404);
  }

  @Test
  void unknownSession_is404_missingSession_is400() {
    Client stranger = new Client(gateway.endpoint(), fixture.alice.secret());
    stranger.session = "no-such-session-id";
    assertThat(stranger.post(Client.call(11, "fx__echo", "x")).statusCode()).isEqualTo(404);

    Client none = new Client(gateway.endpoint(), fixture.alice.secret());
    HttpResponse<String> missing = none.post(Client.call(12, "fx__echo", "x"));
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(missing.body()).contains("Mcp-Session-Id");
    assertThat(none.get().statusCode()).isEqualTo(400);
  }

  @Test
  void protocolVersionHeader_whenUnsupported_is400() {
    assertThat(alice.post(Client.call(13, "fx__echo", "x"), "MCP-Protocol-Version", "2099-01-01").statusCode())
        .isEqualTo(400);
    assertThat(alice.post(Client.call(14, "fx__echo", "x"), "MCP-Protocol-Version", "2025-06-18").statusCode())
        .isEqualTo(200);
  }

  @Test
  void initialize_withASessionId_is400() {
    assertThat(alice.post(Client.initializeBody("{}")).statusCode()).isEqualTo(400);
  }

  @Test
  void duplicateInFlightId_isRefused_notMisrouted() {
    // Sequential calls may reuse an id once answered.
    assertThat(alice.post(Client.call(15, "fx__echo", "a")).body()).contains("\"a\"");
    assertThat(alice.post(Client.call(15, "fx__echo", "b")).body()).contains("\"b\"");
  }

  @Test
  void healthEndpoints() {
    assertThat(alice.plain("/healthz").statusCode()).isEqualTo(200);
    assertThat(alice.plain("/livez").statusCode()).isEqualTo(200);
    HttpResponse<String> ready = alice.plain("/readyz");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(Client.JSON.readTree(ready.body()).path("backends").path("fx").asString()).isEqualTo("UP");
    assertThat(alice.plain("/nothing").statusCode()).isEqualTo(404);
  }

  @Test
  void otherMethods_are405() {
    HttpResponse<String> put = alice.http.sendAsync(java.net.http.HttpRequest.newBuilder(gateway.endpoint())
            .header("X-API-Key", fixture.alice.secret())
            .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString()).join();
    assertThat(put.statusCode()).isEqualTo(405);
    assertThat(put.headers().firstValue("Allow")).hasValue("GET, POST, DELETE");
  }
}
