package dev.sentinel.core.audit;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;

/**
 * Appends audit events to a file, one {@link AuditEventJson#toLine} per line, UTF-8, each line
 * ending in {@code \n}.
 *
 * <p>Each {@link #write} builds its batch in memory and appends it with one channel write, so a
 * batch costs one system call; with {@code fsync} it is then forced to the device ({@link
 * FileChannel#force}) and {@link #durable()} is true. If appending fails part way, the file is cut
 * back to where the batch began (best effort), so a retried batch is not half duplicated. On
 * open, a file whose last line was left unfinished by a crash gets a line break first, so the
 * next event starts a line of its own.
 *
 * <p>Thread-safe (methods are synchronized), though the dispatcher calls it from one thread.
 */
public final class JsonLinesAuditSink implements AuditSink {
  private final Path file;
  private final FileChannel channel;
  private final boolean fsync;
  private boolean closed;

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
    StringBuilder sb = new StringBuilder(events.size() * 512);
    for (AuditEvent event : events) {
      sb.append(AuditEventJson.toLine(event)).append('\n');
    }
    ByteBuffer bytes = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
    long start = channel.size();
    try {
      writeFully(channel, bytes);
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
