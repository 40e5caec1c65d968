package dev.sentinel.core.breakglass;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Objects;
import java.util.OptionalLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Time-based one-time passwords as RFC 6238 defines them, with the parameters every
 * authenticator app uses: HMAC-SHA1, a 30-second step counted from the Unix epoch, 6 digits.
 * A code is accepted in its own step and in the steps just before and after (clock skew of up to
 * 30 s either way). JDK cryptography only. Stateless and thread-safe; that each code is accepted
 * once is the caller's rule (a code's step must be later than the last one accepted).
 */
public final class Totp {
  /** Seconds per step. */
  public static final long STEP_SECONDS = 30;
  /** Digits per code. */
  public static final int DIGITS = 6;
  /** Bytes of a new secret: 160 bits, the size of an HMAC-SHA1 key (RFC 4226 section 4). */
  public static final int SECRET_BYTES = 20;
  private static final int[] POWERS = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000,
      10_000_000, 100_000_000};
  private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  private Totp() {}

  /** A new random secret of {@value #SECRET_BYTES} bytes. */
  public static byte[] newSecret() {
    byte[] secret = new byte[SECRET_BYTES];
    RANDOM.nextBytes(secret);
    return secret;
  }

  /** The step that {@code time} falls in. */
  public static long step(Instant time) {
    return Math.floorDiv(time.getEpochSecond(), STEP_SECONDS);
  }

  /** The code of a step, as {@value #DIGITS} digits with leading zeros. */
  public static String code(byte[] secret, long step) {
    return code(secret, step, DIGITS);
  }

  /**
   * The code of a step with {@code digits} digits (6 to 8; RFC 6238's test vectors have 8).
   */
  public static String code(byte[] secret, long step, int digits) {
    Objects.requireNonNull(secret, "secret");
    if (digits < 6 || digits > 8) {
      throw new IllegalArgumentException("digits must be 6 to 8, got " + digits);
    }
    byte[] counter = new byte[8];
    long value = step;
    for (int i = 7; i >= 0; i--) {
      counter[i] = (byte) value;
      value >>>= 8;
    }
    byte[] hash;
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(secret, "HmacSHA1"));
      hash = mac.doFinal(counter);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 is required of every JVM", e);
    }
    // Dynamic truncation, RFC 4226 section 5.3.
    int offset = hash[hash.length - 1] & 0x0f;
    int binary = ((hash[offset] & 0x7f) << 24) | ((hash[offset + 1] & 0xff) << 16)
        | ((hash[offset + 2] & 0xff) << 8) | (hash[offset + 3] & 0xff);
    String text = Integer.toString(binary % POWERS[digits]);
    return "0".repeat(digits - text.length()) + text;
  }

  /**
   * The step whose code {@code code} is, among the step of {@code now} and the ones just before
   * and after, skipping steps up to {@code lastUsed} (codes already accepted, and older ones).
   * Every candidate is compared in constant time, whether an earlier one matched or not.
   *
   * @param lastUsed the step of the last code accepted, or {@link Long#MIN_VALUE} for none
   * @return the matching step, or empty when the code is wrong, used or out of time
   */
  public static OptionalLong verify(byte[] secret, String code, Instant now, long lastUsed) {
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(now, "now");
    if (code == null) {
      return OptionalLong.empty();
    }
    byte[] given = code.strip().getBytes(StandardCharsets.US_ASCII);
    long current = step(now);
    long found = Long.MIN_VALUE;
    for (long step = current - 1; step <= current + 1; step++) {
      byte[] expected = code(secret, step).getBytes(StandardCharsets.US_ASCII);
      boolean equal = MessageDigest.isEqual(expected, given);
      if (equal && step > lastUsed && found == Long.MIN_VALUE) {
        found = step;
      }
    }
    return found == Long.MIN_VALUE ? OptionalLong.empty() : OptionalLong.of(found);
  }

  /** The secret in base32 (RFC 4648, no padding), as authenticator apps take it. */
  public static String base32(byte[] secret) {
    StringBuilder out = new StringBuilder((secret.length * 8 + 4) / 5);
    int buffer = 0;
    int bits = 0;
    for (byte b : secret) {
      buffer = (buffer << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 5) {
        out.append(BASE32[(buffer >>> (bits - 5)) & 31]);
        bits -= 5;
      }
    }
    if (bits > 0) {
      out.append(BASE32[(buffer << (5 - bits)) & 31]);
    }
    return out.toString();
  }

  /**
   * The {@code otpauth://} URI that enrols the secret in an authenticator app (scanned as a QR
   * code or pasted): {@code otpauth://totp/Sentinel:<principal>?secret=...&issuer=Sentinel}. It
   * holds the secret: show it once, to the principal, and never log it.
   */
  public static String uri(String principal, byte[] secret) {
    Objects.requireNonNull(principal, "principal");
    String label = URLEncoder.encode(principal, StandardCharsets.UTF_8).replace("+", "%20");
    return "otpauth://totp/Sentinel:" + label + "?secret=" + base32(secret)
        + "&issuer=Sentinel&algorithm=SHA1&digits=" + DIGITS + "&period=" + STEP_SECONDS;
  }
}
