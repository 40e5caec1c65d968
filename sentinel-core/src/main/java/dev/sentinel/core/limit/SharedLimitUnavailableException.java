package dev.sentinel.core.limit;

import dev.sentinel.api.SentinelException;

/**
 * A shared limit could not be checked because its store (PostgreSQL, Redis) did not answer. The
 * pipeline counts it as a refusal ({@link Limits}); the message names the store without
 * credentials.
 */
public final class SharedLimitUnavailableException extends SentinelException {
  private static final long serialVersionUID = 1L;

  /** An exception with a message and its cause. */
  public SharedLimitUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  /** A cheap one, without a stack trace: thrown on every call while the store is away. */
  SharedLimitUnavailableException(String message) {
    super(message, null, false);
  }
}
