package dev.sentinel.benchmarks;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Credentials;
import dev.sentinel.core.config.Jwt;
import dev.sentinel.jwt.JwtAuthenticator;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of authenticating a JWT with {@link JwtAuthenticator}: {@code cached} presents a token
 * already verified (what every request of a session after the first costs: a SHA-256 and a map
 * lookup), {@code uncachedRs256} and {@code uncachedEs256} verify the signature every time (keys
 * already fetched; the verified-token cache is off), and {@code baseline} only hashes the token,
 * the floor of the cached path. The JWKS is served by a JDK {@code HttpServer} on 127.0.0.1.
 *
 * <p>Run: {@code benchmarks/run JwtAuthBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class JwtAuthBenchmark {
  private static final String ISSUER = "https://idp.bench/";
  private static final String AUDIENCE = "https://mcp.bench/mcp";

  private HttpServer jwks;
  private JwtAuthenticator cached;
  private JwtAuthenticator uncached;
  private Credentials rs256;
  private Credentials es256;

  @Setup
  public void setUp() throws Exception {
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
    ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
    byte[] body = new JWKSet(List.<JWK>of(rsa, ec)).toPublicJWKSet().toString().getBytes(StandardCharsets.UTF_8);
    jwks = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    jwks.createContext("/jwks.json", exchange -> {
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    jwks.start();
    Jwt settings = Jwt.of(ISSUER, AUDIENCE,
        URI.create("http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks.json"));
    cached = JwtAuthenticator.builder(settings).build();
    uncached = JwtAuthenticator.builder(settings).cacheSize(0).build();
    rs256 = Credentials.bearer(token(JWSAlgorithm.RS256, "rsa", new RSASSASigner(rsa)));
    es256 = Credentials.bearer(token(JWSAlgorithm.ES256, "ec", new ECDSASigner(ec)));
    for (Credentials credentials : List.of(rs256, es256)) {
      if (!cached.authenticate(credentials).authenticated() || !uncached.authenticate(credentials).authenticated()) {
        throw new IllegalStateException("the benchmark token is refused");
      }
    }
  }

  @TearDown
  public void tearDown() {
    jwks.stop(0);
  }

  private static String token(JWSAlgorithm algorithm, String kid, JWSSigner signer) throws JOSEException {
    Instant now = Instant.now();
    JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).audience(AUDIENCE).subject("bench")
        .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(3600)))
        .claim("roles", List.of("developer")).claim("scope", "mcp:tools").build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).keyID(kid).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  /** The floor of the cached path: one SHA-256 of the token. */
  @Benchmark
  public byte[] baseline() throws NoSuchAlgorithmException {
    return MessageDigest.getInstance("SHA-256").digest(rs256.secret().getBytes(StandardCharsets.US_ASCII));
  }

  /** A token verified before: hash and lookup. */
  @Benchmark
  public AuthenticationResult cached() {
    return cached.authenticate(rs256);
  }

  /** An RS256 token verified in full each time (RSA 2048). */
  @Benchmark
  public AuthenticationResult uncachedRs256() {
    return uncached.authenticate(rs256);
  }

  /** An ES256 token verified in full each time (P-256). */
  @Benchmark
  public AuthenticationResult uncachedEs256() {
    return uncached.authenticate(es256);
  }
}
