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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * How the LLM route reads request bodies, with clients that misbehave on the wire: bodies that
 * arrive in pieces, stop arriving, are cut, run over the limit with or without a declared length,
 * or are not JSON. No server thread waits for a body; each request gets its own answer and one
 * audit record; a body never whole is never forwarded. Raw sockets write exactly the bytes each
 * case needs; the gateway's idle timeout is short, so that a stalled body times out.
 */
class LlmBodyTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Duration IDLE_TIMEOUT = Duration.ofMillis(1_500);

  @TempDir static Path dir;
  private static ModelFixture fixture;
  private static IssuedKey alice;
  private static GatewayRuntime runtime;
  private static HttpGateway gateway;
  private static final HttpClient raw =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    fixture = ModelFixture.start();
    ApiKeys keys = ApiKeys.create(InMemoryKeyStore.create(), Clock.system());
    alice = keys.issue("alice", Set.of("developer"), "alice's key", null);
    GatewayConfig config = GatewayConfig.parse(config(fixture.v1()), "llm-body-test.yaml", dir,
        Map.of("UPSTREAM_KEY", "sk-upstream-body"));
    runtime = GatewayRuntime.start(config, new ManualClock(), Stores.none(),
        keys.authenticator());
    gateway = HttpGateway.builder().runtime(runtime).authenticator(keys.authenticator())
        .keepAlive(Duration.ofMillis(200)).idleTimeout(IDLE_TIMEOUT).build();
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
        + "  roles: { developer: {} }\n"
        + "  rules:\n"
        + "    - id: devs-any-model\n      allow: { roles: [developer], models: [\"*\"] }\n"
        + "llm:\n"
        + "  upstreams:\n"
        + "    - name: oai\n      api: openai\n      base_url: " + v1 + "\n"
        + "      api_key: ${env:UPSTREAM_KEY}\n      models: [echo]\n"
        + "  max_body_bytes: 64KiB\n"
        + "audit: { sinks: [ { jsonl: audit.jsonl } ], llm_bodies: redacted }\n";
  }

  private static String chat(String marker) {
    return "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"" + marker
        + "\"}]}";
  }

  private static String marker(String what) {
    return what + "-" + UUID.randomUUID();
  }

  private static String head(String framing) {
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + gateway.port()
        + "\r\nAuthorization: Bearer " + alice.secret()
        + "\r\nContent-Type: application/json\r\n" + framing + "\r\n\r\n";
  }

  private static Socket connect() throws IOException {
    Socket socket = new Socket("127.0.0.1", gateway.port());
    socket.setSoTimeout(30_000);
    return socket;
  }

  private static void send(Socket socket, String text) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** One HTTP/1.1 answer read from a socket: status, headers (lower-cased names) and body. */
  private record Answer(int status, Map<String, String> headers, String body) {
    JsonNode json() {
      return JSON.readTree(body);
    }
  }

  private static Answer read(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      head.write(b);
      if (head.size() >= 4 && head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        break;
      }
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    assertThat(lines[0]).as("a status line").startsWith("HTTP/1.1 ");
    int status = Integer.parseInt(lines[0].substring(9, 12));
    Map<String, String> headers = new java.util.HashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
            lines[i].substring(colon + 1).trim());
      }
    }
    int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
    String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
    return new Answer(status, headers, body);
  }

  private static HttpResponse<String> post(String body) throws Exception {
    return raw.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + gateway.port() + "/v1/chat/completions"))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + alice.secret())
        .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
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

  private static long records(String marker) {
    return trail().stream().filter(r -> r.at("/arguments/body/messages/0/content").asString("")
        .equals(marker)).count();
  }

  private static long refusedAs(String rule) {
    return trail().stream().filter(r -> r.path("rules").size() == 1
        && r.path("rules").get(0).asString().equals(rule)).count();
  }

  private static boolean forwarded(String marker) {
    return fixture.requests().stream().anyMatch(seen -> seen.body().contains(marker));
  }

  /** Threads parked (waiting) somewhere inside the LLM handler. */
  private static List<String> parkedInTheHandler() {
    List<String> parked = new ArrayList<>();
    Thread.getAllStackTraces().forEach((thread, stack) -> {
      Thread.State state = thread.getState();
      if (state != Thread.State.WAITING && state != Thread.State.TIMED_WAITING) {
        return;
      }
      for (StackTraceElement frame : stack) {
        if (frame.getClassName().startsWith(LlmHandler.class.getName())) {
          parked.add(thread.getName());
          return;
        }
      }
    });
    return parked;
  }

  // ---- bodies in pieces ---------------------------------------------------------------------

  @Test
  void bodiesInPieces_fromManyClients_holdNoServerThread_andEachGetsItsOwnAnswerAndRecord()
      throws Exception {
    int clients = 12;
    List<Socket> sockets = new ArrayList<>();
    List<String> markers = new ArrayList<>();
    List<byte[]> bodies = new ArrayList<>();
    try {
      for (int c = 0; c < clients; c++) {
        String marker = marker("piece-" + c);
        byte[] body = chat(marker).getBytes(StandardCharsets.UTF_8);
        Socket socket = connect();
        sockets.add(socket);
        markers.add(marker);
        bodies.add(body);
        // The head and half the body; the rest comes later, or a thread would wait for it.
        send(socket, head("Content-Length: " + body.length));
        socket.getOutputStream().write(body, 0, body.length / 2);
        socket.getOutputStream().flush();
      }
      // Meanwhile another client is served.
      String other = marker("whole");
      HttpResponse<String> served = post(chat(other));
      assertThat(served.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(served.body()).at("/choices/0/message/content").asString())
          .isEqualTo(other);
      assertThat(parkedInTheHandler()).as("threads waiting in the handler for a body").isEmpty();
      // The second halves, in the reverse order: each answer is its own body's.
      for (int c = clients - 1; c >= 0; c--) {
        byte[] body = bodies.get(c);
        sockets.get(c).getOutputStream().write(body, body.length / 2,
            body.length - body.length / 2);
        sockets.get(c).getOutputStream().flush();
      }
      for (int c = 0; c < clients; c++) {
        Answer answer = read(sockets.get(c));
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json().at("/choices/0/message/content").asString())
            .isEqualTo(markers.get(c));
      }
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
    Conditions.await("a record of every request",
        () -> markers.stream().allMatch(marker -> records(marker) >= 1));
    for (String marker : markers) {
      assertThat(records(marker)).as("records of " + marker).isEqualTo(1);
    }
  }

  @Test
  void chunkedBodyInPieces_isServed() throws Exception {
    String marker = marker("chunked");
    String body = chat(marker);
    int half = body.length() / 2;
    try (Socket socket = connect()) {
      send(socket, head("Transfer-Encoding: chunked"));
      send(socket, Integer.toHexString(half) + "\r\n" + body.substring(0, half) + "\r\n");
      String rest = body.substring(half);
      send(socket, Integer.toHexString(rest.length()) + "\r\n" + rest + "\r\n0\r\n\r\n");
      Answer answer = read(socket);
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.json().at("/choices/0/message/content").asString()).isEqualTo(marker);
    }
  }

  @Test
  void pathsBesideTheRoute_areStillServed_byTheHandlersAfterIt() throws Exception {
    // They run on the server's pool now that the server itself does not block.
    HttpResponse<String> live = raw.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + gateway.port() + "/livez")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(live.statusCode()).isEqualTo(200);
    HttpResponse<String> mcp = raw.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + gateway.port() + "/mcp"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,"
            + "\"method\":\"ping\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(mcp.statusCode()).as("no credentials").isEqualTo(401);
    HttpResponse<String> none = raw.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + gateway.port() + "/no-such-path")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(none.statusCode()).isEqualTo(404);
  }

  // ---- bodies never whole -------------------------------------------------------------------

  @Test
  void bodyThatStopsArriving_is408_recorded_andNeverForwarded() throws Exception {
    String marker = marker("stalled");
    byte[] body = chat(marker).getBytes(StandardCharsets.UTF_8);
    long before = refusedAs("body-timeout");
    try (Socket socket = connect()) {
      send(socket, head("Content-Length: " + (body.length + 100)));
      socket.getOutputStream().write(body);
      socket.getOutputStream().flush();
      // Nothing more: the idle timeout passes.
      Answer answer = read(socket);
      assertThat(answer.status()).isEqualTo(408);
      assertThat(answer.headers().get("connection")).isEqualToIgnoringCase("close");
      assertThat(answer.json().at("/error/message").asString())
          .contains("stopped arriving");
    }
    Conditions.await("the stalled request is recorded", () -> refusedAs("body-timeout") > before);
    assertThat(refusedAs("body-timeout")).isEqualTo(before + 1);
    assertThat(forwarded(marker)).isFalse();
  }

  @Test
  void clientThatGoesAwayMidBody_isRecorded_neverForwarded_andOthersAreServed()
      throws Exception {
    String marker = marker("cut");
    byte[] body = chat(marker).getBytes(StandardCharsets.UTF_8);
    long before = refusedAs("body-incomplete");
    try (Socket socket = connect()) {
      send(socket, head("Content-Length: " + (body.length + 100)));
      socket.getOutputStream().write(body);
      socket.getOutputStream().flush();
    }
    Conditions.await("the cut request is recorded", () -> refusedAs("body-incomplete") > before);
    String other = marker("after-cut");
    HttpResponse<String> served = post(chat(other));
    assertThat(served.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(served.body()).at("/choices/0/message/content").asString())
        .isEqualTo(other);
    assertThat(refusedAs("body-incomplete")).isEqualTo(before + 1);
    assertThat(forwarded(marker)).isFalse();
  }

  @Test
  void chunkedBodyOverTheLimit_is413_andNeverForwarded() throws Exception {
    String marker = marker("chunked-over");
    long before = refusedAs("body-too-large");
    String pad = "a".repeat(8 * 1024);
    try (Socket socket = connect()) {
      send(socket, head("Transfer-Encoding: chunked"));
      String start = "{\"model\":\"echo\",\"marker\":\"" + marker + "\",\"pad\":\"";
      send(socket, Integer.toHexString(start.length()) + "\r\n" + start + "\r\n");
      for (int i = 0; i < 10; i++) { // 80 KiB, over the 64 KiB limit
        send(socket, Integer.toHexString(pad.length()) + "\r\n" + pad + "\r\n");
      }
      send(socket, "2\r\n\"}\r\n0\r\n\r\n");
      Answer answer = read(socket);
      assertThat(answer.status()).isEqualTo(413);
      assertThat(answer.headers().get("connection")).isEqualToIgnoringCase("close");
      assertThat(answer.json().at("/error/message").asString()).contains("larger than 65536");
    }
    Conditions.await("the request is recorded", () -> refusedAs("body-too-large") > before);
    assertThat(forwarded(marker)).isFalse();
  }

  @Test
  void declaredLengthFarOverTheLimit_is413_beforeTheBodyIsRead() throws Exception {
    long before = refusedAs("body-too-large");
    try (Socket socket = connect()) {
      // Declares 100 MiB and sends none of it: the answer comes without reading it.
      send(socket, head("Content-Length: " + (100L << 20)));
      Answer answer = read(socket);
      assertThat(answer.status()).isEqualTo(413);
      assertThat(answer.headers().get("connection")).isEqualToIgnoringCase("close");
    }
    Conditions.await("the request is recorded", () -> refusedAs("body-too-large") > before);
  }

  @Test
  void malformedJsonInPieces_is400_recorded_andNeverForwarded() throws Exception {
    String marker = marker("malformed");
    String body = "{\"model\":\"echo\",\"messages\":[{\"content\":\"" + marker + "\"";
    long before = refusedAs("invalid-request");
    try (Socket socket = connect()) {
      send(socket, head("Transfer-Encoding: chunked"));
      send(socket, Integer.toHexString(10) + "\r\n" + body.substring(0, 10) + "\r\n");
      String rest = body.substring(10);
      send(socket, Integer.toHexString(rest.length()) + "\r\n" + rest + "\r\n0\r\n\r\n");
      Answer answer = read(socket);
      assertThat(answer.status()).isEqualTo(400);
      assertThat(answer.json().at("/error/message").asString()).contains("not valid JSON");
    }
    Conditions.await("the request is recorded", () -> refusedAs("invalid-request") > before);
    assertThat(forwarded(marker)).isFalse();
  }
}
