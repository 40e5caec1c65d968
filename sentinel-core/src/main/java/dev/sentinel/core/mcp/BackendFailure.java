package dev.sentinel.core.mcp;

import dev.sentinel.api.SentinelException;

/**
 * A backend could not answer: it is down, its connection broke, or it failed to start. Becomes
 * a {@code -32603} error for the client. No stack trace: the message says everything.
 */
final class BackendFailure extends SentinelException {
  private static final long serialVersionUID = 1L;

  BackendFailure(String message) {
    super(message, null, false);
  }
}
