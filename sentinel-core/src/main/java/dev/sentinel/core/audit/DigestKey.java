package dev.sentinel.core.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import tools.jackson.databind.JsonNode;

/**
 * The secret that keys the audit trail's digests: {@code arguments_digest}, {@code
 * response_digest} and the digest in an oversized value's summary are HMAC-SHA256 (RFC 2104)
 * over the value's {@link CanonicalJson canonical} bytes, never a plain hash. A plain hash of
 * redacted material undoes the redaction: {@code {"password":"[REDACTED]"}} beside the SHA-256 of
 * {@code {"password":"hunter2"}} gives the password back to anyone who hashes a dictionary of
 * guesses.
 *
 * <p>A digest is written {@code hmac-sha256:<key id>:<64 lowercase hex>}. The key id (8 hex
 * digits, derived from the key by HMAC, so it reveals nothing of it) says which key made the
 * digest: digests made with different keys cannot be compared.
 *
 * <p>What a digest proves: two records whose digests are equal carried the same value (canonical
 * JSON, so member order and number spelling do not matter); whoever holds the key can check that
 * a claimed original is the recorded one ({@link #matches}); whoever does not hold it learns
 * nothing about the original from the digest, however few values it could have been. The key
 * must therefore be random and at least {@value #MIN_LENGTH} bytes: the trail holds many
 * records whose arguments are in clear beside their digest, so a guessable key could be found
 * from them and every digest would be reversible again.
 *
 * <p>Immutable and thread-safe. The key's two HMAC pads are hashed once, when the key is made;
 * each digest starts from a copy of those SHA-256 states, so the hot path hashes only the value
 * and the inner hash. {@link #toString()} shows the id, never the key.
 */
public final class DigestKey {

  /** The start of every digest text. */
  public static final String PREFIX = "hmac-sha256:";

  /** The shortest key accepted, in bytes (for {@link #fromSecret}, in UTF-8 bytes of the text). */
  public static final int MIN_LENGTH = 32;

  /** The length of a digest text: prefix, 8-digit key id, colon, 64 hex digits. */
  static final int DIGEST_LENGTH = PREFIX.length() + 8 + 1 + 64;

  private static final int BLOCK = 64; // SHA-256's block size, in bytes
  private static final HexFormat HEX = HexFormat.of();
  private static final byte[] ID_LABEL =
      "sentinel audit digest key id".getBytes(StandardCharsets.US_ASCII);

  private final byte[] key;
  /** SHA-256 having absorbed the key xor ipad, and xor opad; only ever copied. */
  private final MessageDigest inner;
  private final MessageDigest outer;
  private final String id;
  private final String prefix;

  private DigestKey(byte[] key) {
    this.key = key;
    byte[] block = Arrays.copyOf(key.length > BLOCK ? sha256().digest(key) : key, BLOCK);
    byte[] pad = new byte[BLOCK];
    for (int i = 0; i < BLOCK; i++) {
      pad[i] = (byte) (block[i] ^ 0x36);
    }
    this.inner = sha256();
    inner.update(pad);
    for (int i = 0; i < BLOCK; i++) {
      pad[i] = (byte) (block[i] ^ 0x5c);
    }
    this.outer = sha256();
    outer.update(pad);
    MessageDigest idDigest = copy(inner);
    idDigest.update(ID_LABEL);
    this.id = HEX.formatHex(Arrays.copyOf(finish(idDigest), 4));
    this.prefix = PREFIX + id + ":";
  }

  /**
   * A key from raw bytes (copied).
   *
   * @throws IllegalArgumentException if shorter than {@value #MIN_LENGTH} bytes
   */
  public static DigestKey of(byte[] key) {
    Objects.requireNonNull(key, "key");
    if (key.length < MIN_LENGTH) {
      throw new IllegalArgumentException("an audit digest key must be at least " + MIN_LENGTH
          + " bytes, got " + key.length);
    }
    return new DigestKey(key.clone());
  }

