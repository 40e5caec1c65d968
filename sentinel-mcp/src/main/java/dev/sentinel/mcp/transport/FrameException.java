package dev.sentinel.mcp.transport;

import java.util.Objects;

/**
 * An incoming frame that is not an acceptable JSON-RPC message, with the JSON-RPC error code and
 * text to answer it with. Carries no stack trace: it is an expected rejection.
 */
final class FrameException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** JSON-RPC "Parse error". */
  static final int PARSE_ERROR = -32700;
  /** JSON-RPC "Invalid Request". */
  static final int INVALID_REQUEST = -32600;

  private final int code;
  private final String text;

  FrameException(int code, String message) {
    super(message, null, false, false);
    this.code = code;
    this.text = Objects.requireNonNull(message, "message");
  }

  /** The text to answer with; never null, unlike a throwable's message in general. */
  @Override
  public String getMessage() {
    return text;
  }

  int code() {
    return code;
  }
}
