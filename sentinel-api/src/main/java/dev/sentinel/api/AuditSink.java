package dev.sentinel.api;

import java.io.IOException;
import java.util.List;

/**
 * Where audit events are stored: a file, a database, a log.
 *
 * <p>Sentinel calls {@link #write} from one dispatcher thread per sink, with batches in arrival
 * order, so implementations need not be thread-safe for writing; {@link #close} may come from
 * another thread after the last write. A sink that throws keeps the batch: the dispatcher retries
 * it or, by configuration, refuses calls until it succeeds.
 */
public interface AuditSink extends AutoCloseable {

  /**
   * Writes a batch of events, in order. When this returns, the events are stored as durably as
   * {@link #durable()} promises.
   *
   * @throws IOException when the batch could not be stored; none of it is assumed written
   */
  void write(List<AuditEvent> events) throws IOException;

  /** Whether a returned {@link #write} means the events survive a crash of this process. */
  default boolean durable() {
    return false;
  }

  /** Releases the sink's resources. Called once, after the last write. */
  @Override
  default void close() throws IOException {}
}
