package dev.sentinel.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.nimbusds.jose.jwk.RSAKey;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Credentials;
import dev.sentinel.core.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Fuzz target for JWT verification, headers first ({@code benchmarks/fuzz JwtFuzzTest}): the
 * fuzzer writes the header (and sometimes the claims) of a token that is then really signed,
 * by the issuer's published key or by an attacker's key with the same key id.
 */
class JwtFuzzTest {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  // duplicate members are refused, as a header with two algs must be
  private static final JsonMapper MAPPER =
      JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  private static final Map<String, String> JCA = Map.of(
      "RS256", "SHA256withRSA", "RS384", "SHA384withRSA", "RS512", "SHA512withRSA");
  private static final Set<String> REASONS = Set.of("jwt: malformed token",
      "jwt: algorithm not allowed", "jwt: unknown signing key", "jwt: bad signature",
      "jwt: the key is not for this algorithm", "jwt: wrong issuer", "jwt: wrong audience",
      "jwt: no expiry", "jwt: token expired", "jwt: token not yet valid",
      "jwt: the principal claims are not usable", "jwt: no principal claim",
      "jwt: the signing keys are unavailable");

  private static TestIssuer issuer;
  private static RSAKey attacker;
  private static JwtAuthenticator jwt;
  private static String validClaims;

  @BeforeAll
  static void start() {
    issuer = new TestIssuer();
    attacker = TestIssuer.newKey("key-1");
    jwt = JwtAuthenticator.builder(issuer.settings()).clock(new ManualClock(NOW)).cacheSize(0)
        .build();
    validClaims = TestIssuer.claims("alice", NOW).build().toString();
  }

  @AfterAll
  static void stop() {
    issuer.close();
  }

  /**
   * Whatever the header and claims: no exception, a refusal names one of the fixed reasons, a
   * token signed by the attacker never authenticates, and one that does authenticate has a
   * header the allow-list admits and claims that pass every check. A plain header
   * ({@code alg} RS256/384/512, {@code kid} key-1 or none, {@code typ} JWT) with valid claims
   * signed by the issuer authenticates.
   */
  @FuzzTest
  void authenticate_fuzzedHeaderAndClaims_onlyTheIssuersValidTokensPass(FuzzedDataProvider data)
      throws Exception {
    boolean byAttacker = data.consumeInt(0, 3) == 0;
    String claims = data.consumeBoolean() ? data.consumeString(300) : validClaims;
    String header = data.consumeRemainingAsString();
    JsonNode headerJson = json(header);
    String alg = headerJson == null ? "" : headerJson.path("alg").asString("");
    String token = sign(header, claims, byAttacker ? attacker : issuer.signingKey(),
        JCA.getOrDefault(alg, "SHA256withRSA"));

    AuthenticationResult result;
    // the first token fetches the JWKS from the issuer on 127.0.0.1
    try (SilentCloseable loopback =
        BugDetectors.allowNetworkConnections((host, port) -> host.equals("127.0.0.1"))) {
      result = jwt.authenticate(Credentials.bearer(token));
    }

    if (!result.authenticated()) {
      assertThat(result.reason()).isIn(REASONS);
      assertThat(plain(headerJson) && claims.equals(validClaims) && !byAttacker)
          .as("a plain header with valid claims is refused: %s %s", header, result.reason())
          .isFalse();
      return;
    }
    assertThat(byAttacker).as("the attacker's token passed: %s", header).isFalse();
    assertThat(JCA).containsKey(alg);
    JsonNode claimsJson = json(claims);
    assertThat(claimsJson.path("iss").asString("")).isEqualTo(TestIssuer.ISSUER);
    assertThat(claimsJson.path("exp").asLong(0)).isGreaterThan(NOW.getEpochSecond() - 60);
    assertThat(result.principal().id()).isEqualTo(claimsJson.path("sub").asString(""));
  }

  /** The header has only alg (RS256/384/512), kid (key-1) and typ (JWT), with alg present. */
  private static boolean plain(JsonNode header) {
    if (header == null || !header.isObject() || !JCA.containsKey(header.path("alg").asString(""))) {
      return false;
    }
    for (var member : header.properties()) {
      String value = member.getValue().isString() ? member.getValue().stringValue() : null;
      boolean ok = switch (member.getKey()) {
        case "alg" -> true;
        case "kid" -> "key-1".equals(value);
        case "typ" -> "JWT".equals(value);
        default -> false;
      };
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static JsonNode json(String text) {
    try {
      JsonNode node = MAPPER.readTree(text);
      return node == null || node.isMissingNode() ? null : node;
    } catch (JacksonException e) {
      return null;
    }
  }

  private static String sign(String header, String claims, RSAKey key, String algorithm)
      throws GeneralSecurityException, com.nimbusds.jose.JOSEException {
    String input = B64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
        + B64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
    Signature signature = Signature.getInstance(algorithm);
    signature.initSign(key.toRSAPrivateKey());
    signature.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + B64.encodeToString(signature.sign());
  }
}
