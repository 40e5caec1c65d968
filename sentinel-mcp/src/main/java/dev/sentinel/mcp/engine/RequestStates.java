package dev.sentinel.mcp.engine;

import dev.sentinel.api.Clock;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code requestState} of the gateway's own {@code input_required} results (MCP 2026-07-28
 * multi round-trip requests): a token the client sends back unchanged with its answer, which
 * says which call the answer is for and until when, signed so that the client cannot alter it.
 *
 * <p>A token is {@code sentinel1.<payload>.<mac>} (base64url without padding): the payload is
 * the call's binding (a digest of the principal, the request and the policy revision), the
 * expiry in epoch milliseconds and a random nonce; the MAC is HMAC-SHA256 over the payload. A
 * token is redeemed at most once in this gateway: the nonces of redeemed tokens are kept until
 * they expire, at most {@value #MAX_REDEEMED} of them (when full, a redemption is refused rather
 * than remembered loosely). Gateways that share the key (derived from {@code audit.digest_key})
 * accept each other's tokens, but each remembers only its own redemptions. Thread-safe.
 */
final class RequestStates {
  static final String PREFIX = "sentinel1.";
  static final int MAX_REDEEMED = 100_000;
  /** The longest token accepted, far above any real one: no MAC is computed over a flood. */
  private static final int MAX_LENGTH = 1_024;
  private static final Base64.Encoder ENCODE = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODE = Base64.getUrlDecoder();

  /** Whether a token holds for a call. */
  enum Check {
    /** Signed here, for this call, in time, and not redeemed before: now redeemed. */
    REDEEMED,
    /** Not a token of this key, altered, or for another call. */
    FOREIGN,
    /** Past its expiry. */
    EXPIRED,
    /** Redeemed before (or too many redemptions to remember another). */
    USED
  }

  private final SecretKeySpec key;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Long> redeemed = new ConcurrentHashMap<>();

  RequestStates(byte[] key, Clock clock) {
    if (key.length < 32) {
      throw new IllegalArgumentException("the request state key must have at least 32 bytes");
    }
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** States signed with a random key of this process. */
  static RequestStates random(Clock clock) {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return new RequestStates(key, clock);
  }

  /** A token for the call with {@code binding}, good for {@code life}. */
  String issue(String binding, Duration life) {
    byte[] nonce = new byte[16];
    random.nextBytes(nonce);
    String payload = binding + "\n" + clock.instant().plus(life).toEpochMilli() + "\n"
        + ENCODE.encodeToString(nonce);
    byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
    return PREFIX + ENCODE.encodeToString(bytes) + "." + ENCODE.encodeToString(mac(bytes));
  }

  /** Checks a token sent back for the call with {@code binding}, and redeems it if it holds. */
  Check redeem(String token, String binding) {
    if (token == null || token.length() > MAX_LENGTH || !token.startsWith(PREFIX)) {
      return Check.FOREIGN;
    }
    String rest = token.substring(PREFIX.length());
    int dot = rest.indexOf('.');
    if (dot < 0 || rest.indexOf('.', dot + 1) >= 0) {
      return Check.FOREIGN;
    }
    byte[] payload;
    byte[] mac;
    try {
      payload = DECODE.decode(rest.substring(0, dot));
      mac = DECODE.decode(rest.substring(dot + 1));
    } catch (IllegalArgumentException notBase64) {
      return Check.FOREIGN;
    }
    if (!MessageDigest.isEqual(mac(payload), mac)) {
      return Check.FOREIGN;
    }
    String[] parts = new String(payload, StandardCharsets.UTF_8).split("\n", -1);
    if (parts.length != 3 || !parts[0].equals(binding)) {
      return Check.FOREIGN;
    }
    long expires;
    try {
      expires = Long.parseLong(parts[1]);
    } catch (NumberFormatException e) {
      return Check.FOREIGN;
    }
    long now = clock.instant().toEpochMilli();
    if (now > expires) {
      return Check.EXPIRED;
    }
    if (redeemed.size() >= MAX_REDEEMED) {
      redeemed.values().removeIf(expiry -> expiry < now);
      if (redeemed.size() >= MAX_REDEEMED) {
        return Check.USED;
      }
    }
    return redeemed.putIfAbsent(parts[2], expires) == null ? Check.REDEEMED : Check.USED;
  }

  private byte[] mac(byte[] payload) {
    try {
      Mac hmac = Mac.getInstance("HmacSHA256");
      hmac.init(key);
      return hmac.doFinal(payload);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
    }
  }
}
