package dev.sentinel.jdbc;

import dev.sentinel.api.SentinelException;

/**
 * An audit checkpoint could not be signed, written, read or trusted: a key file that holds no
 * Ed25519 key, a checkpoint file that cannot be written or read or has a line that is not a
 * checkpoint, a checkpoint no trusted key signed. The message names the file (and line) and what
 * to do; it never holds key material.
 */
public class AuditCheckpointException extends SentinelException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public AuditCheckpointException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public AuditCheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
