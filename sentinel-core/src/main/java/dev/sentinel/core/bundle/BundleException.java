package dev.sentinel.core.bundle;

import dev.sentinel.api.SentinelException;

/**
 * A bundle that cannot be built, read, signed or trusted. The message says what is wrong and
 * what to check; a gateway that gets one keeps serving the config it runs.
 */
public final class BundleException extends SentinelException {
  private static final long serialVersionUID = 1L;

  /** A refusal with its reason. */
  public BundleException(String message) {
    super(message);
  }

  /** A refusal with its reason and the error behind it. */
  public BundleException(String message, Throwable cause) {
    super(message, cause);
  }
}
