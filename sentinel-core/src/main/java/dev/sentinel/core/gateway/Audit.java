package dev.sentinel.core.gateway;

import dev.sentinel.core.audit.AuditDispatcher;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The {@code audit:} section: where events go and what happens when they cannot be written.
 * Maps directly onto {@link AuditDispatcher.Builder}. Immutable.
 *
 * @param sinks where events are written; each gets its own queue (may be empty)
 * @param onSinkFailure what to do while a sink fails
 * @param whenFull what to do when a sink's queue is full
 * @param queueCapacity the capacity of each sink's queue, in events
 */
public record Audit(
    List<Sink> sinks, AuditDispatcher.OnSinkFailure onSinkFailure,
    AuditDispatcher.WhenFull whenFull, int queueCapacity) {

  /** The default queue capacity: 65536 events. */
  public static final int DEFAULT_QUEUE_CAPACITY = 65_536;

  /** The default logger of the {@code slf4j} sink. */
  public static final String DEFAULT_LOGGER = "dev.sentinel.audit";

  /**
   * The settings without an {@code audit:} section: events to the SLF4J logger
   * {@value #DEFAULT_LOGGER}, blocking when a sink fails or a queue is full.
   */
  public static final Audit DEFAULTS = new Audit(List.of(new Slf4jSink(DEFAULT_LOGGER)),
      AuditDispatcher.OnSinkFailure.BLOCK, AuditDispatcher.WhenFull.BLOCK,
      DEFAULT_QUEUE_CAPACITY);

  /** Validates and copies. */
  public Audit {
    sinks = List.copyOf(sinks);
    Objects.requireNonNull(onSinkFailure, "onSinkFailure");
    Objects.requireNonNull(whenFull, "whenFull");
    if (queueCapacity <= 0) {
      throw new IllegalArgumentException("queue_capacity must be positive");
    }
  }

  /**
   * One audit sink as configured: written {@code - kind: value} or
   * {@code - kind: { settings }} in the {@code sinks:} list. Later kinds (SQLite, PostgreSQL)
   * join this sealed family.
   */
  public sealed interface Sink permits JsonLinesSink, Slf4jSink {
    /** The key the sink is written with: {@code jsonl}, {@code slf4j}. */
    String kind();
  }

  /**
   * A JSON Lines file ({@code dev.sentinel.core.audit.JsonLinesAuditSink}).
   *
   * @param file the file (absolute)
   * @param fsync whether each batch is forced to the device
   */
  public record JsonLinesSink(Path file, boolean fsync) implements Sink {
    /** Validates. */
    public JsonLinesSink {
      Objects.requireNonNull(file, "file");
      if (!file.isAbsolute()) {
        throw new IllegalArgumentException("audit file must be absolute");
      }
    }

    @Override
    public String kind() {
      return "jsonl";
    }
  }

  /**
   * An SLF4J logger ({@code dev.sentinel.core.audit.Slf4jAuditSink}).
   *
   * @param logger the logger name
   */
  public record Slf4jSink(String logger) implements Sink {
    /** Validates. */
    public Slf4jSink {
      Objects.requireNonNull(logger, "logger");
      if (logger.isBlank()) {
        throw new IllegalArgumentException("logger name must not be blank");
      }
    }

    @Override
    public String kind() {
      return "slf4j";
    }
  }
}
