package dev.sentinel.mcp.transport;

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

  FrameException(int code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  int code() {
    return code;
  }
}
