package dev.sentinel.mcp.transport;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes whole frames to a stream, one at a time, flushing after each: concurrent senders never
 * interleave and every message leaves at once.
 *
 * <p>Thread-safe.
 */
final class FrameWriter {
  private final OutputStream out;
  private final Object lock = new Object();
  private volatile boolean closed;

  FrameWriter(OutputStream out) {
    this.out = out;
  }

  void write(byte[] frame) throws IOException {
    synchronized (lock) {
      if (closed) {
        throw new IOException("stream closed");
      }
      out.write(frame);
      out.flush();
    }
  }

  /**
   * Closes the stream; later writes fail. Does not wait for a write in progress (a peer that does
   * not read could block it for ever). Errors while closing are ignored: the end is the end.
   */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      out.close();
    } catch (IOException ignored) {
      // nothing useful to do: the peer is gone or the stream already closed
    }
  }
}
