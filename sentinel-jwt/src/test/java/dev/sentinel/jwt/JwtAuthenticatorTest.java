package dev.sentinel.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.core.config.Jwt;
import dev.sentinel.core.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Verification of tokens against a JWKS served on 127.0.0.1, with a manual clock. */
class JwtAuthenticatorTest {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private TestIssuer issuer;
  private ManualClock clock;
  private JwtAuthenticator jwt;

  @BeforeEach
  void start() {
    issuer = new TestIssuer();
    clock = new ManualClock(Instant.now());
    jwt = JwtAuthenticator.builder(issuer.settings()).clock(clock).build();
  }

  @AfterEach
  void stop() {
    issuer.close();
  }

  private AuthenticationResult authenticate(String token) {
    return jwt.authenticate(Credentials.bearer(token));
  }

  private void assertRefused(String token, String reason) {
    AuthenticationResult result = authenticate(token);
    assertThat(result.authenticated()).isFalse();
    assertThat(result.reason()).isEqualTo(reason);
    // The reason is for logs: it never carries the token or a part of it.
    for (String part : token.split("\\.")) {
      if (part.length() > 3) {
        assertThat(result.reason()).doesNotContain(part);
      }
    }
  }

  private static String part(String json) {
    return B64.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void authenticate_validToken_givesPrincipalRolesAndScope() {
    AuthenticationResult result = authenticate(issuer.token("alice", clock.instant()));
    assertThat(result.authenticated()).isTrue();
    Principal principal = result.principal();
    assertThat(principal.id()).isEqualTo("alice");
    assertThat(principal.roles()).containsExactly("developer");
    assertThat(principal.attributes().get("scope")).containsExactly("mcp:tools", "mcp:read");
  }

  @Test
  void authenticate_rolesFromSpaceSeparatedScope() {
    Jwt base = issuer.settings();
    Jwt scoped = new Jwt(base.issuer(), base.audiences(), base.jwksUrl(), base.algorithms(),
        base.clockSkew(), "email", "scope", List.of(), base.jwksCacheTtl(), base.jwksMinRefreshInterval());
    JwtAuthenticator byScope = JwtAuthenticator.builder(scoped).clock(clock).build();
    AuthenticationResult result = byScope.authenticate(Credentials.bearer(
        issuer.token("alice", clock.instant(), c -> c.claim("email", "alice@example.com"))));
    assertThat(result.principal().id()).isEqualTo("alice@example.com");
    assertThat(result.principal().roles()).containsExactlyInAnyOrder("mcp:tools", "mcp:read");
    assertThat(result.principal().attributes()).isEmpty();
  }

  @Test
  void authenticate_sameTokenTwice_checksTheSignatureOnce() {
    String token = issuer.token("alice", clock.instant());
    assertThat(authenticate(token).authenticated()).isTrue();
    assertThat(authenticate(token).authenticated()).isTrue();
    assertThat(authenticate(token).authenticated()).isTrue();
    assertThat(jwt.signatureChecks()).isEqualTo(1);
    assertThat(issuer.fetches()).isEqualTo(1);
    // another token is checked, with the cached keys
    assertThat(authenticate(issuer.token("bob", clock.instant())).authenticated()).isTrue();
    assertThat(jwt.signatureChecks()).isEqualTo(2);
    assertThat(issuer.fetches()).isEqualTo(1);
  }

  @Test
  void authenticate_withoutCache_checksEveryTime() {
    JwtAuthenticator uncached = JwtAuthenticator.builder(issuer.settings()).clock(clock).cacheSize(0).build();
    String token = issuer.token("alice", clock.instant());
    uncached.authenticate(Credentials.bearer(token));
    uncached.authenticate(Credentials.bearer(token));
    assertThat(uncached.signatureChecks()).isEqualTo(2);
  }

  @Test
  void authenticate_cachedToken_isRefusedOnceExpired() {
    String token = issuer.token("alice", clock.instant(), c -> c.expirationTime(Date.from(clock.instant().plusSeconds(10))));
    assertThat(authenticate(token).authenticated()).isTrue();
    clock.advance(Duration.ofSeconds(10 + 59));
    assertThat(authenticate(token).authenticated()).isTrue(); // within the 60 s skew
    clock.advance(Duration.ofSeconds(1));
    assertRefused(token, "jwt: token expired");
  }

  @Test
  void authenticate_boundedCache_staysBounded() {
    JwtAuthenticator small = JwtAuthenticator.builder(issuer.settings()).clock(clock).cacheSize(2).build();
    for (int i = 0; i < 10; i++) {
      assertThat(small.authenticate(Credentials.bearer(issuer.token("user" + i, clock.instant()))).authenticated()).isTrue();
    }
    String first = issuer.token("again", clock.instant());
    small.authenticate(Credentials.bearer(first));
    long checks = small.signatureChecks();
    small.authenticate(Credentials.bearer(first));
    assertThat(small.signatureChecks()).isEqualTo(checks);
  }

  @Test
  void authenticate_malformed_isRefused() {
    assertRefused("not-a-jwt", "jwt: malformed token");
    assertRefused("abc.def", "jwt: malformed token");
    assertRefused("a$c.d%f.ghi", "jwt: malformed token");
    assertRefused("a.b.c.d", "jwt: malformed token");
    assertRefused(part("{\"alg\":\"RS256\"}") + "." + part("not json at all") + ".c2ln", "jwt: malformed token");
    assertRefused(part("garbage") + "." + part("{\"sub\":\"x\"}") + ".c2ln", "jwt: malformed token");
    assertRefused("%%%.^^^.***", "jwt: malformed token");
    assertThat(jwt.authenticate(Credentials.apiKey("eyJ.eyJ.sig")).authenticated()).isFalse();
    assertThat(jwt.authenticate(Credentials.none()).authenticated()).isFalse();
  }

  @Test
  void authenticate_expired_isRefused_withAndWithoutSkew() {
    Instant now = clock.instant();
    String expiredLongAgo = issuer.token("alice", now, c -> c.expirationTime(Date.from(now.minusSeconds(120))));
    assertRefused(expiredLongAgo, "jwt: token expired");
    String expiredWithinSkew = issuer.token("alice", now, c -> c.expirationTime(Date.from(now.minusSeconds(30))));
    assertThat(authenticate(expiredWithinSkew).authenticated()).isTrue();

    Jwt base = issuer.settings();
    Jwt strict = new Jwt(base.issuer(), base.audiences(), base.jwksUrl(), base.algorithms(), Duration.ZERO,
        base.principalClaim(), base.rolesClaim(), base.attributeClaims(), base.jwksCacheTtl(),
        base.jwksMinRefreshInterval());
    JwtAuthenticator noSkew = JwtAuthenticator.builder(strict).clock(clock).build();
    assertThat(noSkew.authenticate(Credentials.bearer(issuer.token("alice", now,
        c -> c.expirationTime(Date.from(now.minusSeconds(1)))))).authenticated()).isFalse();
  }

  @Test
  void authenticate_withoutExp_isRefused() {
    assertRefused(issuer.token("alice", clock.instant(), c -> c.expirationTime(null)), "jwt: no expiry");
  }

  @Test
  void authenticate_notYetValid_isRefused() {
    Instant now = clock.instant();
    assertRefused(issuer.token("alice", now, c -> c.notBeforeTime(Date.from(now.plusSeconds(600)))),
        "jwt: token not yet valid");
    assertThat(authenticate(issuer.token("alice", now, c -> c.notBeforeTime(Date.from(now.plusSeconds(30)))))
        .authenticated()).isTrue();
  }

  @Test
  void authenticate_algNone_isRefused() {
    String unsigned = part("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "."
        + part("{\"iss\":\"" + TestIssuer.ISSUER + "\",\"aud\":\"" + TestIssuer.AUDIENCE
            + "\",\"sub\":\"mallory\",\"exp\":" + (clock.instant().getEpochSecond() + 600) + "}") + ".";
    assertRefused(unsigned, "jwt: malformed token");
    assertThat(issuer.fetches()).isZero();
  }

  @Test
  void authenticate_algorithmConfusion_hs256WithThePublicKey_isRefused() throws Exception {
    byte[] publicKey = issuer.signingKey().toRSAPublicKey().getEncoded();
    SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("key-1").build(),
        TestIssuer.claims("mallory", clock.instant()).build());
    forged.sign(new MACSigner(publicKey));
    assertRefused(forged.serialize(), "jwt: algorithm not allowed");
    assertThat(jwt.signatureChecks()).isZero();
  }

  @Test
  void authenticate_algorithmOutsideTheAllowList_isRefused() {
    Jwt base = issuer.settings();
    Jwt esOnly = new Jwt(base.issuer(), base.audiences(), base.jwksUrl(), List.of("ES256"), base.clockSkew(),
        base.principalClaim(), base.rolesClaim(), base.attributeClaims(), base.jwksCacheTtl(),
        base.jwksMinRefreshInterval());
    JwtAuthenticator strict = JwtAuthenticator.builder(esOnly).clock(clock).build();
    AuthenticationResult result = strict.authenticate(Credentials.bearer(issuer.token("alice", clock.instant())));
    assertThat(result.reason()).isEqualTo("jwt: algorithm not allowed");
  }

  @Test
  void authenticate_wrongAudienceOrIssuer_isRefused() {
    assertRefused(issuer.token("alice", clock.instant(), c -> c.audience("https://other.test/mcp")),
        "jwt: wrong audience");
    assertRefused(issuer.token("alice", clock.instant(), c -> c.audience(List.of())), "jwt: wrong audience");
    assertRefused(issuer.token("alice", clock.instant(), c -> c.issuer("https://evil.test/")), "jwt: wrong issuer");
    assertThat(authenticate(issuer.token("alice", clock.instant(),
        c -> c.audience(List.of("https://other.test/", TestIssuer.AUDIENCE)))).authenticated()).isTrue();
  }

  @Test
  void authenticate_badSignature_isRefused() {
    String token = issuer.token("alice", clock.instant());
    String[] parts = token.split("\\.");
    String other = issuer.token("mallory", clock.instant());
    assertRefused(parts[0] + "." + other.split("\\.")[1] + "." + parts[2], "jwt: bad signature");
  }

  @Test
  void authenticate_withoutSubject_isRefused() {
    assertRefused(issuer.sign(TestIssuer.claims("x", clock.instant()).subject(null).build()), "jwt: no principal claim");
  }

  @Test
  void authenticate_unknownKid_refreshesAtMostOncePerInterval_thenAcceptsTheRotatedKey() {
    assertThat(authenticate(issuer.token("alice", clock.instant())).authenticated()).isTrue();
    assertThat(issuer.fetches()).isEqualTo(1);

    issuer.unpublished("key-2");
    String early = issuer.token("alice", clock.instant());
    assertRefused(early, "jwt: unknown signing key");
    // A burst of unknown key ids does not reach the identity provider again within the interval.
    assertRefused(issuer.token("alice", clock.instant(), c -> c.jwtID("1")), "jwt: unknown signing key");
    assertThat(issuer.fetches()).isEqualTo(1);

    issuer.publishSigningKey();
    clock.advance(Jwt.DEFAULT_JWKS_MIN_REFRESH_INTERVAL);
    assertThat(authenticate(issuer.token("alice", clock.instant(), c -> c.jwtID("2"))).authenticated()).isTrue();
    assertThat(issuer.fetches()).isEqualTo(2);
    // the old key still works, and was not fetched again
    issuer.rotate("key-3");
    clock.advance(Jwt.DEFAULT_JWKS_MIN_REFRESH_INTERVAL);
    assertThat(authenticate(issuer.token("carol", clock.instant())).authenticated()).isTrue();
    assertThat(issuer.fetches()).isEqualTo(3);
  }

  @Test
  void authenticate_jwksDown_failsClosed_thenRecovers() {
    issuer.down(true);
    String token = issuer.token("alice", clock.instant());
    assertRefused(token, "jwt: the signing keys are unavailable");
    assertRefused(token, "jwt: the signing keys are unavailable");
    assertThat(issuer.fetches()).isEqualTo(1);

    issuer.down(false);
    clock.advance(Jwt.DEFAULT_JWKS_MIN_REFRESH_INTERVAL);
    assertThat(authenticate(token).authenticated()).isTrue();
  }

  @Test
  void authenticate_jwksUnreachable_failsClosed() {
    Jwt base = issuer.settings();
    issuer.close();
    JwtAuthenticator orphan = JwtAuthenticator.builder(base).clock(clock).fetchTimeout(Duration.ofSeconds(5)).build();
    AuthenticationResult result = orphan.authenticate(Credentials.bearer(issuer.token("alice", clock.instant())));
    assertThat(result.reason()).isEqualTo("jwt: the signing keys are unavailable");
  }

  @Test
  void authenticate_staleKeys_areRefetchedAfterTheirTimeToLive() {
    assertThat(authenticate(issuer.token("alice", clock.instant())).authenticated()).isTrue();
    clock.advance(Jwt.DEFAULT_JWKS_CACHE_TTL);
    assertThat(authenticate(issuer.token("bob", clock.instant())).authenticated()).isTrue();
    assertThat(issuer.fetches()).isEqualTo(2);
    // once stale, a provider that is down means refusal
    issuer.down(true);
    clock.advance(Jwt.DEFAULT_JWKS_CACHE_TTL);
    assertThat(authenticate(issuer.token("carol", clock.instant())).reason())
        .isEqualTo("jwt: the signing keys are unavailable");
  }

  @Test
  void looksLikeJwt_needsThreeBase64urlParts() {
    assertThat(JwtAuthenticator.looksLikeJwt("eyJ.eyJ.sig")).isTrue();
    assertThat(JwtAuthenticator.looksLikeJwt("eyJ.eyJ.")).isTrue();
    assertThat(JwtAuthenticator.looksLikeJwt("snk_abc_def")).isFalse();
    assertThat(JwtAuthenticator.looksLikeJwt("a.b")).isFalse();
    assertThat(JwtAuthenticator.looksLikeJwt(".b.c")).isFalse();
    assertThat(JwtAuthenticator.looksLikeJwt("a..c")).isFalse();
    assertThat(JwtAuthenticator.looksLikeJwt("a.b=.c")).isFalse();
    assertThat(JwtAuthenticator.looksLikeJwt(null)).isFalse();
  }

  @Test
  void dispatching_sendsJwtsToJwtAndTheRestToOthers() {
    Authenticator others = c -> AuthenticationResult.failure("others");
    Authenticator both = JwtAuthenticator.dispatching(c -> AuthenticationResult.failure("jwt"), others);
    assertThat(both.authenticate(Credentials.bearer("eyJ.eyJ.sig")).reason()).isEqualTo("jwt");
    assertThat(both.authenticate(Credentials.bearer("snk_x_y")).reason()).isEqualTo("others");
    assertThat(both.authenticate(Credentials.apiKey("eyJ.eyJ.sig")).reason()).isEqualTo("others");
    assertThat(both.authenticate(Credentials.none()).reason()).isEqualTo("others");
  }
}
