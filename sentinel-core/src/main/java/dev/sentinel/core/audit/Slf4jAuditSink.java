package dev.sentinel.core.audit;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each audit event as one INFO message, its {@link AuditEventJson#toLine JSON line}, to an
 * SLF4J logger. Not durable: the logging backend decides what reaches storage and when.
 *
 * <p>Thread-safe.
 */
public final class Slf4jAuditSink implements AuditSink {
  private final Logger logger;

  private Slf4jAuditSink(Logger logger) {
    this.logger = logger;
  }

  /** A sink writing to the named logger, for example {@code dev.sentinel.audit}. */
  public static Slf4jAuditSink create(String loggerName) {
    Objects.requireNonNull(loggerName, "loggerName");
    if (loggerName.isBlank()) {
      throw new IllegalArgumentException("loggerName must not be blank");
    }
    return new Slf4jAuditSink(LoggerFactory.getLogger(loggerName));
  }

  @Override
  public void write(List<AuditEvent> events) {
    if (!logger.isInfoEnabled()) {
      return;
    }
    for (AuditEvent event : events) {
      logger.info("{}", AuditEventJson.toLine(event));
    }
  }

  @Override
  public String toString() {
    return "Slf4jAuditSink[" + logger.getName() + "]";
  }
}
