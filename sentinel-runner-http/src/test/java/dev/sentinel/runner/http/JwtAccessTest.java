package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.SignedJWT;
import dev.sentinel.core.config.OAuth;
import dev.sentinel.core.testing.ManualClock;
import dev.sentinel.jwt.JwtAuthenticator;
import dev.sentinel.jwt.TestIssuer;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * JWT bearer tokens through the HTTP gateway, beside API keys: each hostile credential gets a
 * 401 with the generic body and a {@code WWW-Authenticate} pointing to the protected resource
 * metadata, nothing echoed, and an open session of someone else keeps working.
 */
class JwtAccessTest {
  private static final String METADATA = "/.well-known/oauth-protected-resource";

  @TempDir static Path dir;
  static TestIssuer issuer;
  static ManualClock clock;
  static JwtAuthenticator jwt;
  static Fixture fixture;
  static HttpGateway gateway;
  Client alice;

  @BeforeAll
  static void start() {
    issuer = new TestIssuer();
    clock = new ManualClock(Instant.now());
    jwt = JwtAuthenticator.builder(issuer.settings()).clock(clock).build();
    fixture = new Fixture(dir, keys -> JwtAuthenticator.dispatching(jwt, keys));
    gateway = fixture.start(fixture.gateway().protectedResource(
        new OAuth(Optional.empty(), List.of(), List.of("mcp:tools")), TestIssuer.ISSUER));
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
    if (issuer != null) {
      issuer.close();
    }
  }

  @BeforeEach
  void session() {
    alice = new Client(gateway.endpoint(), fixture.alice.secret());
    alice.initialize();
  }

  @AfterEach
  void othersKeepWorking() {
    alice.assertStillServed();
  }

  private static String bearer(String token) {
    return "Bearer " + token;
  }

