package dev.sentinel.mcp.engine;

import dev.sentinel.api.SentinelException;
import org.jspecify.annotations.Nullable;

/**
 * A backend could not answer: it is down, its connection broke, or it failed to start. Becomes
 * a {@code -32603} error for the client with {@link #clientMessage()} only; the detail (a
 * process's exit and stderr, a transport's exception text) goes to the audit trail and the log,
 * never to a client. No stack trace: the message says everything. {@link Backend.Starting} is the
 * retryable kind: a backend that has not come up yet.
 */
class BackendFailure extends SentinelException {
  private static final long serialVersionUID = 1L;

  private final String clientMessage;

  BackendFailure(String message) {
    this(message, null);
  }

  /**
   * @param clientMessage what a client is told, such as {@code backend fs failed}
   * @param detail what happened, for operators; {@code null} if there is nothing to add
   */
  BackendFailure(String clientMessage, @Nullable String detail) {
    super(detail == null || detail.isEmpty() ? clientMessage : clientMessage + ": " + detail, null, false);
    this.clientMessage = clientMessage;
  }

  /** What a client may be told: which backend and what kind of failure, without the detail. */
  String clientMessage() {
    return clientMessage;
  }
}
