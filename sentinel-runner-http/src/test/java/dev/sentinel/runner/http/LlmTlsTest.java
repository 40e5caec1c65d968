package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.auth.InMemoryKeyStore;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.config.Tls;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.runner.http.llm.ModelFixture;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LLM route's client-disconnect detection over TLS: a client that goes away mid-stream, or
 * while a whole answer is awaited, cancels its upstream request, whether it closes TLS cleanly
 * ({@code close_notify}) or drops the TCP connection under it; other clients are served on.
 * {@code sentinel http} serves HTTP/1.1 only (no HTTP/2 connection factory), so that is what
 * these clients speak.
 */
class LlmTlsTest {
  @TempDir static Path dir;
  private static SelfSigned certificate;
  private static ModelFixture fixture;
  private static IssuedKey alice;
  private static GatewayRuntime runtime;
  private static HttpGateway gateway;
  private static SSLContext trusting;

  @BeforeAll
  static void start() throws Exception {
    certificate = SelfSigned.generate(dir, "EC");
    trusting = SelfSigned.trusting(certificate);
    fixture = ModelFixture.start();
    ApiKeys keys = ApiKeys.create(InMemoryKeyStore.create(), Clock.system());
    alice = keys.issue("alice", Set.of("developer"), "alice's key", null);
    String java = ProcessHandle.current().info().command().orElse("java");
    String yaml = "backends:\n"
        + "  - name: fx\n    stdio:\n      command: " + quote(java) + "\n"
        + "      args: [\"-cp\", " + quote(System.getProperty("java.class.path")) + ", "
        + quote("dev.sentinel.runner.http.FixtureServer") + "]\n"
        + "policy:\n  roles: { developer: {} }\n  rules:\n"
        + "    - id: devs-any-model\n      allow: { roles: [developer], models: [\"*\"] }\n"
        + "llm:\n  upstreams:\n"
        + "    - name: oai\n      api: openai\n      base_url: " + fixture.v1() + "\n"
        + "      api_key: ${env:UPSTREAM_KEY}\n      models: [gpt-4o, drip, linger]\n"
        + "  keep_alive: 50ms\n"
        + "audit: { sinks: [ { jsonl: audit.jsonl } ] }\n";
    GatewayConfig config = GatewayConfig.parse(yaml, "llm-tls.yaml", dir,
        Map.of("UPSTREAM_KEY", "sk-upstream"));
    runtime = GatewayRuntime.start(config, new ManualClock(), Stores.none(),
        keys.authenticator());
    gateway = HttpGateway.builder().runtime(runtime).authenticator(keys.authenticator())
        .tls(new Tls(certificate.writeCertificate(dir.resolve("cert.pem")),
            certificate.writeKey(dir.resolve("key.pem"))))
        .build();
    gateway.start();
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (runtime != null) {
      runtime.close();
    }
    fixture.close();
  }

  private static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** How a client goes away. */
  private enum Leaving {
    /** TLS closed cleanly: {@code close_notify}, then the TCP close. */
    CLOSE_NOTIFY,
    /** The TCP connection reset under TLS, with no {@code close_notify}. */
    RESET
  }

  /** A client on its own TLS connection, speaking HTTP/1.1 bytes. */
  private static final class TlsClient implements AutoCloseable {
    private final Socket tcp;
    private final SSLSocket tls;
    private final InputStream in;

    TlsClient() throws IOException {
      tcp = new Socket("127.0.0.1", gateway.port());
      tcp.setSoTimeout(30_000);
      tls = (SSLSocket) trusting.getSocketFactory().createSocket(tcp, "127.0.0.1",
          gateway.port(), false);
      tls.startHandshake();
      in = tls.getInputStream();
    }

    void send(String body) throws IOException {
      tls.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:"
          + gateway.port() + "\r\nAuthorization: Bearer " + alice.secret()
          + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
          + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
      tls.getOutputStream().flush();
    }

    /** Reads until {@code events} more SSE events have arrived; the text read. */
    String readEvents(int events) throws IOException {
      StringBuilder seen = new StringBuilder();
      int count = 0;
      while (count < events) {
        int c = in.read();
        assertThat(c).as("the stream goes on").isNotNegative();
        seen.append((char) c);
        if (seen.length() >= 6 && seen.substring(seen.length() - 6).equals("data: ")) {
          count++;
        }
      }
      return seen.toString();
    }

    void leave(Leaving how) throws IOException {
      if (how == Leaving.RESET) {
        tcp.setSoLinger(true, 0);
        tcp.close();
      } else {
        tls.close();
        tcp.close();
      }
    }

    @Override
    public void close() throws IOException {
      tcp.close();
    }
  }

