package dev.sentinel.core.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The {@code server.tls} section: {@code sentinel http} serves HTTPS with this certificate and
 * key, and reloads them when the files change. The files are read by the HTTP runner, not here,
 * so a config names them without their having to exist yet. Immutable.
 *
 * @param certificate the PEM file of the certificate chain, the server's certificate first
 * @param key the PEM file of the server certificate's private key, unencrypted PKCS#8
 *     ({@code -----BEGIN PRIVATE KEY-----}), RSA or EC
 */
public record Tls(Path certificate, Path key) {
  /** Validates. */
  public Tls {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(key, "key");
  }
}
