package dev.sentinel.core.operator;

import dev.sentinel.api.AuditEvent;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An audit trail that operators can read, check and trim: the {@code database} audit sink's
 * records. sentinel-core does not depend on a database module: sentinel-jdbc's {@code JdbcStores}
 * answers one through {@link dev.sentinel.core.config.Stores#auditTrail()}.
 *
 * <p>Implementations are thread-safe.
 */
public interface AuditTrail {

  /** Receives the records of a {@link #search}. */
  @FunctionalInterface
  interface Visitor {
    /** One record: its sequence number in the hash chain, and its event. */
    void record(long seq, AuditEvent event);
  }

  /**
   * Streams the records that match, in the filter's order, up to its limit; records are read as
   * a stream, not gathered in memory.
   *
   * @return how many records were visited
   * @throws RuntimeException if the store cannot be read
   */
  long search(AuditFilter filter, Visitor visitor);

  /**
   * Checks the whole hash chain: that no record was edited, removed, inserted or reordered.
   *
   * @throws RuntimeException if the store cannot be read
   */
  Verification verify();

  /**
   * The chain's head, {@code <seq>:<hash>@<time>} of its last record, to be kept elsewhere and
   * checked later.
   */
  String head();

  /**
   * Deletes the records before {@code before} as a prefix of the chain, leaving the rest
   * verifiable.
   *
   * @return how many records were deleted
   * @throws RuntimeException if the store cannot be written; nothing was deleted then
   */
  long purge(Instant before);

  /** What the trail is, for messages: such as {@code SQLite database /srv/sentinel.db}. */
  String description();

  /**
   * What {@link #verify} found.
   *
   * @param intact whether the whole chain checked out
   * @param checked how many records were checked
   * @param firstBadSeq the first record that is not intact, or 0 when intact
   * @param problem what is wrong there, or {@code null} when intact
   */
  record Verification(boolean intact, long checked, long firstBadSeq, @Nullable String problem) {
    /** Validates. */
    public Verification {
      if (intact != (problem == null)) {
        throw new IllegalArgumentException("a chain has a problem exactly when it is not intact");
      }
      if (!intact) {
        Objects.requireNonNull(problem, "problem");
      }
    }
  }
}
