package dev.sentinel.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.core.config.Jwt;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Authenticates {@link Credentials.Type#BEARER} JSON Web Tokens signed by an identity provider,
 * as configured by a {@link Jwt} section: the signature with a key from the provider's JWKS
 * (RSA or ECDSA, in the allow-list; {@code none} and {@code HS*} are never accepted), then
 * {@code iss}, {@code aud}, a required {@code exp} and an optional {@code nbf} within the clock
 * skew. The principal is the {@code sub} claim (or the configured one), with roles from the
 * roles claim (a list, or a space-separated string such as {@code scope}) and the configured
 * claims as attributes.
 *
 * <p>Verified tokens are remembered, keyed by the SHA-256 of the token (never the token itself),
 * until they expire: the same token again costs a hash and a map lookup, not a signature check.
 * The memory is bounded. Refusals carry a fixed reason for the logs and the audit trail, never
 * the token or its claims. When the keys cannot be fetched, tokens are refused (fail closed).
 *
 * <pre>{@code
 * Authenticator clients = JwtAuthenticator.dispatching(
 *     JwtAuthenticator.builder(config.server().jwt().orElseThrow()).build(),
 *     apiKeys.authenticator());
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class JwtAuthenticator implements Authenticator {
  /** The default bound on remembered tokens. */
  public static final int DEFAULT_CACHE_SIZE = 10_000;
  /** The default timeout of a JWKS fetch. */
  public static final Duration DEFAULT_FETCH_TIMEOUT = Duration.ofSeconds(5);

  private static final int MAX_VERIFIERS = 64;
  private static final Base64.Encoder HASH_TEXT = Base64.getUrlEncoder().withoutPadding();

  private record Verified(Principal principal, Instant expires) {}

  private final Jwt settings;
  private final Set<JWSAlgorithm> algorithms;
  private final Clock clock;
  private final int cacheSize;
  private final JwksCache keys;
  private final Map<String, Verified> verified = new ConcurrentHashMap<>();
  private final AtomicLong signatureChecks = new AtomicLong();
  /** Verifiers by key: building one converts and checks the key, which costs more than a lookup. */
  private final Map<JWK, JWSVerifier> verifiers = new ConcurrentHashMap<>();

  private JwtAuthenticator(Builder builder) {
    this.settings = builder.settings;
    Set<JWSAlgorithm> allowed = new LinkedHashSet<>();
    for (String name : settings.algorithms()) {
      allowed.add(JWSAlgorithm.parse(name));
    }
    this.algorithms = Set.copyOf(allowed);
    this.clock = builder.clock;
    this.cacheSize = builder.cacheSize;
    this.keys = new JwksCache(settings.jwksUrl(), settings.jwksCacheTtl(),
        settings.jwksMinRefreshInterval(), builder.fetchTimeout, clock);
  }

  /** A builder for the given settings. */
  public static Builder builder(Jwt settings) {
    return new Builder(settings);
  }

  /**
   * Whether a bearer value has the shape of a compact JWS: three base64url parts separated by
   * dots (the third may be empty, as in an unsigned token, so that such tokens are refused as
   * JWTs rather than looked up as API keys).
   */
  public static boolean looksLikeJwt(String token) {
    if (token == null) {
      return false;
    }
    int dots = 0;
    int partLength = 0;
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c == '.') {
        if (partLength == 0) {
          return false;
        }
        dots++;
        partLength = 0;
      } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_') {
        partLength++;
      } else {
        return false;
      }
    }
    return dots == 2;
  }

  /**
   * An authenticator that sends bearer values shaped like a JWT ({@link #looksLikeJwt}) to
   * {@code jwt} and every other credential (API keys as {@code X-API-Key} or {@code snk_}
   * bearer values, none) to {@code others}: a token is never tried as an API key nor a key as
   * a token, so the refusal reason names what failed.
   */
  public static Authenticator dispatching(Authenticator jwt, Authenticator others) {
    Objects.requireNonNull(jwt, "jwt");
    Objects.requireNonNull(others, "others");
    return credentials -> credentials.type() == Credentials.Type.BEARER && looksLikeJwt(credentials.secret())
        ? jwt.authenticate(credentials)
        : others.authenticate(credentials);
  }

  @Override
  public AuthenticationResult authenticate(Credentials credentials) {
    if (credentials == null || credentials.type() != Credentials.Type.BEARER) {
      return AuthenticationResult.failure("jwt: not a bearer token");
    }
    String token = credentials.secret();
    if (!looksLikeJwt(token)) {
      return AuthenticationResult.failure("jwt: malformed token");
    }
    Instant now = clock.instant();
    String hash = cacheSize > 0 ? hash(token) : null;
    if (hash != null) {
      Verified known = verified.get(hash);
      if (known != null) {
        if (now.isBefore(known.expires().plus(settings.clockSkew()))) {
          return AuthenticationResult.success(known.principal());
        }
        verified.remove(hash, known);
        return AuthenticationResult.failure("jwt: token expired");
      }
    }
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(token);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException | RuntimeException e) {
      return AuthenticationResult.failure("jwt: malformed token");
    }
    JWSHeader header = jwt.getHeader();
    if (!algorithms.contains(header.getAlgorithm())) {
      return AuthenticationResult.failure("jwt: algorithm not allowed");
    }
    String refusal = verifySignature(jwt, header);
    if (refusal != null) {
      return AuthenticationResult.failure(refusal);
    }
    refusal = checkClaims(claims, now);
    if (refusal != null) {
      return AuthenticationResult.failure(refusal);
    }
    Principal principal;
    try {
      principal = principal(claims);
    } catch (IllegalArgumentException | ParseException e) {
      return AuthenticationResult.failure("jwt: the principal claims are not usable");
    }
    if (principal == null) {
      return AuthenticationResult.failure("jwt: no principal claim");
    }
    if (hash != null) {
      remember(hash, new Verified(principal, claims.getExpirationTime().toInstant()), now);
    }
    return AuthenticationResult.success(principal);
  }

  /** How many signatures were checked: tokens served from the cache are not counted. */
  public long signatureChecks() {
    return signatureChecks.get();
  }

  /** How many JWKS fetches were attempted. */
  public long keySetFetches() {
    return keys.fetches();
  }

  /** Why the signature is refused, or null when it verifies. */
  private @Nullable String verifySignature(SignedJWT jwt, JWSHeader header) {
    JWSAlgorithm algorithm = header.getAlgorithm();
    boolean ec = JWSAlgorithm.Family.EC.contains(algorithm);
    JWK key;
    try {
      key = keys.key(header.getKeyID(), ec ? ECKey.class : RSAKey.class);
    } catch (JwksCache.Unavailable e) {
      return "jwt: the signing keys are unavailable";
    }
    if (key == null) {
      return "jwt: unknown signing key";
    }
    if (key.getAlgorithm() != null && !key.getAlgorithm().getName().equals(algorithm.getName())) {
      return "jwt: the key is not for this algorithm";
    }
    try {
      JWSVerifier verifier = verifier(key, ec);
      if (!verifier.supportedJWSAlgorithms().contains(algorithm)) {
        return "jwt: the key is not for this algorithm";
      }
      signatureChecks.incrementAndGet();
      return jwt.verify(verifier) ? null : "jwt: bad signature";
    } catch (JOSEException | RuntimeException e) {
      return "jwt: bad signature";
    }
  }

  private JWSVerifier verifier(JWK key, boolean ec) throws JOSEException {
    JWSVerifier known = verifiers.get(key);
    if (known != null) {
      return known;
    }
    JWSVerifier verifier = ec ? new ECDSAVerifier((ECKey) key) : new RSASSAVerifier((RSAKey) key);
    if (verifiers.size() >= MAX_VERIFIERS) {
      verifiers.clear(); // keys rotated many times: start over with the current ones
    }
    verifiers.put(key, verifier);
    return verifier;
  }

  /** Why the claims are refused, or null when they are acceptable. */
  private @Nullable String checkClaims(JWTClaimsSet claims, Instant now) {
    if (!settings.issuer().equals(claims.getIssuer())) {
      return "jwt: wrong issuer";
    }
    List<String> audience = claims.getAudience();
    boolean named = false;
    for (String value : audience) {
      named |= settings.audiences().contains(value);
    }
    if (!named) {
      return "jwt: wrong audience";
    }
    Date exp = claims.getExpirationTime();
    if (exp == null) {
      return "jwt: no expiry";
    }
    if (!now.isBefore(exp.toInstant().plus(settings.clockSkew()))) {
      return "jwt: token expired";
    }
    Date nbf = claims.getNotBeforeTime();
    if (nbf != null && now.plus(settings.clockSkew()).isBefore(nbf.toInstant())) {
      return "jwt: token not yet valid";
    }
    return null;
  }

  /** The principal the claims name, or null when the principal claim is missing or blank. */
  private @Nullable Principal principal(JWTClaimsSet claims) throws ParseException {
    Object id = claims.getClaim(settings.principalClaim());
    if (!(id instanceof String) || ((String) id).isBlank()) {
      return null;
    }
    Set<String> roles = new LinkedHashSet<>(values(claims.getClaim(settings.rolesClaim()), true));
    Map<String, List<String>> attributes = new HashMap<>();
    for (String name : settings.attributeClaims()) {
      Object value = claims.getClaim(name);
      if (value != null) {
        List<String> list = values(value, name.equals("scope") || name.equals("scp"));
        if (!list.isEmpty()) {
          attributes.put(name, list);
        }
      }
    }
    return new Principal((String) id, roles, attributes);
  }

  /** A claim's values: each element of a list, or a string (split on spaces if asked). */
  private static List<String> values(Object value, boolean split) {
    List<String> out = new ArrayList<>();
    if (value instanceof List) {
      for (Object item : (List<?>) value) {
        if (item != null && !String.valueOf(item).isBlank()) {
          out.add(String.valueOf(item));
        }
      }
    } else if (value instanceof String) {
      String text = ((String) value).strip();
      if (!text.isEmpty()) {
        if (split) {
          out.addAll(List.of(text.split("\\s+")));
        } else {
          out.add(text);
        }
      }
    } else if (value instanceof Number || value instanceof Boolean) {
      out.add(String.valueOf(value));
    }
    return out;
  }

  private void remember(String hash, Verified entry, Instant now) {
    if (verified.size() >= cacheSize) {
      verified.values().removeIf(v -> !now.isBefore(v.expires().plus(settings.clockSkew())));
      Iterator<String> keys = verified.keySet().iterator();
      // Still full of live tokens: forget an arbitrary tenth; they are verified again when seen.
      int drop = Math.max(1, cacheSize / 10);
      while (verified.size() >= cacheSize && keys.hasNext() && drop-- > 0) {
        keys.next();
        keys.remove();
      }
    }
    verified.put(hash, entry);
  }

  private static String hash(String token) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HASH_TEXT.encodeToString(sha.digest(token.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** Assembles a {@link JwtAuthenticator}; each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private final Jwt settings;
    private Clock clock = Clock.system();
    private int cacheSize = DEFAULT_CACHE_SIZE;
    private Duration fetchTimeout = DEFAULT_FETCH_TIMEOUT;

    private Builder(Jwt settings) {
      this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** The clock for {@code exp}, {@code nbf} and the key cache; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How many verified tokens are remembered; {@value #DEFAULT_CACHE_SIZE} by default, 0 to
     * verify every presentation.
     */
    public Builder cacheSize(int size) {
      if (size < 0) {
        throw new IllegalArgumentException("cacheSize must not be negative, was " + size);
      }
      this.cacheSize = size;
      return this;
    }

    /** The timeout of a JWKS fetch; 5 s by default. */
    public Builder fetchTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "fetchTimeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("fetchTimeout must be positive, was " + timeout);
      }
      this.fetchTimeout = timeout;
      return this;
    }

    /** Builds the authenticator; the keys are fetched on the first token. */
    public JwtAuthenticator build() {
      return new JwtAuthenticator(this);
    }
  }
}
