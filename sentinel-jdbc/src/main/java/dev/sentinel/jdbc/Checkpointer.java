package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when a {@link JdbcAuditSink} signs a checkpoint of the head it has just committed, and
 * takes it: after the first batch, then after a batch once {@code every} has passed or {@code
 * records} records were written since the last checkpoint, and at close. A checkpoint that cannot
 * be written is logged and tried again after the next batch; it never fails the batch, which is
 * committed already.
 *
 * <p>Not thread-safe: the sink calls it under its own lock.
 */
final class Checkpointer {
  private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);

  private final PrivateKey key;
  private final Path file;
  private final long everyNanos;
  private final long records;
  private final Clock clock;
  private long lastSeq = -1; // none taken yet
  private long lastNanos;
  private @Nullable AuditHead latest; // the newest head committed, or null before the first batch
  private boolean failing;

  Checkpointer(PrivateKey key, Path file, Duration every, long records, Clock clock) {
    this.key = Objects.requireNonNull(key, "key");
    this.file = Objects.requireNonNull(file, "file");
    Objects.requireNonNull(every, "every");
    if (every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException("checkpoint every must be positive, got " + every);
    }
    if (records < 0) {
      throw new IllegalArgumentException("checkpoint records must not be negative: " + records);
    }
    this.everyNanos = every.toNanos();
    this.records = records;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** After a batch committed with the chain's head now at {@code seq}, {@code hash}. */
  void committed(long seq, String hash) {
    AuditHead head = new AuditHead(seq, hash, null);
    latest = head;
    boolean due = lastSeq < 0
        || (records > 0 && seq - lastSeq >= records)
        || clock.nanoTime() - lastNanos >= everyNanos;
    if (due) {
      take(head);
    }
  }

  /** At close: a last checkpoint, if the head moved since the last one. */
  void closing() {
    AuditHead head = latest;
    if (head != null && head.seq() != lastSeq) {
      take(head);
    }
  }

  private void take(AuditHead head) {
    try {
      AuditCheckpoints.append(file, AuditCheckpoint.sign(head, clock.instant(), key));
      lastSeq = head.seq();
      lastNanos = clock.nanoTime();
      if (failing) {
        failing = false;
        LOG.info("audit checkpoints are written to {} again", file);
      }
    } catch (RuntimeException e) {
      // Anything: the batch is committed, and a write that threw would be retried (stored twice).
      if (!failing) {
        failing = true;
        LOG.warn("cannot write an audit checkpoint: {}; the audit trail itself is written, and"
            + " the checkpoint is tried again after the next batch", e.getMessage());
      }
    }
  }
}
