package dev.sentinel.core.audit;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Appends audit events to a file, one {@link AuditEventJson#toLine} per line, UTF-8, each line
 * ending in {@code \n}.
 *
 * <p>Each {@link #write} builds its batch in memory and appends it with one channel write, so a
 * batch costs one system call; with {@code fsync} it is then forced to the device ({@link
 * FileChannel#force}) and {@link #durable()} is true. The lines are written straight into
 * buffers the sink reuses, with the bytes {@code String.getBytes(UTF_8)} gives (a lone surrogate
 * becomes {@code ?}); buffers a large batch grew past {@value #KEPT_BUFFER} characters are let go
 * after it. If appending fails part way, the file is cut back to where the batch began (best
 * effort), so a retried batch is not half duplicated. On open, a file whose last line was left
 * unfinished by a crash gets a line break first, so the next event starts a line of its own.
 *
 * <p>Thread-safe (methods are synchronized), though the dispatcher calls it from one thread.
 */
public final class JsonLinesAuditSink implements AuditSink {
  /** The most characters of buffer the sink keeps between batches. */
  static final int KEPT_BUFFER = 1 << 20;
  private static final int INITIAL_BUFFER = 8192;

  private final Path file;
  private final FileChannel channel;
  private final boolean fsync;
  private boolean closed;
  // the batch being written, reused (guarded by this)
  private final Chars chars = new Chars();
  private final CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
      .onMalformedInput(CodingErrorAction.REPLACE)
      .onUnmappableCharacter(CodingErrorAction.REPLACE);
  private ByteBuffer bytes = ByteBuffer.allocate(INITIAL_BUFFER);

  private JsonLinesAuditSink(Path file, FileChannel channel, boolean fsync) {
    this.file = file;
    this.channel = channel;
    this.fsync = fsync;
  }

  /**
   * Opens the file for appending, creating it and its parent directories as needed; batches are
   * not forced to the device.
   *
   * @throws UncheckedIOException when the file cannot be opened
   */
  public static JsonLinesAuditSink open(Path file) {
    return open(file, false);
  }

  /**
   * Opens the file for appending, creating it and its parent directories as needed.
   *
   * @param fsync whether each batch is forced to the device before {@link #write} returns
   * @throws UncheckedIOException when the file cannot be opened
   */
  public static JsonLinesAuditSink open(Path file, boolean fsync) {
    Objects.requireNonNull(file, "file");
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      FileChannel channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
      try {
        endUnfinishedLine(file, channel);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      return new JsonLinesAuditSink(file, channel, fsync);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open audit file " + file + ": " + e.getMessage(), e);
    }
  }

  private static void endUnfinishedLine(Path file, FileChannel channel) throws IOException {
    long size = channel.size();
    if (size == 0) {
      return;
    }
    try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer last = ByteBuffer.allocate(1);
      if (reader.read(last, size - 1) == 1 && last.get(0) != '\n') {
        writeFully(channel, ByteBuffer.wrap(new byte[] {'\n'}));
      }
    }
  }

  /** The file written to. */
  public Path file() {
    return file;
  }

  @Override
  public synchronized void write(List<AuditEvent> events) throws IOException {
    if (closed) {
      throw new IOException("audit file " + file + " is closed");
    }
    try {
      chars.length = 0;
      for (AuditEvent event : events) {
        AuditEventJson.writeLine(event, chars);
        chars.write('\n');
      }
      ByteBuffer encoded = encode();
      long start = channel.size();
      try {
        writeFully(channel, encoded);
        if (fsync) {
          channel.force(false);
        }
      } catch (IOException e) {
        try {
          if (channel.size() > start) {
            channel.truncate(start);
          }
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
    } finally {
      if (chars.buffer.length > KEPT_BUFFER || bytes.capacity() > 3 * KEPT_BUFFER) {
        chars.buffer = new char[INITIAL_BUFFER];
        bytes = ByteBuffer.allocate(INITIAL_BUFFER);
      }
    }
  }

  /** The batch's characters as UTF-8 in {@link #bytes}, ready to write. */
  private ByteBuffer encode() {
    CharBuffer in = CharBuffer.wrap(chars.buffer, 0, chars.length);
    utf8.reset();
    bytes.clear();
    while (true) {
      CoderResult result = utf8.encode(in, bytes, true);
      if (result.isOverflow()) {
        grow(in.remaining());
        continue;
      }
      if (utf8.flush(bytes).isOverflow()) {
        grow(4);
        continue;
      }
      break;
    }
    bytes.flip();
    return bytes;
  }

  private void grow(int remaining) {
    long wanted = Math.max(2L * bytes.capacity(), (long) bytes.position() + 3L * remaining + 4);
    ByteBuffer larger = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8, wanted));
    bytes.flip();
    larger.put(bytes);
    bytes = larger;
  }

  /** A growing character buffer the sink reuses from batch to batch. Not thread-safe. */
  private static final class Chars extends Writer {
    char[] buffer = new char[INITIAL_BUFFER];
    int length;

    private void ensure(int more) {
      int needed = length + more;
      if (needed < 0) {
        throw new OutOfMemoryError("an audit batch over 2^31 characters");
      }
      if (needed > buffer.length) {
        buffer = Arrays.copyOf(buffer, Math.max(needed, (int) Math.min(Integer.MAX_VALUE - 8, 2L * buffer.length)));
      }
    }

    @Override
    public void write(int c) {
      ensure(1);
      buffer[length++] = (char) c;
    }

    @Override
    public void write(char[] source, int offset, int count) {
      ensure(count);
      System.arraycopy(source, offset, buffer, length, count);
      length += count;
    }

    @Override
    public void write(String text, int offset, int count) {
      ensure(count);
      text.getChars(offset, offset + count, buffer, length);
      length += count;
    }

    @Override
    public void flush() {
      // in memory
    }

    @Override
    public void close() {
      // in memory
    }
  }

  private static void writeFully(FileChannel channel, ByteBuffer bytes) throws IOException {
    while (bytes.hasRemaining()) {
      channel.write(bytes);
    }
  }

  /** Whether each batch is forced to the device: the {@code fsync} it was opened with. */
  @Override
  public boolean durable() {
    return fsync;
  }

  @Override
  public synchronized void close() throws IOException {
    if (!closed) {
      closed = true;
      channel.close();
    }
  }

  @Override
  public String toString() {
    return "JsonLinesAuditSink[" + file + (fsync ? ", fsync" : "") + "]";
  }
}
