package dev.sentinel.mcp.transport;

/**
 * Bounds on one incoming JSON-RPC message: its size in bytes (the line, or the SSE event data,
 * without the line terminator) and its JSON nesting depth. A message over either bound is
 * refused without being buffered whole.
 *
 * @param maxMessageBytes the largest message accepted, in bytes; positive
 * @param maxDepth the deepest nesting of arrays and objects accepted; positive
 */
public record FrameLimits(int maxMessageBytes, int maxDepth) {
  /** The default size bound: 4 MiB. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
  /** The default depth bound: 64. */
  public static final int DEFAULT_MAX_DEPTH = 64;

  private static final FrameLimits DEFAULTS =
      new FrameLimits(DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_DEPTH);

  /** Validates the bounds. */
  public FrameLimits {
    if (maxMessageBytes <= 0) {
      throw new IllegalArgumentException(
          "maxMessageBytes must be positive, was " + maxMessageBytes);
    }
    if (maxDepth <= 0) {
      throw new IllegalArgumentException("maxDepth must be positive, was " + maxDepth);
    }
  }

  /** The bounds a gateway's settings give ({@code max_message_bytes}, {@code max_depth}). */
  public static FrameLimits of(dev.sentinel.core.config.Gateway settings) {
    return new FrameLimits((int) Math.min(Integer.MAX_VALUE, settings.maxMessageBytes()), settings.maxDepth());
  }

  /** 4 MiB and depth 64. */
  public static FrameLimits defaults() {
    return DEFAULTS;
  }
}
