package dev.sentinel.api;

import org.jspecify.annotations.Nullable;

/**
 * The root of Sentinel's unchecked exceptions. Subclasses are named for what failed.
 */
public class SentinelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public SentinelException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public SentinelException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  /**
   * Creates an exception that may skip its stack trace; used for rejections on hot paths where
   * the trace carries no information.
   */
  protected SentinelException(
      String message, @Nullable Throwable cause, boolean writableStackTrace) {
    super(message, cause, true, writableStackTrace);
  }
}
