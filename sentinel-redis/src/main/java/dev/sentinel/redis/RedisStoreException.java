package dev.sentinel.redis;

import dev.sentinel.api.SentinelException;

/**
 * Redis could not be used: it cannot be reached at start, or it refused the credentials. The
 * message names the server by its URL without user information.
 */
public final class RedisStoreException extends SentinelException {
  private static final long serialVersionUID = 1L;

  /** An exception with a message and its cause. */
  public RedisStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
