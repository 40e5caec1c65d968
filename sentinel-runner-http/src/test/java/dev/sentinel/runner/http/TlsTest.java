package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.Tls;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.mcp.gateway.RunOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code server.tls}: HTTPS with a PEM certificate and key, verified by clients that trust only
 * that certificate; reloaded when the files change; clear errors for files that cannot be used.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsTest {
  @TempDir static Path shared;
  // One backend and one set of certificates for the class: each costs a JVM to start.
  private Fixture fixture;
  private SelfSigned first;
  private SelfSigned second;
  private SelfSigned third;
  private SelfSigned rsa;
  private final List<HttpGateway> gateways = new ArrayList<>();
  /** This test's own folder, with {@link #first}'s certificate and key. */
  private Path dir;
  private Path certificate;
  private Path key;

  @BeforeAll
  void startFixture() throws Exception {
    fixture = new Fixture(shared);
    first = SelfSigned.generate(shared, "EC");
    second = SelfSigned.generate(shared, "EC");
    third = SelfSigned.generate(shared, "EC");
    rsa = SelfSigned.generate(shared, "RSA");
  }

  @AfterAll
  void stopFixture() {
    fixture.close();
  }

  @BeforeEach
  void writeFirst() throws Exception {
    dir = Files.createTempDirectory(shared, "case");
    certificate = first.writeCertificate(dir.resolve("cert.pem"));
    key = first.writeKey(dir.resolve("key.pem"));
  }

  @AfterEach
  void stopGateways() {
    gateways.forEach(HttpGateway::close);
    gateways.clear();
  }

  private HttpGateway start(HttpGateway.Builder builder) {
    HttpGateway gateway = builder.build();
    gateways.add(gateway);
    gateway.start();
    return gateway;
  }

  private static HttpClient verifying(SSLContext context) {
    return HttpClient.newBuilder().sslContext(context).version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  @Test
  void https_anMcpCall_isServedToAClientThatVerifiesTheCertificate() throws Exception {
    HttpGateway gateway = start(fixture.gateway().tls(new Tls(certificate, key)));
    assertThat(gateway.endpoint().toString()).startsWith("https://127.0.0.1:");
    Client client = new Client(gateway.endpoint(), fixture.alice.secret(),
        verifying(SelfSigned.trusting(first)));

    client.initialize();
    HttpResponse<String> echo = client.post(Client.call(1, "fx__echo", "over tls"));

    assertThat(echo.statusCode()).isEqualTo(200);
    assertThat(echo.body()).contains("over tls");
    assertThat(echo.sslSession()).get()
        .satisfies(session -> assertThat(session.getPeerCertificates()[0]).isEqualTo(first.certificate));
    // The Host and Origin rules are the same as over plain HTTP.
    assertThat(client.post(Client.call(2, "fx__echo", "x"), "Origin", "https://evil.example")
        .statusCode()).isEqualTo(403);
  }

  @Test
  void https_aClientThatDoesNotTrustTheCertificate_isRefusedTheHandshake() throws Exception {
    HttpGateway gateway = start(fixture.gateway().tls(new Tls(certificate, key)));
    Client client = new Client(gateway.endpoint(), fixture.alice.secret(),
        verifying(SelfSigned.trusting(second)));

    assertThatThrownBy(client::initialize).isInstanceOf(UncheckedIOException.class)
        .hasCauseInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void https_withAnRsaCertificate_isServed() throws Exception {
    HttpGateway gateway = start(fixture.gateway().tls(new Tls(
        rsa.writeCertificate(dir.resolve("rsa.pem")), rsa.writeKey(dir.resolve("rsa-key.pem")))));

    assertThat(SelfSigned.presented(SelfSigned.trusting(rsa), gateway.port()))
        .isEqualTo(rsa.certificate);
    Client client = new Client(gateway.endpoint(), fixture.alice.secret(),
        verifying(SelfSigned.trusting(rsa)));
    client.initialize();
    client.assertStillServed();
  }

  @Test
  void reload_newConnectionsGetTheNewCertificate_openOnesKeepServing() throws Exception {
    HttpGateway gateway = start(fixture.gateway().tls(new Tls(certificate, key))
        .tlsCheckInterval(Duration.ofMillis(20)));
    SSLContext both = SelfSigned.trusting(first, second);
    Client open = new Client(gateway.endpoint(), fixture.alice.secret(), verifying(both));
    open.initialize();

    // The key first, then the certificate, as a renewal that writes them one after the other:
    // between the two the pair does not match, and the old one keeps serving.
    second.writeKey(key);
    second.writeCertificate(certificate);
    Conditions.await("a new connection is offered the new certificate",
        () -> presented(both, gateway.port()).equals(second.certificate));

    // The connection opened before the reload still answers, on its old handshake.
    HttpResponse<String> echo = open.post(Client.call(7, "fx__echo", "still open"));
    assertThat(echo.body()).contains("still open");
    assertThat(echo.sslSession().orElseThrow().getPeerCertificates()[0]).isEqualTo(first.certificate);
  }

  @Test
  void check_ofFilesThatCannotBeUsed_keepsTheOldPairUntilAGoodOneArrives() throws Exception {
    ServerTls tls = ServerTls.load(new Tls(certificate, key));

    // ServerTls.check is what the gateway's timer calls.
    assertThat(tls.check()).as("unchanged files").isFalse();
    second.writeCertificate(certificate);
    third.writeKey(key);
    assertThat(tls.check()).as("a key that is not the certificate's").isFalse();
    Files.writeString(certificate, "not a certificate\n");
    assertThat(tls.check()).as("a file that holds no PEM").isFalse();
    Files.delete(certificate);
    assertThat(tls.check()).as("a missing file").isFalse();
    second.writeKey(key);
    second.writeCertificate(certificate);

    assertThat(tls.check()).as("a matching pair").isTrue();
    assertThat(tls.check()).as("unchanged files are not reloaded again").isFalse();
  }

  @Test
  void reload_failure_leavesTheGatewayServingItsCertificate() throws Exception {
    HttpGateway gateway = start(fixture.gateway().tls(new Tls(certificate, key))
        .tlsCheckInterval(Duration.ofMillis(20)));
    SSLContext all = SelfSigned.trusting(first, second, third);

    // A pair that does not match is never served; the next good pair is.
    second.writeCertificate(certificate);
    SelfSigned.write(key, SelfSigned.pem("PRIVATE KEY", third.key.getEncoded()));
    for (int i = 0; i < 5; i++) {
      assertThat(presented(all, gateway.port())).isEqualTo(first.certificate);
    }
    third.writeCertificate(certificate);
    Conditions.await("the matching pair is served",
        () -> presented(all, gateway.port()).equals(third.certificate));
  }

  @Test
  void headerTimeout_overTls_doesNotCutAStreamWhoseHeadArrived() throws Exception {
    ManualClock clock = new ManualClock();
    HttpGateway gateway = start(fixture.gateway().tls(new Tls(certificate, key)).clock(clock)
        .headerTimeout(Duration.ofSeconds(10)).keepAlive(Duration.ofMillis(50))
        .idleTimeout(Duration.ofSeconds(120)));
    Client client = new Client(gateway.endpoint(), fixture.alice.secret(),
        verifying(SelfSigned.trusting(first)));
    client.initialize();
    HttpResponse<InputStream> stream = client.listen();
    assertThat(stream.statusCode()).isEqualTo(200);

    // A silent connection shows when a sweep has run past the header timeout.
    try (Socket silent = new Socket("127.0.0.1", gateway.port())) {
      Conditions.await("both connections are counted",
          () -> metric(gateway, "sentinel_http_connections") >= 2);
      clock.advance(Duration.ofSeconds(60));
      silent.setSoTimeout(30_000);
      assertThat(silent.getInputStream().read()).as("the silent connection is closed").isEqualTo(-1);
    }

    // The stream's request head arrived long ago: the header timeout is not its business.
    assertThat(Client.readUntilLine(stream.body(), ": keep-alive")).isTrue();
    assertThat(metric(gateway, "sentinel_http_header_timeouts_total")).isEqualTo(1.0);
    stream.body().close();
  }

  private static double metric(HttpGateway gateway, String name) {
    return Exposition.parse(gateway.metrics().scrape(null).body()).value(name);
  }

  @Test
  void start_whenTheCertificateFileIsMissing_namesIt() {
    Path missing = dir.resolve("nowhere/cert.pem");

    TlsException e = catchThrowableOfType(TlsException.class,
        () -> fixture.gateway().tls(new Tls(missing, key)));

    assertThat(e).hasMessageContaining("server.tls.certificate: no such file: " + missing);
  }

  @Test
  void start_whenTheKeyIsAnotherCertificates_namesBothFiles() throws Exception {
    Path otherKey = second.writeKey(dir.resolve("other-key.pem"));

    TlsException e = catchThrowableOfType(TlsException.class,
        () -> fixture.gateway().tls(new Tls(certificate, otherKey)));

    assertThat(e).hasMessageContaining("the key in " + otherKey + " does not belong to the first"
        + " certificate in " + certificate);
  }

  @Test
  void start_whenTheKeyIsRsaButTheCertificateEc_isRefused() throws Exception {
    Path rsaKey = rsa.writeKey(dir.resolve("rsa-key.pem"));

    assertThatThrownBy(() -> fixture.gateway().tls(new Tls(certificate, rsaKey)))
        .isInstanceOf(TlsException.class).hasMessageContaining("does not belong");
  }

  @Test
  void start_whenAFileHoldsNoPem_saysWhatItExpected() throws Exception {
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "hello\n");
    Path broken = Files.writeString(dir.resolve("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");

    assertThatThrownBy(() -> fixture.gateway().tls(new Tls(garbage, key)))
        .isInstanceOf(TlsException.class)
        .hasMessageContaining("server.tls.certificate: " + garbage + " holds no PEM certificate");
    assertThatThrownBy(() -> fixture.gateway().tls(new Tls(broken, key)))
        .isInstanceOf(TlsException.class)
        .hasMessageContaining(broken + " holds a certificate that cannot be read");
    assertThatThrownBy(() -> fixture.gateway().tls(new Tls(certificate, garbage)))
        .isInstanceOf(TlsException.class)
        .hasMessageContaining("server.tls.key: " + garbage + " holds no PEM private key");
  }

  @Test
  void start_whenTheKeyIsPkcs1_givesTheConversionCommand() throws Exception {
    Path pkcs1 = Files.writeString(dir.resolve("rsa1.pem"),
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");

    assertThatThrownBy(() -> fixture.gateway().tls(new Tls(certificate, pkcs1)))
        .isInstanceOf(TlsException.class)
        .hasMessageContaining("not PKCS#8; convert it with: openssl pkcs8 -topk8 -nocrypt -in rsa1.pem")
        .satisfies(thrown -> assertThat(thrown.getMessage()).doesNotContain("AAAA"));
  }

  @Test
  void startFromAConfig_withABadCertificate_failsBeforeTheDatabaseIsOpened() throws Exception {
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, "backends:\n  - name: fx\n    stdio: { command: /nonexistent/x }\n"
        + "policy: { rules: [ { id: all, allow: {} } ] }\n"
        + "database: { url: \"jdbc:sqlite:" + dir.resolve("sentinel.db") + "\" }\n"
        + "server: { port: 0, tls: { certificate: missing.pem, key: key.pem } }\n");
    GatewayConfig config = GatewayConfig.load(file, Map.of());
    RunOptions options = RunOptions.builder().configFile(file, Map.of(), PolicyOptions.defaults())
        .watch(false).build();

    assertThatThrownBy(() -> HttpGateway.start(config, options, null))
        .isInstanceOf(TlsException.class)
        .hasMessageContaining("no such file: " + dir.resolve("missing.pem"));
    assertThat(dir.resolve("sentinel.db")).doesNotExist();
  }

  @Test
  void startFromAConfig_servesHttps() throws Exception {
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, "gateway: { start_timeout: 1s }\n"
        + "backends:\n  - name: fx\n    stdio: { command: /nonexistent/x }\n"
        + "policy: { rules: [ { id: all, allow: {} } ] }\n"
        + "database: { url: \"jdbc:sqlite:" + dir.resolve("sentinel.db") + "\" }\n"
        + "server: { port: 0, tls: { certificate: cert.pem, key: key.pem } }\n");
    GatewayConfig config = GatewayConfig.load(file, Map.of());
    RunOptions options = RunOptions.builder().configFile(file, Map.of(), PolicyOptions.defaults())
        .watch(false).build();

    try (HttpGateway.Running running = HttpGateway.start(config, options, null)) {
      assertThat(running.endpoint().getScheme()).isEqualTo("https");
      HttpResponse<String> live = verifying(SelfSigned.trusting(first)).send(
          java.net.http.HttpRequest.newBuilder(running.endpoint().resolve("/livez")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(live.statusCode()).isEqualTo(200);
    }
  }

  private static X509Certificate presented(SSLContext context, int port) {
    try {
      return SelfSigned.presented(context, port);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
