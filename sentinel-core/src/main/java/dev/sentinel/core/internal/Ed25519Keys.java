package dev.sentinel.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Ed25519 keys in PEM files as OpenSSL writes them (the private key PKCS#8, {@code -----BEGIN
 * PRIVATE KEY-----}; the public key SubjectPublicKeyInfo, {@code -----BEGIN PUBLIC KEY-----}),
 * with the JDK's own Ed25519 (no provider to add). Used by the audit checkpoints and the signed
 * config bundles.
 */
public final class Ed25519Keys {
  private static final String ALGORITHM = "Ed25519";

  private Ed25519Keys() {}

  /** Thrown when a key file cannot be read or holds no Ed25519 key; the message names the file. */
  public static final class KeyFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    KeyFileException(String message, @Nullable Throwable cause) {
      super(message, cause);
    }
  }

  /** A new key pair from the JDK's strong random source. */
  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no Ed25519 (Java 15 or newer has)", e);
    }
  }

  /**
   * Reads a private key.
   *
   * @param what what the key is, for messages ("audit checkpoint key")
   * @param howToMake a command that writes such a file, for messages
   * @throws KeyFileException naming the file
   */
  public static PrivateKey readPrivate(Path file, String what, String howToMake) {
    byte[] der = pem(file, "PRIVATE KEY", what, howToMake);
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new KeyFileException("Cannot read the " + what + " " + file
          + ": it is not an Ed25519 private key (" + e.getMessage() + ").", e);
    }
  }

  /**
   * Reads a public key.
   *
   * @param what what the key is, for messages ("audit checkpoint public key")
   * @param howToMake a command that writes such a file, for messages
   * @throws KeyFileException naming the file
   */
  public static PublicKey readPublic(Path file, String what, String howToMake) {
    byte[] der = pem(file, "PUBLIC KEY", what, howToMake);
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new KeyFileException("Cannot read the " + what + " " + file
          + ": it is not an Ed25519 public key (" + e.getMessage() + ").", e);
    }
  }

  /** The private key as a PEM text (PKCS#8), as {@code openssl genpkey} writes it. */
  public static String privatePem(PrivateKey key) {
    return pemText("PRIVATE KEY", key.getEncoded());
  }

  /** The public key as a PEM text (SubjectPublicKeyInfo), as {@code openssl pkey -pubout} writes it. */
  public static String publicPem(PublicKey key) {
    return pemText("PUBLIC KEY", key.getEncoded());
  }

  /**
   * A short, stable name of a public key: {@code ed25519:} and the first 16 hex digits of the
   * SHA-256 of its encoded form. Names a key in signatures and messages; the key itself is what
   * is checked.
   */
  public static String id(PublicKey key) {
    Objects.requireNonNull(key, "key");
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
      return "ed25519:" + HexFormat.of().formatHex(hash, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  private static String pemText(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }

  /** The DER bytes of the one PEM block of that label in the file. */
  private static byte[] pem(Path file, String label, String what, String howToMake) {
    Objects.requireNonNull(file, "file");
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new KeyFileException("Cannot read the " + what + " " + file + ": " + e, e);
    }
    String begin = "-----BEGIN " + label + "-----";
    String end = "-----END " + label + "-----";
    int from = text.indexOf(begin);
    int to = from < 0 ? -1 : text.indexOf(end, from);
    if (from < 0 || to < 0) {
      throw new KeyFileException("Cannot read the " + what + " " + file
          + ": expected a PEM block '" + begin + "'"
          + (text.contains("ENCRYPTED PRIVATE KEY") ? " (encrypted keys are not supported)" : "")
          + ", such as `" + howToMake + "` writes.", null);
    }
    try {
      return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
    } catch (IllegalArgumentException e) {
      throw new KeyFileException("Cannot read the " + what + " " + file
          + ": its PEM block is not base64.", e);
    }
  }
}
