package dev.sentinel.core.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code server.jwt:} section: how {@code sentinel http} verifies JSON Web Tokens presented
 * as {@code Authorization: Bearer}. Only asymmetric signatures are accepted (RSA and ECDSA, keys
 * from the identity provider's JWKS); symmetric {@code HS*} and {@code none} never are.
 * Immutable.
 *
 * @param issuer the {@code iss} every token must carry, exactly
 * @param audiences the accepted {@code aud} values; a token must name at least one
 * @param jwksUrl where the identity provider publishes its signing keys (http or https)
 * @param algorithms the {@code alg} values accepted, a subset of {@link #SUPPORTED_ALGORITHMS}
 * @param clockSkew the tolerance on {@code exp} and {@code nbf}
 * @param principalClaim the claim naming the principal; {@code sub} by default
 * @param rolesClaim the claim holding the roles: a list, or a space-separated string such as
 *     {@code scope}
 * @param attributeClaims the claims copied into the principal's attributes
 * @param jwksCacheTtl how long fetched keys are used before they are fetched again
 * @param jwksMinRefreshInterval the least time between two fetches caused by an unknown
 *     {@code kid} (key rotation): tokens with made-up key ids cannot flood the provider
 */
public record Jwt(
    String issuer,
    List<String> audiences,
    URI jwksUrl,
    List<String> algorithms,
    Duration clockSkew,
    String principalClaim,
    String rolesClaim,
    List<String> attributeClaims,
    Duration jwksCacheTtl,
    Duration jwksMinRefreshInterval) {

  /** The algorithms that can be allowed: RSA PKCS#1, RSA-PSS and ECDSA signatures. */
  public static final List<String> SUPPORTED_ALGORITHMS = List.of(
      "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512");
  /** The default allow-list: every supported algorithm. */
  public static final List<String> DEFAULT_ALGORITHMS = SUPPORTED_ALGORITHMS;
  /** The default clock skew: 60 seconds. */
  public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
  /** The default principal claim. */
  public static final String DEFAULT_PRINCIPAL_CLAIM = "sub";
  /** The default roles claim. */
  public static final String DEFAULT_ROLES_CLAIM = "roles";
  /** The default attribute claims. */
  public static final List<String> DEFAULT_ATTRIBUTE_CLAIMS = List.of("scope");
  /** The default JWKS cache lifetime: 5 minutes. */
  public static final Duration DEFAULT_JWKS_CACHE_TTL = Duration.ofMinutes(5);
  /** The default least interval between refreshes on an unknown key id: 30 seconds. */
  public static final Duration DEFAULT_JWKS_MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);

  /** Validates and copies. */
  public Jwt {
    Objects.requireNonNull(issuer, "issuer");
    if (issuer.isBlank()) {
      throw new IllegalArgumentException("issuer must not be blank");
    }
    audiences = List.copyOf(audiences);
    if (audiences.isEmpty() || audiences.stream().anyMatch(String::isBlank)) {
      throw new IllegalArgumentException("audience must name at least one non-blank value");
    }
    Objects.requireNonNull(jwksUrl, "jwksUrl");
    String scheme = jwksUrl.getScheme() == null ? "" : jwksUrl.getScheme().toLowerCase(Locale.ROOT);
    if (!jwksUrl.isAbsolute() || jwksUrl.getHost() == null
        || !(scheme.equals("http") || scheme.equals("https"))) {
      throw new IllegalArgumentException("jwks_url must be an http or https URL, was " + jwksUrl);
    }
    algorithms = List.copyOf(algorithms);
    if (algorithms.isEmpty()) {
      throw new IllegalArgumentException("algorithms must name at least one algorithm");
    }
    for (String algorithm : algorithms) {
      if (!SUPPORTED_ALGORITHMS.contains(algorithm)) {
        throw new IllegalArgumentException("algorithm " + algorithm + " is not supported; use "
            + String.join(", ", SUPPORTED_ALGORITHMS));
      }
    }
    Objects.requireNonNull(clockSkew, "clockSkew");
    if (clockSkew.isNegative()) {
      throw new IllegalArgumentException("clock_skew must not be negative");
    }
    requireClaim(principalClaim, "principal_claim");
    requireClaim(rolesClaim, "roles_claim");
    attributeClaims = List.copyOf(attributeClaims);
    Gateway.requirePositive(jwksCacheTtl, "jwks_cache_ttl");
    Gateway.requirePositive(jwksMinRefreshInterval, "jwks_min_refresh_interval");
  }

  /** A section with the given issuer, audience and key set, and every other setting at its default. */
  public static Jwt of(String issuer, String audience, URI jwksUrl) {
    return new Jwt(issuer, List.of(audience), jwksUrl, DEFAULT_ALGORITHMS, DEFAULT_CLOCK_SKEW,
        DEFAULT_PRINCIPAL_CLAIM, DEFAULT_ROLES_CLAIM, DEFAULT_ATTRIBUTE_CLAIMS,
        DEFAULT_JWKS_CACHE_TTL, DEFAULT_JWKS_MIN_REFRESH_INTERVAL);
  }

  private static void requireClaim(String claim, String name) {
    Objects.requireNonNull(claim, name);
    if (claim.isBlank()) {
      throw new IllegalArgumentException(name + " must not be blank");
    }
  }
}
