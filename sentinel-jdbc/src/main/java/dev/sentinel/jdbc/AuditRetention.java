package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention of the audit trail: deletes old records and moves the chain's base, so that what
 * remains still verifies.
 *
 * <p>Records are purged as a prefix of the chain, never from its middle: {@link #purge} deletes
 * every record before the first one whose time is at or after the cut-off. A record older than
 * the cut-off that follows a newer one (a long call's final record carries its arrival time)
 * stays until everything before it goes. In the same transaction the chain's base in {@code
 * sentinel_audit_chain} becomes the last deleted record's sequence number and hash: the point
 * the remaining chain continues from, which {@link AuditVerifier} starts at.
 *
 * <p>On PostgreSQL, where the table is partitioned by month ({@link AuditPartitions}), the
 * months that end before the cut-off and hold nothing after the cut are dropped whole ({@code
 * DROP TABLE} of the partition: no row is read but to count them); what remains before the cut
 * (the month the cut falls in, a month holding a record written late) is deleted row-wise. All of
 * it, and the base's move, is one transaction: a purge that fails or is killed halfway leaves
 * every partition and record in place. It waits at most {@value
 * AuditPartitions#LOCK_TIMEOUT_MS} ms for a lock (a long export reading a month to be dropped),
 * then fails and is tried again at the next run.
 *
 * <p>Thread-safe; holds no state. Purges serialize with writers on the chain's lock.
 */
public final class AuditRetention {
  private static final Logger LOG = LoggerFactory.getLogger(AuditRetention.class);

  private AuditRetention() {}

  /**
   * Deletes the records before the first one at or after {@code before}, and moves the chain's
   * base past them, in one transaction.
   *
   * @return how many records were deleted
   * @throws DatabaseException if the database cannot be written; nothing was deleted then
   */
  public static long purge(Database database, Instant before) {
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(before, "before");
    return purge(database, before, Clock.system());
  }

  /** Like {@link #purge(Database, Instant)}, stamping the chain's change with the clock's time. */
  static long purge(Database database, Instant before, Clock clock) {
    return purge(database, before, clock, true);
  }

  /**
   * Like {@link #purge(Database, Instant, Clock)}; with {@code dropPartitions} false, deletes
   * row-wise even whole partitions (what the benchmark compares dropping with).
   */
  static long purge(Database database, Instant before, Clock clock, boolean dropPartitions) {
    return database.inTransaction(
        "purge audit records before " + before,
        h -> purgeLocked(h, database, before, clock, dropPartitions));
  }

  private static long purgeLocked(
      Handle h, Database database, Instant before, Clock clock, boolean dropPartitions) {
    boolean partitioned = AuditPartitions.partitioned(h, database.dialect());
    if (partitioned) {
      // Dropping a partition waits for its readers: give up rather than hold writers for long.
      h.execute("SET LOCAL lock_timeout = " + AuditPartitions.LOCK_TIMEOUT_MS);
    }
    String lock =
        "SELECT base_seq, head_seq FROM sentinel_audit_chain WHERE name = :name"
            + (database.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : "");
    long[] chain =
        h.createQuery(lock)
            .bind("name", AuditChain.NAME)
            .map((rs, ctx) -> new long[] {rs.getLong(1), rs.getLong(2)})
            .findOne()
            .orElseThrow(() -> new IllegalStateException("the audit chain row is missing"));
    long base = chain[0];
    long head = chain[1];
    long beforeMicros = Micros.at(before);
    Long firstKept =
        h.createQuery("SELECT min(seq) FROM sentinel_audit WHERE time >= :before")
            .bind("before", beforeMicros)
            .mapTo(Long.class)
            .one();
    long cut = firstKept == null ? head : Math.min(head, firstKept - 1);
    if (cut <= base) {
      return 0;
    }
    String cutHash =
        h.createQuery("SELECT hash FROM sentinel_audit WHERE seq = :seq")
            .bind("seq", cut)
            .mapTo(String.class)
            .findOne()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "audit record "
                            + cut
                            + " is missing, so the chain's base cannot move past it; run"
                            + " sentinel audit verify"));
    long deleted = partitioned && dropPartitions ? dropPartitions(h, beforeMicros, cut) : 0;
    deleted +=
        h.createUpdate("DELETE FROM sentinel_audit WHERE seq <= :cut")
            .bind("cut", cut)
            .execute();
    h.createUpdate(
            "UPDATE sentinel_audit_chain SET base_seq = :seq, base_hash = :hash,"
                + " updated_at = :now WHERE name = :name")
        .bind("seq", cut)
        .bind("hash", cutHash)
        .bind("now", Micros.of(clock.instant()))
        .bind("name", AuditChain.NAME)
        .execute();
    return deleted;
  }

  /**
   * Drops the partitions that end at or before {@code before} and hold only records at or
   * before {@code cut}: exactly records the row-wise delete would remove. A partition of old
   * times that also holds a later record (a long call's final record, written after newer ones,
   * carries its arrival time) is left for the row-wise delete, so the chain keeps it.
   *
   * @return how many records the dropped partitions held
   */
  private static long dropPartitions(Handle h, long before, long cut) {
    long dropped = 0;
    for (AuditPartitions.Partition p : AuditPartitions.list(h)) {
      if (p.isDefault() || p.upper() > before) {
        continue;
      }
      long[] stats = h.createQuery("SELECT count(*), coalesce(max(seq), 0) FROM " + p.name())
          .map((rs, ctx) -> new long[] {rs.getLong(1), rs.getLong(2)})
          .one();
      if (stats[1] > cut) {
        continue;
      }
      h.execute("DROP TABLE " + p.name());
      dropped += stats[0];
    }
    return dropped;
  }

  /**
   * Purges records older than {@code keep} now and then every {@code min(keep, 1 hour)} on the
   * executor (the {@code retention: 30d} setting), with the system clock.
   *
   * @return the scheduled task; cancel it to stop purging
   */
  public static ScheduledFuture<?> schedule(
      Database database, Duration keep, ScheduledExecutorService executor) {
    Duration every = keep.compareTo(Duration.ofHours(1)) < 0 ? keep : Duration.ofHours(1);
    return schedule(database, keep, every, executor, Clock.system());
  }

  /**
   * Purges records older than {@code keep}, measured on the clock, now and then every {@code
   * every} on the executor. A purge that fails is logged and tried again at the next run; the
   * task is never cancelled by a failure.
   *
   * @return the scheduled task; cancel it to stop purging
   * @throws IllegalArgumentException if {@code keep} or {@code every} is not positive
   */
  public static ScheduledFuture<?> schedule(
      Database database,
      Duration keep,
      Duration every,
      ScheduledExecutorService executor,
      Clock clock) {
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(executor, "executor");
    Objects.requireNonNull(clock, "clock");
    if (keep == null || keep.isNegative() || keep.isZero()) {
      throw new IllegalArgumentException("retention must be a positive duration, got " + keep);
    }
    if (every == null || every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException("the purge interval must be positive, got " + every);
    }
    Runnable task =
        () -> {
          Instant before = clock.instant().minus(keep);
          try {
            long deleted = purge(database, before, clock);
            if (deleted > 0) {
              LOG.info("audit retention purged {} records before {}", deleted, before);
            }
          } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: log and carry on.
            LOG.warn("audit retention could not purge records before {}: {}", before, e.toString());
          }
        };
    return executor.scheduleWithFixedDelay(task, 0, every.toNanos(), TimeUnit.NANOSECONDS);
  }
}
