package dev.sentinel.runner.http;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a PEM certificate chain and a PKCS#8 private key (RSA or EC) with the JDK alone, and
 * checks that the key belongs to the chain's first certificate. Every failure is a
 * {@link TlsException} naming the file and what to do. Stateless.
 */
final class PemFiles {
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");
  /** The key algorithms a PKCS#8 key is tried as, in turn. */
  private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC");

  private PemFiles() {}

  /** The certificate chain and its key, checked to belong together. */
  record Pair(List<X509Certificate> chain, PrivateKey key) {
    Pair {
      chain = List.copyOf(chain);
    }
  }

  /**
   * Reads both files and checks that the key is the first certificate's.
   *
   * @throws TlsException naming the file that cannot be used and why
   */
  static Pair read(Path certificateFile, Path keyFile) {
    List<X509Certificate> chain = certificates(certificateFile, bytes(certificateFile, "certificate"));
    PrivateKey key = privateKey(keyFile, bytes(keyFile, "key"));
    requireMatch(chain.get(0), key, certificateFile, keyFile);
    return new Pair(chain, key);
  }

  /** The certificates of a PEM file, in order; at least one. */
  static List<X509Certificate> certificates(Path file, byte[] pem) {
    String text = new String(pem, StandardCharsets.US_ASCII);
    List<X509Certificate> chain = new ArrayList<>();
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      Matcher block = BLOCK.matcher(text);
      while (block.find()) {
        if (block.group(1).equals("CERTIFICATE")) {
          chain.add((X509Certificate) factory.generateCertificate(
              new ByteArrayInputStream(decode(block.group(2), file))));
        }
      }
    } catch (CertificateException e) {
      throw new TlsException("server.tls.certificate: " + file + " holds a certificate that"
          + " cannot be read (" + e.getMessage() + "); it must be PEM certificates"
          + " (-----BEGIN CERTIFICATE-----), the server's first", e);
    }
    if (chain.isEmpty()) {
      throw new TlsException("server.tls.certificate: " + file + " holds no PEM certificate"
          + " (-----BEGIN CERTIFICATE-----); name the certificate chain file, such as"
          + " fullchain.pem", null);
    }
    return chain;
  }

  /** The one PKCS#8 private key of a PEM file, RSA or EC. */
  static PrivateKey privateKey(Path file, byte[] pem) {
    String text = new String(pem, StandardCharsets.US_ASCII);
    Matcher block = BLOCK.matcher(text);
    byte[] der = null;
    while (block.find()) {
      String label = block.group(1);
      if (label.equals("PRIVATE KEY")) {
        der = decode(block.group(2), file);
        break;
      }
      if (label.equals("RSA PRIVATE KEY") || label.equals("EC PRIVATE KEY")) {
        throw new TlsException("server.tls.key: " + file + " holds a " + label + " (PKCS#1 or"
            + " SEC 1), not PKCS#8; convert it with: openssl pkcs8 -topk8 -nocrypt -in "
            + file.getFileName() + " -out key.pkcs8.pem", null);
      }
      if (label.equals("ENCRYPTED PRIVATE KEY")) {
        throw new TlsException("server.tls.key: " + file + " holds an encrypted key, which"
            + " needs a password the gateway does not take; decrypt it with: openssl pkcs8"
            + " -in " + file.getFileName() + " -out key.pkcs8.pem (keep that file readable by"
            + " the gateway only)", null);
      }
    }
    if (der == null) {
      throw new TlsException("server.tls.key: " + file + " holds no PEM private key"
          + " (-----BEGIN PRIVATE KEY-----); name the certificate's PKCS#8 key file, such as"
          + " privkey.pem", null);
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    try {
      for (String algorithm : KEY_ALGORITHMS) {
        try {
          return KeyFactory.getInstance(algorithm).generatePrivate(spec);
        } catch (InvalidKeySpecException notThisAlgorithm) {
          // the next one
        }
      }
    } catch (GeneralSecurityException e) {
      throw new TlsException("server.tls.key: " + file + " cannot be read: " + e.getMessage(), e);
    } finally {
      Arrays.fill(der, (byte) 0);
    }
    throw new TlsException("server.tls.key: " + file + " holds a key that is neither RSA nor"
        + " EC (PKCS#8); use an RSA or EC key", null);
  }

  /** Signs a random message with the key and verifies it with the certificate's public key. */
  private static void requireMatch(X509Certificate certificate, PrivateKey key, Path certificateFile,
      Path keyFile) {
    PublicKey publicKey = certificate.getPublicKey();
    boolean matches = false;
    if (publicKey.getAlgorithm().equals(key.getAlgorithm())) {
      String algorithm = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      try {
        byte[] message = new byte[32];
        new SecureRandom().nextBytes(message);
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key);
        signer.update(message);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(publicKey);
        verifier.update(message);
        matches = verifier.verify(signature);
      } catch (GeneralSecurityException e) {
        matches = false; // a key of another curve, or of the wrong shape: not this certificate's
      }
    }
    if (!matches) {
      throw new TlsException("server.tls: the key in " + keyFile + " does not belong to the"
          + " first certificate in " + certificateFile + " (" + certificate.getSubjectX500Principal()
          + "); name the key the certificate was issued for, and put the server's certificate"
          + " first in the chain", null);
    }
  }

  private static byte[] bytes(Path file, String which) {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new TlsException("server.tls." + which + ": no such file: " + file
          + "; a relative path starts from the config file's folder", e);
    } catch (IOException | SecurityException e) {
      throw new TlsException("server.tls." + which + ": cannot read " + file + " ("
          + e.getClass().getSimpleName() + "); give the user running sentinel ("
          + System.getProperty("user.name") + ") read access to it", e);
    }
  }

  private static byte[] decode(String base64, Path file) {
    try {
      return Base64.getMimeDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new TlsException(file + " holds a PEM block that is not valid base64", e);
    }
  }
}
