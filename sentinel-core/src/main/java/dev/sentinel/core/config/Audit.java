package dev.sentinel.core.config;

import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.AuditMode;
import dev.sentinel.core.audit.DigestKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The {@code audit:} section: where events go and what happens when they cannot be written.
 * Maps directly onto {@link AuditDispatcher.Builder}. Immutable.
 *
 * @param sinks where events are written; each gets its own queue (may be empty)
 * @param onSinkFailure what to do while a sink fails
 * @param whenFull what to do when a sink's queue is full
 * @param queueCapacity the capacity of each sink's queue, in events
 * @param mode when a forwarded request's record is written: {@link AuditMode#DURABLE} needs a
 *     {@linkplain Sink#durable() durable} sink
 * @param retention how long the {@linkplain DatabaseSink database} sink's records are kept
 *     ({@code retention: 30d}); {@code null}, the default, keeps them forever. Needs the
 *     database sink. The gateway purges older records at start and then every hour (or every
 *     {@code retention}, if shorter), off the request path.
 * @param checkpoint signed checkpoints of the {@linkplain DatabaseSink database} sink's chain
 *     ({@code checkpoint: { key: ..., file: ... }}); {@code null}, the default, takes none. Needs
 *     the database sink.
 * @param digestKey the key of the audit digests ({@code digest_key}, a secret); {@code null},
 *     the default, keys them with a random key made once per process (see {@link DigestKey})
 */
public record Audit(
    List<Sink> sinks, AuditDispatcher.OnSinkFailure onSinkFailure,
    AuditDispatcher.WhenFull whenFull, int queueCapacity, AuditMode mode,
    @Nullable Duration retention, @Nullable Checkpoint checkpoint, @Nullable DigestKey digestKey) {

  /** The default queue capacity: 65536 events. */
  public static final int DEFAULT_QUEUE_CAPACITY = 65_536;

  /** The default logger of the {@code slf4j} sink. */
  public static final String DEFAULT_LOGGER = "dev.sentinel.audit";

  /**
   * The settings without an {@code audit:} section: events to the gateway's database (the
   * embedded SQLite file unless {@code database:} says otherwise), in {@code async} mode,
   * blocking when a sink fails or a queue is full.
   */
  public static final Audit DEFAULTS = new Audit(List.of(DatabaseSink.INSTANCE),
      AuditDispatcher.OnSinkFailure.BLOCK, AuditDispatcher.WhenFull.BLOCK,
      DEFAULT_QUEUE_CAPACITY, AuditMode.ASYNC);

  /** Validates and copies. */
  public Audit {
    sinks = List.copyOf(sinks);
    Objects.requireNonNull(onSinkFailure, "onSinkFailure");
    Objects.requireNonNull(whenFull, "whenFull");
    if (queueCapacity <= 0) {
      throw new IllegalArgumentException("queue_capacity must be positive");
    }
    Objects.requireNonNull(mode, "mode");
    if (mode == AuditMode.DURABLE && sinks.stream().noneMatch(Sink::durable)) {
      throw new IllegalArgumentException("audit mode durable needs a durable sink: "
          + "{ database: {} } or { jsonl: { file: ..., fsync: true } }");
    }
    if (retention != null) {
      if (retention.isNegative() || retention.isZero()) {
        throw new IllegalArgumentException("retention must be positive, got " + retention);
      }
      if (!sinks.contains(DatabaseSink.INSTANCE)) {
        throw new IllegalArgumentException(
            "retention purges the database sink's trail: it needs { database: {} } in sinks");
      }
    }
    if (checkpoint != null && !sinks.contains(DatabaseSink.INSTANCE)) {
      throw new IllegalArgumentException(
          "checkpoint signs the database sink's chain: it needs { database: {} } in sinks");
    }
  }

  /** Settings without signed checkpoints, with the per-process digest key. */
  public Audit(
      List<Sink> sinks, AuditDispatcher.OnSinkFailure onSinkFailure,
      AuditDispatcher.WhenFull whenFull, int queueCapacity, AuditMode mode,
      @Nullable Duration retention) {
    this(sinks, onSinkFailure, whenFull, queueCapacity, mode, retention, null, null);
  }

  /** Settings that keep records forever (no {@code retention}), with the per-process digest key. */
  public Audit(
      List<Sink> sinks, AuditDispatcher.OnSinkFailure onSinkFailure,
      AuditDispatcher.WhenFull whenFull, int queueCapacity, AuditMode mode) {
    this(sinks, onSinkFailure, whenFull, queueCapacity, mode, null, null, null);
  }

  /**
   * The {@code checkpoint:} setting: every so often, the database sink signs its chain's head
   * (sequence number and hash) with an Ed25519 key and appends the signed checkpoint to a file,
   * so that {@code sentinel audit verify --checkpoints FILE --trust KEY} can later tell a chain
   * that was truncated or rewritten. A checkpoint is taken after the first batch the sink
   * writes, then after a batch once {@code every} has passed or {@code records} records were
   * written since the last one (whichever comes first), and when the sink closes.
   *
   * @param key the Ed25519 private key (PKCS#8 PEM), absolute
   * @param file the file checkpoints are appended to, absolute; keep it where the database's
   *     writers cannot reach
   * @param every the longest time between checkpoints while records are written
   * @param records the most records between checkpoints; 0 for no such bound
   */
  public record Checkpoint(Path key, Path file, Duration every, long records) {
    /** The default {@code every}: one hour. */
    public static final Duration DEFAULT_EVERY = Duration.ofHours(1);

    /** Validates. */
    public Checkpoint {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(file, "file");
      Objects.requireNonNull(every, "every");
      if (!key.isAbsolute() || !file.isAbsolute()) {
        throw new IllegalArgumentException("checkpoint key and file must be absolute");
      }
      if (every.isNegative() || every.isZero()) {
        throw new IllegalArgumentException("checkpoint every must be positive, got " + every);
      }
      if (records < 0) {
        throw new IllegalArgumentException("checkpoint records must not be negative");
      }
    }
  }

  /** Whether a sink writes to the gateway's database. */
  public boolean usesDatabase() {
    return sinks.contains(DatabaseSink.INSTANCE);
  }

  /**
   * One audit sink as configured: written {@code - kind: value} or
   * {@code - kind: { settings }} in the {@code sinks:} list.
   */
  public sealed interface Sink permits JsonLinesSink, Slf4jSink, DatabaseSink {
    /** The key the sink is written with: {@code jsonl}, {@code slf4j}, {@code database}. */
    String kind();

    /** Whether a written batch survives a crash of the process (what durable mode needs). */
    boolean durable();
  }

  /**
   * The gateway's database ({@code sentinel-jdbc}'s {@code JdbcAuditSink}: a tamper-evident
   * hash chain), written {@code { database: {} }}. Which database is the {@code database:}
   * section's.
   */
  public enum DatabaseSink implements Sink {
    /** The one database sink. */
    INSTANCE;

    @Override
    public String kind() {
      return "database";
    }

    @Override
    public boolean durable() {
      return true;
    }
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

    @Override
    public boolean durable() {
      return fsync;
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

    @Override
    public boolean durable() {
      return false;
    }
  }
}
