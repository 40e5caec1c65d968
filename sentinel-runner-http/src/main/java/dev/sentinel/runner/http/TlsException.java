package dev.sentinel.runner.http;

import dev.sentinel.api.SentinelException;
import org.jspecify.annotations.Nullable;

/**
 * The TLS certificate or key of {@code server.tls} cannot be used: a file is missing or
 * unreadable, holds no PEM of the expected kind, or the key does not belong to the certificate.
 * The message names the file and says what to do; it never holds key material.
 */
public final class TlsException extends SentinelException {
  private static final long serialVersionUID = 1L;

  /** An exception with a message for the operator and its cause, or {@code null}. */
  public TlsException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