  /**
   * A key from a secret text, such as the config's {@code audit.digest_key}: its UTF-8 bytes.
   *
   * @throws IllegalArgumentException if the text is blank or its UTF-8 form is shorter than
   *     {@value #MIN_LENGTH} bytes; the message never quotes the text
   */
  public static DigestKey fromSecret(String secret) {
    Objects.requireNonNull(secret, "secret");
    byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
    if (bytes.length < MIN_LENGTH || secret.isBlank()) {
      throw new IllegalArgumentException("an audit digest key must be at least " + MIN_LENGTH
          + " random characters, such as the output of 'openssl rand -base64 32'");
    }
    return new DigestKey(bytes);
  }

  /** A new random key of 32 bytes from {@link SecureRandom}; it exists only in this process. */
  public static DigestKey random() {
    byte[] bytes = new byte[MIN_LENGTH];
    new SecureRandom().nextBytes(bytes);
    return new DigestKey(bytes);
  }

  /** The key's id: 8 lowercase hex digits, the second part of every digest it makes. */
  public String id() {
    return id;
  }

  /**
   * The digest the trail records for the value under this key, and the length of the value's
   * canonical form, computed without holding that form in memory.
   *
   * @param value the value; never modified
   */
  public CanonicalJson.Digest digest(JsonNode value) {
    Objects.requireNonNull(value, "value");
    MessageDigest md = copy(inner);
    long size = CanonicalJson.update(md, value);
    return new CanonicalJson.Digest(prefix + HEX.formatHex(finish(md)), size);
  }

  /**
   * A keyed digest of bytes written in pieces, such as a streamed response: {@link
   * ByteDigest#update} each piece, then {@link ByteDigest#finish}. Not thread-safe.
   */
  public ByteDigest bytes() {
    return new ByteDigest(copy(inner));
  }

  /** A keyed digest of bytes in progress ({@link #bytes()}): the same form as JSON digests. */
  public final class ByteDigest {
    private final MessageDigest md;
    private long size;

    private ByteDigest(MessageDigest md) {
      this.md = md;
    }

    /** Adds bytes. */
    public void update(byte[] bytes, int offset, int length) {
      md.update(bytes, offset, length);
      size += length;
    }

    /** The digest and size of every byte added; the digest cannot be used after. */
    public CanonicalJson.Digest finish() {
      return new CanonicalJson.Digest(prefix + HEX.formatHex(DigestKey.this.finish(md)), size);
    }
  }

  /**
   * Whether the claimed value is the one a recorded digest was made from, under this key: an
   * auditor's check of an original held elsewhere. Compares in constant time.
   *
   * @param claimed the value the claim says was recorded
   * @param recorded a digest from the trail, such as an event's {@code arguments_digest}
   * @return {@code false} also when the digest was made with another key or is not a digest
   */
  public boolean matches(JsonNode claimed, String recorded) {
    Objects.requireNonNull(claimed, "claimed");
    if (recorded == null) {
      return false;
    }
    byte[] expected = digest(claimed).digest().getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, recorded.getBytes(StandardCharsets.UTF_8));
  }

  /** Equal when the keys are equal (compared in constant time). */
  @Override
  public boolean equals(Object other) {
    return other instanceof DigestKey && MessageDigest.isEqual(key, ((DigestKey) other).key);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "DigestKey[id=" + id + "]";
  }

  /** The HMAC of what the inner digest has absorbed: the outer hash of the inner one. */
  private byte[] finish(MessageDigest innerDigest) {
    MessageDigest md = copy(outer);
    md.update(innerDigest.digest());
    return md.digest();
  }

  /** A copy of a pad's state; concurrent copies only read the original. */
  private static MessageDigest copy(MessageDigest prototype) {
    try {
      return (MessageDigest) prototype.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("the SHA-256 implementation cannot be cloned", e);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 must be available in every Java runtime", e);
    }
  }
}
