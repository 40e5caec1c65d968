package dev.sentinel.runner.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made by the JDK's {@code keytool} (a
 * child process; the JDK has no API to issue certificates) and written as the PEM files
 * {@code server.tls} reads: the certificate, and its key as PKCS#8. Also makes clients that trust
 * only this certificate and check the host name against it.
 */
final class SelfSigned {
  final X509Certificate certificate;
  final PrivateKey key;

  private SelfSigned(X509Certificate certificate, PrivateKey key) {
    this.certificate = certificate;
    this.key = key;
  }

  /**
   * A new certificate with a new key.
   *
   * @param algorithm {@code EC} (P-256) or {@code RSA} (2048 bits)
   */
  static SelfSigned generate(Path dir, String algorithm) throws Exception {
    Path store = dir.resolve("keytool-" + UUID.randomUUID() + ".p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    List<String> size = algorithm.equals("EC") ? List.of("-groupname", "secp256r1")
        : List.of("-keysize", "2048");
    List<String> command = new java.util.ArrayList<>(List.of(keytool, "-genkeypair",
        "-alias", "server", "-keyalg", algorithm));
    command.addAll(size);
    command.addAll(List.of("-dname", "CN=sentinel-test-" + algorithm.toLowerCase(java.util.Locale.ROOT),
        "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore", store.toString(),
        "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit"));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output;
    try (InputStream in = process.getInputStream()) {
      output = in.readAllBytes();
    }
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("keytool failed: " + new String(output, StandardCharsets.UTF_8));
    }
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, "changeit".toCharArray());
    }
    Files.delete(store);
    return new SelfSigned((X509Certificate) keys.getCertificate("server"),
        (PrivateKey) keys.getKey("server", "changeit".toCharArray()));
  }

  /** Writes the certificate's PEM to {@code file}. */
  Path writeCertificate(Path file) throws IOException {
    return write(file, pem("CERTIFICATE", encodedCertificate()));
  }

  /** Writes the key's PEM (PKCS#8, {@code -----BEGIN PRIVATE KEY-----}) to {@code file}. */
  Path writeKey(Path file) throws IOException {
    return write(file, pem("PRIVATE KEY", key.getEncoded()));
  }

  /** Replaces {@code file} at once, as a deploy tool renaming a new file into place does. */
  static Path write(Path file, String text) throws IOException {
    Path next = file.resolveSibling(file.getFileName() + ".next");
    Files.writeString(next, text);
    return Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }

  private byte[] encodedCertificate() {
    try {
      return certificate.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A TLS context that trusts these certificates only. */
  static SSLContext trusting(SelfSigned... certificates) throws GeneralSecurityException, IOException {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    for (int i = 0; i < certificates.length; i++) {
      trusted.setCertificateEntry("server-" + i, certificates[i].certificate);
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  /**
   * Opens a new TLS connection to 127.0.0.1:{@code port}, verifying the server's certificate
   * with {@code context} and its host name as HTTPS does, and answers the certificate the
   * server presented.
   */
  static X509Certificate presented(SSLContext context, int port) throws IOException {
    try (Socket plain = new Socket("127.0.0.1", port);
        SSLSocket socket = (SSLSocket) context.getSocketFactory()
            .createSocket(plain, "127.0.0.1", port, true)) {
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }
}
