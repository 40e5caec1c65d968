package dev.sentinel.mcp.transport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Drains a child's stderr: each line (cut at {@link #MAX_LINE} bytes, the rest of it skipped) goes
 * to a consumer, and the last bytes are kept in a ring buffer for error messages.
 *
 * <p>{@link #run()} is the pump's own thread; {@link #tail()} is safe from any thread.
 */
final class StderrPump implements Runnable {
  /** The longest stderr line passed on, in bytes. */
  static final int MAX_LINE = 4096;

  private final InputStream in;
  private final Consumer<String> lines;
  private final byte[] ring;
  private long written;

  StderrPump(InputStream in, int tailBytes, Consumer<String> lines) {
    this.in = in;
    this.lines = lines;
    this.ring = new byte[tailBytes];
  }

  @Override
  public void run() {
    byte[] chunk = new byte[8192];
    byte[] line = new byte[MAX_LINE];
    int length = 0;
    boolean cut = false;
    try {
      int n;
      while ((n = in.read(chunk)) >= 0) {
        remember(chunk, n);
        for (int i = 0; i < n; i++) {
          byte b = chunk[i];
          if (b == '\n') {
            emit(line, length, cut);
            length = 0;
            cut = false;
          } else if (length < MAX_LINE) {
            line[length++] = b;
          } else {
            cut = true;
          }
        }
      }
    } catch (IOException e) {
      // the process is gone and its pipe closed under us: what we have is all there is
    }
    if (length > 0) {
      emit(line, length, cut);
    }
  }

  private void emit(byte[] line, int length, boolean cut) {
    int end = length > 0 && line[length - 1] == '\r' ? length - 1 : length;
    String text = new String(line, 0, end, StandardCharsets.UTF_8);
    lines.accept(cut ? text + " [line truncated]" : text);
  }

  private synchronized void remember(byte[] chunk, int n) {
    int from = Math.max(0, n - ring.length);
    for (int i = from; i < n; i++) {
      ring[(int) (written++ % ring.length)] = chunk[i];
    }
  }

  /** The last bytes of stderr (at most the tail size), decoded as UTF-8. */
  synchronized String tail() {
    int size = (int) Math.min(written, ring.length);
    byte[] out = new byte[size];
    long start = written - size;
    for (int i = 0; i < size; i++) {
      out[i] = ring[(int) ((start + i) % ring.length)];
    }
    int skip = 0;
    // do not start inside a multi-byte UTF-8 sequence
    while (skip < size && skip < 3 && (out[skip] & 0xC0) == 0x80) {
      skip++;
    }
    return new String(out, skip, size - skip, StandardCharsets.UTF_8);
  }
}
