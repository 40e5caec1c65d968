package dev.sentinel.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.sentinel.core.config.Jwt;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A test identity provider: RSA signing keys, a JWKS served by a JDK {@code HttpServer} on
 * 127.0.0.1 (which can be made to fail, and counts fetches), and tokens signed by its keys.
 */
public final class TestIssuer implements AutoCloseable {
  public static final String ISSUER = "https://idp.test/";
  public static final String AUDIENCE = "https://mcp.test/mcp";

  private final List<RSAKey> published = new CopyOnWriteArrayList<>();
  private final AtomicBoolean down = new AtomicBoolean();
  private final AtomicInteger fetches = new AtomicInteger();
  private final HttpServer server;
  private RSAKey signing;

  public TestIssuer() {
    signing = newKey("key-1");
    published.add(signing);
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/jwks.json", exchange -> {
      fetches.incrementAndGet();
      byte[] body = down.get()
          ? "unavailable".getBytes(StandardCharsets.UTF_8)
          : new JWKSet(List.copyOf(published)).toPublicJWKSet().toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(down.get() ? 503 : 200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
  }

  public static RSAKey newKey(String kid) {
    try {
      return new RSAKeyGenerator(2048).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  public URI jwksUrl() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json");
  }

  /** The settings of a gateway trusting this issuer, with the given clock skew in seconds. */
  public Jwt settings() {
    return Jwt.of(ISSUER, AUDIENCE, jwksUrl());
  }

  /** How many times the JWKS was requested. */
  public int fetches() {
    return fetches.get();
  }

  /** Makes the JWKS endpoint answer 503 (true) or the keys (false). */
  public void down(boolean value) {
    down.set(value);
  }

  /** Publishes a new key and signs with it from now on (the old key stays published). */
  public RSAKey rotate(String kid) {
    RSAKey next = newKey(kid);
    published.add(next);
    signing = next;
    return next;
  }

  /** Signs with a key without publishing it (yet). */
  public RSAKey unpublished(String kid) {
    signing = newKey(kid);
    return signing;
  }

  /** Publishes the current signing key. */
  public void publishSigningKey() {
    published.add(signing);
  }

  public RSAKey signingKey() {
    return signing;
  }

  /** Valid claims for a subject at a time: this issuer, the audience, an hour to live. */
  public static JWTClaimsSet.Builder claims(String subject, Instant now) {
    return new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .subject(subject)
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(3600)))
        .claim("roles", List.of("developer"))
        .claim("scope", "mcp:tools mcp:read");
  }

  /** A token for a subject, valid for an hour from {@code now}. */
  public String token(String subject, Instant now) {
    return sign(claims(subject, now).build());
  }

  /** A token with adjusted claims. */
  public String token(String subject, Instant now, UnaryOperator<JWTClaimsSet.Builder> adjust) {
    return sign(adjust.apply(claims(subject, now)).build());
  }

  /** Signs claims with the current key, RS256. */
  public String sign(JWTClaimsSet claims) {
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(signing.getKeyID()).build(), claims);
      jwt.sign(new RSASSASigner(signing));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