  /** A session opened with a token; the client then sends every request with explicit headers. */
  private static Client open(String token) {
    Client client = new Client(gateway.endpoint(), null);
    HttpResponse<String> init = client.post(Client.initializeBody("{}"), "Authorization", bearer(token));
    assertThat(init.statusCode()).as(init.body()).isEqualTo(200);
    client.session = init.headers().firstValue("Mcp-Session-Id").orElseThrow();
    assertThat(client.post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
        "Authorization", bearer(token)).statusCode()).isEqualTo(202);
    return client;
  }

  private String metadataUrl() {
    return "http://127.0.0.1:" + gateway.port() + METADATA + "/mcp";
  }

  private void assertUnauthorized(HttpResponse<String> response, String secret, boolean presented) {
    assertThat(response.statusCode()).isEqualTo(401);
    String challenge = response.headers().firstValue("WWW-Authenticate").orElseThrow();
    assertThat(challenge).startsWith("Bearer resource_metadata=\"" + metadataUrl() + "\"")
        .contains("scope=\"mcp:tools\"");
    if (presented) {
      assertThat(challenge).endsWith(", error=\"invalid_token\"");
    } else {
      assertThat(challenge).doesNotContain("error=");
    }
    JsonNode error = Client.JSON.readTree(response.body()).path("error");
    assertThat(error.path("code").asInt()).isEqualTo(-32011);
    assertThat(error.path("message").asString()).isEqualTo("missing or invalid credentials");
    if (secret != null) {
      for (String part : secret.split("\\.")) {
        if (part.length() > 3) {
          assertThat(response.body()).doesNotContain(part);
          assertThat(response.headers().map().toString()).doesNotContain(part);
        }
      }
    }
  }

  private void assertRefused(String token) {
    Client client = new Client(gateway.endpoint(), null);
    assertUnauthorized(client.post(Client.initializeBody("{}"), "Authorization", bearer(token)), token, true);
    // also on someone else's live session
    client.session = alice.session;
    assertUnauthorized(client.post(Client.call(1, "fx__echo", "x"), "Authorization", bearer(token)), token, true);
  }

  private static String part(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void jwt_reachesATool() {
    Client client = open(issuer.token("dana", clock.instant()));
    String token = issuer.token("dana", clock.instant());
    HttpResponse<String> echo = client.post(Client.call(1, "fx__echo", "with a jwt"), "Authorization", bearer(token));
    assertThat(echo.statusCode()).isEqualTo(200);
    assertThat(echo.body()).contains("with a jwt");
  }

  @Test
  @SuppressWarnings("deprecation") // the SDK's convenience constructors
  void sdkClient_withJwt_callsATool() {
    HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport
        .builder("http://127.0.0.1:" + gateway.port())
        .endpoint("/mcp")
        .jsonMapper(new JacksonMcpJsonMapper(JsonMapper.builder().build()))
        .requestBuilder(HttpRequest.newBuilder().header("Authorization", bearer(issuer.token("sdk-user", clock.instant()))))
        .build();
    McpSyncClient client = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(20)).build();
    try {
      client.initialize();
      assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).contains("fx__echo");
      McpSchema.CallToolResult echo = client.callTool(new McpSchema.CallToolRequest("fx__echo", Map.of("text", "sdk jwt")));
      assertThat(((McpSchema.TextContent) echo.content().get(0)).text()).isEqualTo("sdk jwt");
    } finally {
      client.closeGracefully();
    }
  }

  @Test
  void missingCredentials_is401_withTheMetadataAndNoError() {
    Client anonymous = new Client(gateway.endpoint(), null);
    assertUnauthorized(anonymous.post(Client.initializeBody("{}")), null, false);
  }

  @Test
  void malformedTokens_are401() {
    assertRefused("abc.def");                                            // two parts: an API key attempt
    assertRefused("a$c.d%f.ghi");                                       // not base64url
    assertRefused(part("{\"alg\":\"RS256\"}") + "." + part("garbage json") + ".c2lnbmF0dXJl");
    assertRefused(part("not a header") + "." + part("{}") + ".c2lnbmF0dXJl");
  }

  @Test
  void expiredAndNotYetValidTokens_are401() {
    Instant now = clock.instant();
    assertRefused(issuer.token("dana", now, c -> c.expirationTime(Date.from(now.minusSeconds(300)))));
    assertRefused(issuer.token("dana", now, c -> c.notBeforeTime(Date.from(now.plusSeconds(300)))));
  }

  @Test
  void algNone_andAlgorithmConfusion_are401() throws Exception {
    assertRefused(part("{\"alg\":\"none\"}") + "." + part("{\"iss\":\"" + TestIssuer.ISSUER + "\",\"aud\":\""
        + TestIssuer.AUDIENCE + "\",\"sub\":\"mallory\",\"exp\":" + (clock.instant().getEpochSecond() + 600) + "}") + ".");
    SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("key-1").build(),
        TestIssuer.claims("mallory", clock.instant()).build());
    forged.sign(new MACSigner(issuer.signingKey().toRSAPublicKey().getEncoded()));
    assertRefused(forged.serialize());
  }

  @Test
  void wrongAudienceOrIssuer_is401() {
    assertRefused(issuer.token("dana", clock.instant(), c -> c.audience("https://other.test/")));
    assertRefused(issuer.token("dana", clock.instant(), c -> c.issuer("https://evil.test/")));
  }

  @Test
  void revokedApiKey_is401() {
    var carol = fixture.keys.issue("carol", Set.of("developer"), "carol's key", null);
    Client client = new Client(gateway.endpoint(), carol.secret());
    client.initialize();
    fixture.keys.revoke(carol.id());
    assertUnauthorized(client.post(Client.call(2, "fx__echo", "no")), carol.secret(), true);
  }

  @Test
  void refreshedToken_keepsTheSession_expiredToken_is401_foreignToken_is404() {
    Instant now = clock.instant();
    String first = issuer.token("erin", now, c -> c.expirationTime(Date.from(now.plusSeconds(120))));
    Client erin = open(first);
    assertThat(erin.post(Client.call(1, "fx__echo", "one"), "Authorization", bearer(first)).statusCode())
        .isEqualTo(200);

    clock.advance(Duration.ofMinutes(5)); // first is now past exp + skew
    HttpResponse<String> expired = erin.post(Client.call(2, "fx__echo", "two"), "Authorization", bearer(first));
    assertUnauthorized(expired, first, true);

    String refreshed = issuer.token("erin", clock.instant());
    HttpResponse<String> again = erin.post(Client.call(3, "fx__echo", "three"), "Authorization", bearer(refreshed));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(again.body()).contains("three");

    String frank = issuer.token("frank", clock.instant());
    assertThat(erin.post(Client.call(4, "fx__echo", "hijack"), "Authorization", bearer(frank)).statusCode())
        .isEqualTo(404);
  }

  @Test
  void sameToken_isVerifiedOnce_acrossRequestsAndThePipeline() {
    String token = issuer.token("gina", clock.instant());
    Client gina = open(token);
    long before = jwt.signatureChecks();
    for (int i = 0; i < 5; i++) {
      assertThat(gina.post(Client.call(10 + i, "fx__echo", "x"), "Authorization", bearer(token)).statusCode())
          .isEqualTo(200);
    }
    assertThat(jwt.signatureChecks()).isEqualTo(before);
  }

  @Test
  void protectedResourceMetadata_isServedWithoutCredentials_atBothPaths() {
    Client anonymous = new Client(gateway.endpoint(), null);
    for (String path : List.of(METADATA, METADATA + "/mcp")) {
      HttpResponse<String> answer = anonymous.plain(path);
      assertThat(answer.statusCode()).isEqualTo(200);
      JsonNode body = Client.JSON.readTree(answer.body());
      assertThat(body.path("resource").asString()).isEqualTo(gateway.endpoint().toString());
      assertThat(body.path("authorization_servers").get(0).asString()).isEqualTo(TestIssuer.ISSUER);
      assertThat(body.path("bearer_methods_supported").get(0).asString()).isEqualTo("header");
      assertThat(body.path("scopes_supported").get(0).asString()).isEqualTo("mcp:tools");
    }
  }

  @Test
  void protectedResourceMetadata_foreignHost_is403() throws Exception {
    String head = "GET " + METADATA + " HTTP/1.1\r\nHost: evil.example:" + gateway.port()
        + "\r\nConnection: close\r\n\r\n";
    assertThat(Client.raw(gateway.port(), head, new byte[0], false)).startsWith("HTTP/1.1 403");
  }
}
