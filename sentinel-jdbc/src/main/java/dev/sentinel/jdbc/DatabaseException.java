package dev.sentinel.jdbc;

import dev.sentinel.api.SentinelException;

/**
 * A database could not be opened, migrated, read or written. The message names the database (its
 * URL without any password), what failed and what to check.
 */
public class DatabaseException extends SentinelException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public DatabaseException(String message) {
    super(message);
  }

  /** Creates an exception with a message and the underlying failure. */
  public DatabaseException(String message, Throwable cause) {
    super(message, cause);
  }
}
