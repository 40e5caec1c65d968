package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.core.operator.Times;
import dev.sentinel.core.operator.AuditFilter;
import dev.sentinel.core.operator.AuditTrail;
import dev.sentinel.api.Clock;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The audit trail as operators use it: query and export ({@link #search}), verification, the
 * chain's head, and purge. Thread-safe as its trail is.
 */
public final class AuditOperations {
  private final AuditTrail trail;
  private final Clock clock;

  AuditOperations(AuditTrail trail, Clock clock) {
    this.trail = Objects.requireNonNull(trail, "trail");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** A filter builder on this service's clock. */
  public AuditFilter.Builder filter() {
    return AuditFilter.builder(clock.instant());
  }

  /** Streams the matching records to {@code visitor}; answers how many. */
  public long search(AuditFilter filter, AuditTrail.Visitor visitor) {
    return trail.search(Objects.requireNonNull(filter, "filter"),
        Objects.requireNonNull(visitor, "visitor"));
  }

  /** Checks the whole hash chain. */
  public AuditTrail.Verification verify() {
    return trail.verify();
  }

  /** The chain's head: {@code <seq>:<hash>@<time>}. */
  public String head() {
    return trail.head();
  }

  /**
   * Where a purge cuts, on this service's clock: see {@link #cut}.
   */
  public Instant purgeCut(@Nullable String before, String beforeField, @Nullable String olderThan,
      String olderThanField) {
    return cut(before, beforeField, olderThan, olderThanField, clock.instant());
  }

  /**
   * Where a purge cuts: before a time ({@code before}) or before the age {@code olderThan} ago
   * from {@code now}; exactly one is given (not blank), the other is {@code null} or blank.
   *
   * @param beforeField the option or field {@code before} came in, for messages
   * @param olderThanField likewise for {@code olderThan}
   * @throws OperatorException ({@code INVALID}) if neither or both are given, or one is malformed
   */
  public static Instant cut(@Nullable String before, String beforeField, @Nullable String olderThan,
      String olderThanField, Instant now) {
    boolean hasBefore = before != null && !before.isBlank();
    boolean hasAge = olderThan != null && !olderThan.isBlank();
    if (hasBefore == hasAge) {
      throw OperatorException.invalid("give either " + beforeField + " (a time) or "
          + olderThanField + " (an age such as 30d)");
    }
    // Exactly one is given: the one used is not null.
    return hasAge ? now.minus(Times.duration(olderThanField, Objects.requireNonNull(olderThan)))
        : Times.instant(beforeField, Objects.requireNonNull(before));
  }

  /**
   * Deletes every record before {@code cut} as a prefix of the chain; the rest still verifies.
   *
   * @return how many records were deleted
   */
  public long purge(Instant cut) {
    return trail.purge(Objects.requireNonNull(cut, "cut"));
  }

  /** What the trail is, for messages. */
  public String description() {
    return trail.description();
  }
}
