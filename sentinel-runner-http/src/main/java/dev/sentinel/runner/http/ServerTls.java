package dev.sentinel.runner.http;

import dev.sentinel.core.config.Tls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Objects;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS side of {@code server.tls}: Jetty's {@link SslContextFactory.Server} holding the PEM
 * certificate and key, and {@link #check()}, which reloads them when the files change. A reload
 * only changes what new handshakes present: connections already open keep theirs. When the
 * changed files cannot be used (a half-written pair, a key that is not the certificate's), the
 * old certificate keeps serving and the error is logged, once per change.
 *
 * <p>Thread-safe; {@link #check()} is meant to be called from one timer thread.
 */
final class ServerTls {
  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
  /** The in-memory key store's password: the key never leaves the process, so it guards nothing. */
  private static final char[] STORE_PASSWORD = "sentinel".toCharArray();
  private static final String ALIAS = "server";

  private final Path certificateFile;
  private final Path keyFile;
  private final SslContextFactory.Server factory;
  /** The digest of the files last read, whether or not they could be used. */
  private byte @Nullable [] seen;

  private ServerTls(Path certificateFile, Path keyFile, SslContextFactory.Server factory,
      byte @Nullable [] seen) {
    this.certificateFile = certificateFile;
    this.keyFile = keyFile;
    this.factory = factory;
    this.seen = seen;
  }

  /**
   * Reads the certificate and key, checking that they belong together.
   *
   * @throws TlsException naming the file that cannot be used and why
   */
  static ServerTls load(Tls tls) {
    Objects.requireNonNull(tls, "tls");
    PemFiles.Pair pair = PemFiles.read(tls.certificate(), tls.key());
    byte[] digest = digest(tls.certificate(), tls.key());
    warnIfOutOfDate(pair, tls.certificate());
    SslContextFactory.Server factory = new SslContextFactory.Server();
    factory.setKeyStore(keyStore(pair));
    factory.setKeyStorePassword(new String(STORE_PASSWORD));
    // The gateway's own Host check (Guard) decides which names it answers to; Jetty's SNI host
    // check would refuse, with a bare 400, requests for names the certificate does not list.
    factory.setSniRequired(false);
    log.info("TLS certificate from {}: {}", tls.certificate(), describe(pair));
    return new ServerTls(tls.certificate(), tls.key(), factory, digest);
  }

  /** The factory to give an {@code SslConnectionFactory}. */
  SslContextFactory.Server factory() {
    return factory;
  }

  /**
   * Reloads the certificate and key if either file changed since they were last read. New
   * handshakes use the new pair; connections open keep theirs.
   *
   * @return whether a new pair is now served
   */
  synchronized boolean check() {
    byte[] digest;
    try {
      digest = digest(certificateFile, keyFile);
    } catch (TlsException e) {
      // A file being replaced can be missing for a moment: try again at the next check.
      if (seen != null) {
        log.error("cannot reload the TLS certificate, still serving the previous one: {}",
            e.getMessage());
      }
      seen = null;
      return false;
    }
    if (Arrays.equals(digest, seen)) {
      return false;
    }
    seen = digest;
    PemFiles.Pair pair;
    try {
      pair = PemFiles.read(certificateFile, keyFile);
    } catch (TlsException e) {
      log.error("cannot reload the TLS certificate, still serving the previous one: {}",
          e.getMessage());
      return false;
    }
    try {
      KeyStore store = keyStore(pair);
      factory.reload(reloading -> reloading.setKeyStore(store));
    } catch (Exception e) {
      log.error("cannot reload the TLS certificate from {}, still serving the previous one: {}",
          certificateFile, e.toString());
      return false;
    }
    warnIfOutOfDate(pair, certificateFile);
    log.info("reloaded the TLS certificate from {}: {}", certificateFile, describe(pair));
    return true;
  }

  private static KeyStore keyStore(PemFiles.Pair pair) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(ALIAS, pair.key(), STORE_PASSWORD,
          pair.chain().toArray(new Certificate[0]));
      return store;
    } catch (GeneralSecurityException | IOException e) {
      throw new TlsException("server.tls: the certificate and key cannot be used together: "
          + e.getMessage(), e);
    }
  }

  /** A digest of both files' bytes: a change of either, however quick, changes it. */
  private static byte[] digest(Path certificate, Path key) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    sha.update(read(certificate, "certificate"));
    byte[] keyBytes = read(key, "key");
    sha.update(keyBytes);
    Arrays.fill(keyBytes, (byte) 0);
    return sha.digest();
  }

  private static byte[] read(Path file, String which) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException | SecurityException e) {
      throw new TlsException("server.tls." + which + ": cannot read " + file + " ("
          + e.getClass().getSimpleName() + ")", e);
    }
  }

  private static void warnIfOutOfDate(PemFiles.Pair pair, Path file) {
    X509Certificate leaf = pair.chain().get(0);
    try {
      leaf.checkValidity();
    } catch (CertificateExpiredException | CertificateNotYetValidException e) {
      log.warn("the TLS certificate in {} is not valid now ({}): clients will refuse it",
          file, e.getMessage());
    }
  }

  private static String describe(PemFiles.Pair pair) {
    X509Certificate leaf = pair.chain().get(0);
    return leaf.getSubjectX500Principal() + ", valid until " + leaf.getNotAfter().toInstant()
        + ", " + pair.chain().size() + " certificate(s) in the chain";
  }
}