  private static long cancelled(String model) {
    assertThat(runtime.sentinel().audit().flush(Duration.ofSeconds(10))).isTrue();
    try {
      return Files.readAllLines(dir.resolve("audit.jsonl")).stream()
          .filter(line -> line.contains("\"name\":\"" + model + "\"")
              && line.contains("\"outcome\":\"CANCELLED\""))
          .count();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpResponse<String> wholeAnswer(HttpClient client) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gateway.port()
            + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + alice.secret())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o\",\"messages\":[]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void streamThatLeaves_cancelsOnlyItsUpstream(Leaving how) throws Exception {
    int before = fixture.cancels();
    long recorded = cancelled("drip");
    String stream = "{\"model\":\"drip\",\"stream\":true,\"messages\":[]}";
    try (TlsClient leaving = new TlsClient(); TlsClient staying = new TlsClient()) {
      leaving.send(stream);
      staying.send(stream);
      assertThat(leaving.readEvents(3)).startsWith("HTTP/1.1 200");
      assertThat(staying.readEvents(3)).startsWith("HTTP/1.1 200");
      leaving.leave(how);
      Conditions.await("the fixture sees the cancel", () -> fixture.cancels() > before);
      Conditions.await("the call is recorded cancelled", () -> cancelled("drip") > recorded);
      // The other stream, on its own TLS connection, goes on.
      assertThat(staying.readEvents(5)).contains("chat.completion.chunk");
      assertThat(fixture.cancels()).isEqualTo(before + 1);
    }
    Conditions.await("the second stream's cancel", () -> fixture.cancels() > before + 1);
  }

  private static void wholeAnswerThatLeaves_cancelsOnlyItsUpstream(Leaving how)
      throws Exception {
    int before = fixture.cancels();
    long recorded = cancelled("linger");
    HttpClient other = HttpClient.newBuilder().sslContext(trusting)
        .version(HttpClient.Version.HTTP_1_1).build();
    try (TlsClient leaving = new TlsClient()) {
      leaving.send("{\"model\":\"linger\",\"messages\":[]}");
      Conditions.await("the upstream has the request", () -> fixture.lingering() > 0);
      // Another client, meanwhile, is served as usual.
      assertThat(wholeAnswer(other).statusCode()).isEqualTo(200);
      leaving.leave(how);
      // Not left to run until first_byte_timeout: the gateway finds the client gone.
      Conditions.await("the fixture sees the cancel", () -> fixture.cancels() > before);
      Conditions.await("the call is recorded cancelled", () -> cancelled("linger") > recorded);
      Conditions.await("the upstream request has ended", () -> fixture.lingering() == 0);
      assertThat(wholeAnswer(other).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void http2_isNotOfferedOverTls_soClientsSpeakHttp11() throws Exception {
    // A client that offers h2 by ALPN is answered in HTTP/1.1 (LlmRouteTest's clients offer the
    // h2c upgrade in the clear and get HTTP/1.1 too).
    HttpClient h2 = HttpClient.newBuilder().sslContext(trusting)
        .version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> tls = wholeAnswer(h2);
    assertThat(tls.statusCode()).isEqualTo(200);
    assertThat(tls.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    // Prior knowledge: the HTTP/2 connection preface is not a request the server takes.
    try (TlsClient client = new TlsClient()) {
      client.tls.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      client.tls.getOutputStream().flush();
      String answer = new String(client.in.readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(answer).startsWith("HTTP/1.1 4");
    }
    try (SSLSocket alpn = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1",
        gateway.port())) {
      javax.net.ssl.SSLParameters parameters = alpn.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2", "http/1.1"});
      alpn.setSSLParameters(parameters);
      alpn.startHandshake();
      // No protocol was negotiated: the server takes part in no ALPN, so never in h2.
      assertThat(alpn.getApplicationProtocol()).isEmpty();
    }
  }

  @Test
  void tls_streamingClientThatClosesTls_cancelsItsUpstream_andOtherStreamsContinue()
      throws Exception {
    streamThatLeaves_cancelsOnlyItsUpstream(Leaving.CLOSE_NOTIFY);
  }

  @Test
  void tls_streamingClientWhoseConnectionIsReset_cancelsItsUpstream_andOtherStreamsContinue()
      throws Exception {
    streamThatLeaves_cancelsOnlyItsUpstream(Leaving.RESET);
  }

  @Test
  void tls_clientThatClosesTls_beforeAWholeAnswer_cancelsItsUpstream() throws Exception {
    wholeAnswerThatLeaves_cancelsOnlyItsUpstream(Leaving.CLOSE_NOTIFY);
  }

  @Test
  void tls_clientWhoseConnectionIsReset_beforeAWholeAnswer_cancelsItsUpstream()
      throws Exception {
    wholeAnswerThatLeaves_cancelsOnlyItsUpstream(Leaving.RESET);
  }
}
