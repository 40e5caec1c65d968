package dev.sentinel.jdbc;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Objects;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A signed statement that an audit chain's head was record {@code seq} with hash {@code hash} at
 * {@code time}: an anchor that someone who can rewrite the database cannot forge, since the
 * private key that signs it is not in the database. {@link AuditVerifier} checks a chain against
 * checkpoints ({@link AuditAnchors#checkpoints}): a chain that ends before a checkpoint's seq was
 * truncated; one whose record at that seq has another hash was rewritten.
 *
 * <p>The signature is Ed25519 (RFC 8032, the JDK's {@code Ed25519}) over these UTF-8 bytes, each
 * line ended by a line feed:
 *
 * <pre>
 * sentinel-audit-checkpoint/1
 * &lt;seq, decimal&gt;
 * &lt;hash&gt;
 * &lt;time, ISO-8601 UTC as in the JSON below&gt;
 * </pre>
 *
 * <p>As text ({@link #toJson()}, one line of a checkpoint file, also logged for external
 * anchoring), with the signature in base64:
 *
 * <pre>
 * {"checkpoint":1,"seq":1200,"hash":"sha256:...","time":"2026-03-01T12:00:00.123456Z","signature":"..."}
 * </pre>
 *
 * @param seq the head's sequence number (0 for a chain with no record yet)
 * @param hash the head's hash
 * @param time when the checkpoint was taken, to the microsecond (truncated)
 * @param signature the Ed25519 signature of {@link #signedBytes()}, 64 bytes
 */
public record AuditCheckpoint(long seq, String hash, Instant time, byte[] signature) {
  private static final String VERSION_LINE = "sentinel-audit-checkpoint/1";
  private static final String ALGORITHM = "Ed25519";
  private static final Pattern HASH = Pattern.compile("sha256:[0-9a-f]{64}");
  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  /** Validates, truncates the time to microseconds, and copies the signature. */
  public AuditCheckpoint {
    if (seq < 0) {
      throw new IllegalArgumentException("a checkpoint's seq must not be negative, got " + seq);
    }
    Objects.requireNonNull(hash, "hash");
    if (!HASH.matcher(hash).matches()) {
      throw new IllegalArgumentException(
          "a checkpoint's hash is sha256: and 64 lowercase hex digits, got '" + hash + "'");
    }
    time = Objects.requireNonNull(time, "time").truncatedTo(ChronoUnit.MICROS);
    signature = Objects.requireNonNull(signature, "signature").clone();
  }

  /**
   * Signs the head as it is at {@code time}.
   *
   * @throws IllegalArgumentException if the key is not an Ed25519 private key
   */
  public static AuditCheckpoint sign(AuditHead head, Instant time, PrivateKey key) {
    Objects.requireNonNull(head, "head");
    Objects.requireNonNull(key, "key");
    AuditCheckpoint unsigned = new AuditCheckpoint(head.seq(), head.hash(), time, new byte[0]);
    try {
      Signature signer = Signature.getInstance(ALGORITHM);
      signer.initSign(key);
      signer.update(unsigned.signedBytes());
      return new AuditCheckpoint(head.seq(), head.hash(), time, signer.sign());
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException(
          "audit checkpoints are signed with an Ed25519 private key, got a "
              + key.getAlgorithm() + " key", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 must be available in every Java 17 runtime", e);
    }
  }

  /** Whether the signature is this checkpoint's, made with the private half of {@code key}. */
  public boolean signedBy(PublicKey key) {
    Objects.requireNonNull(key, "key");
    try {
      Signature verifier = Signature.getInstance(ALGORITHM);
      verifier.initVerify(key);
      verifier.update(signedBytes());
      return verifier.verify(signature);
    } catch (InvalidKeyException | SignatureException e) {
      return false; // not an Ed25519 key, or a signature of the wrong shape: not signed by it
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 must be available in every Java 17 runtime", e);
    }
  }

  /** The bytes the signature covers (see the class description). */
  public byte[] signedBytes() {
    return (VERSION_LINE + "\n" + seq + "\n" + hash + "\n" + time + "\n")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** The head this checkpoint states, without a record time. */
  public AuditHead head() {
    return new AuditHead(seq, hash, null);
  }

  /** The checkpoint as one line of JSON, without a line feed (see the class description). */
  public String toJson() {
    ObjectNode node = JsonNodeFactory.instance.objectNode()
        .put("checkpoint", 1)
        .put("seq", seq)
        .put("hash", hash)
        .put("time", time.toString())
        .put("signature", Base64.getEncoder().encodeToString(signature));
    return MAPPER.writeValueAsString(node);
  }

  /**
   * Reads a checkpoint from one line as {@link #toJson()} writes it. The signature is not
   * checked: see {@link #signedBy}.
   *
   * @throws IllegalArgumentException naming what is wrong, if the line is not a checkpoint
   */
  public static AuditCheckpoint parse(String line) {
    Objects.requireNonNull(line, "line");
    JsonNode node;
    try {
      node = MAPPER.readTree(line);
    } catch (JacksonException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("expected a JSON object, a checkpoint");
    }
    if (!node.path("checkpoint").isIntegralNumber() || node.path("checkpoint").asInt() != 1) {
      throw new IllegalArgumentException(
          "expected \"checkpoint\": 1 (the only checkpoint format this build reads)");
    }
    JsonNode seq = node.path("seq");
    if (!seq.isIntegralNumber() || !seq.canConvertToLong()) {
      throw new IllegalArgumentException("\"seq\" must be a whole number");
    }
    String timeText = text(node, "time");
    Instant time;
    try {
      time = Instant.parse(timeText);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("\"time\" is not an instant: '" + timeText + "'", e);
    }
    // The signed bytes hold the time as written: only one spelling of an instant is accepted.
    if (!time.truncatedTo(ChronoUnit.MICROS).toString().equals(timeText)) {
      throw new IllegalArgumentException("\"time\" must be written as "
          + time.truncatedTo(ChronoUnit.MICROS) + ", got '" + timeText + "'");
    }
    byte[] signature;
    try {
      signature = Base64.getDecoder().decode(text(node, "signature"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("\"signature\" is not base64", e);
    }
    return new AuditCheckpoint(seq.asLong(), text(node, "hash"), time, signature);
  }

  private static String text(JsonNode node, String name) {
    JsonNode value = node.get(name);
    if (value == null || !value.isString()) {
      throw new IllegalArgumentException("\"" + name + "\" must be text");
    }
    return value.stringValue();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AuditCheckpoint c
        && seq == c.seq
        && hash.equals(c.hash)
        && time.equals(c.time)
        && java.util.Arrays.equals(signature, c.signature);
  }

  @Override
  public int hashCode() {
    return Objects.hash(seq, hash, time, java.util.Arrays.hashCode(signature));
  }

  @Override
  public String toString() {
    return "checkpoint at seq " + seq + " hash " + hash + " (taken " + time + ")";
  }

  /** A copy of the signature. */
  @Override
  public byte[] signature() {
    return signature.clone();
  }
}
