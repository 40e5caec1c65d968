package dev.sentinel.mcp.transport;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads newline-terminated lines from a stream without ever holding more than the limit of one
 * line: a longer line is reported as {@link Kind#TOO_LONG} and skipped up to its newline. A
 * trailing {@code \r} is dropped; a last line without a newline still counts.
 *
 * <p>Not thread-safe: one reader thread owns it.
 */
final class LineReader {
  /** What {@link #next()} found. */
  enum Kind {
    LINE,
    TOO_LONG,
    END
  }

  private static final int CHUNK = 64 * 1024;
  private static final int INITIAL_LINE = 1024;

  private final InputStream in;
  private final int max;
  private final byte[] chunk = new byte[CHUNK];
  private int pos;
  private int limit;
  private byte[] line = new byte[INITIAL_LINE];
  private int length;
  private long skippedBytes;
  private int highWater = INITIAL_LINE;

  LineReader(InputStream in, int maxLineBytes) {
    this.in = in;
    this.max = maxLineBytes;
  }

  /** Reads the next line; after {@link Kind#LINE}, {@link #bytes()} and {@link #length()} hold it. */
  Kind next() throws IOException {
    length = 0;
    skippedBytes = 0;
    boolean tooLong = false;
    boolean sawAny = false;
    while (true) {
      if (pos == limit) {
        int n = in.read(chunk);
        if (n < 0) {
          if (tooLong) {
            return Kind.TOO_LONG;
          }
          if (sawAny) {
            return endOfLine();
          }
          return Kind.END;
        }
        pos = 0;
        limit = n;
        continue;
      }
      sawAny = true;
      int newline = -1;
      for (int i = pos; i < limit; i++) {
        if (chunk[i] == '\n') {
          newline = i;
          break;
        }
      }
      int end = newline < 0 ? limit : newline;
      int n = end - pos;
      if (tooLong) {
        skippedBytes += n;
      } else if ((long) length + n > (long) max + 1) {
        // one spare byte for a trailing \r
        tooLong = true;
        skippedBytes = (long) length + n;
        length = 0;
      } else {
        append(pos, n);
      }
      pos = newline < 0 ? limit : newline + 1;
      if (newline >= 0) {
        if (tooLong) {
          return Kind.TOO_LONG;
        }
        return endOfLine();
      }
    }
  }

  /** The line just ended: drop a trailing {@code \r}, then the spare byte must be unused. */
  private Kind endOfLine() {
    stripCr();
    if (length > max) {
      skippedBytes = length;
      length = 0;
      return Kind.TOO_LONG;
    }
    return Kind.LINE;
  }

  private void stripCr() {
    if (length > 0 && line[length - 1] == '\r') {
      length--;
    }
  }

  private void append(int from, int n) {
    int needed = length + n;
    if (needed > line.length) {
      int grown = (int) Math.min((long) max + 1, Math.max((long) needed, 2L * line.length));
      line = Arrays.copyOf(line, grown);
      highWater = Math.max(highWater, grown);
    }
    System.arraycopy(chunk, from, line, length, n);
    length = needed;
  }

  /** The current line's bytes; valid up to {@link #length()} until the next call. */
  byte[] bytes() {
    return line;
  }

  /** The current line's length. */
  int length() {
    return length;
  }

  /** Whether the current line holds only JSON whitespace. */
  boolean blank() {
    for (int i = 0; i < length; i++) {
      byte b = line[i];
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }

  /** After {@link Kind#TOO_LONG}: how many bytes the skipped line had (at least). */
  long skippedBytes() {
    return skippedBytes;
  }

  /** The largest line buffer this reader ever allocated, for tests of bounded memory. */
  int highWater() {
    return highWater;
  }
}
