package dev.sentinel.jdbc;

import java.io.Closeable;
import java.io.UncheckedIOException;

/**
 * Writes audit records in one output format ({@link AuditFormat}) to a character stream, one
 * record at a time, so that an export never holds more than one record.
 *
 * <p>Not thread-safe.
 */
public interface AuditWriter extends Closeable {

  /**
   * Writes one record.
   *
   * @throws UncheckedIOException if the output cannot be written
   */
  void write(AuditRecord record);

  /**
   * Writes what the format puts after the last record, and flushes; the stream is left open.
   *
   * @throws UncheckedIOException if the output cannot be written
   */
  void finish();

  /** {@link #finish()}es; the underlying stream stays open, for it belongs to the caller. */
  @Override
  default void close() {
    finish();
  }
}
