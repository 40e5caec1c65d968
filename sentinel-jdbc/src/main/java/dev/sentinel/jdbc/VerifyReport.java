package dev.sentinel.jdbc;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * What {@link AuditVerifier#verify} found.
 *
 * @param ok whether every record kept verifies, the chain is complete, and it holds every anchor
 *     that could be checked
 * @param rowsChecked how many records were read and checked (up to and including the first bad
 *     one)
 * @param firstBadSeq the sequence number of the first record that is not intact (edited,
 *     inserted, moved, or missing; for a truncated chain, the first seq after its end), or empty
 *     when {@code ok}
 * @param problem what is wrong with that record, for people; empty when {@code ok}
 * @param anchorsChecked how many anchors ({@link AuditAnchors}: an expected head, checkpoints) the
 *     chain was found to hold
 * @param anchorsBeforeBase how many checkpoints could not be checked because their records were
 *     purged by retention (they lie before the chain's base)
 */
public record VerifyReport(boolean ok, long rowsChecked, OptionalLong firstBadSeq, String problem,
    long anchorsChecked, long anchorsBeforeBase) {

  /** Validates: a report is ok exactly when it names no bad record and no problem. */
  public VerifyReport {
    Objects.requireNonNull(firstBadSeq, "firstBadSeq");
    Objects.requireNonNull(problem, "problem");
    if (rowsChecked < 0 || anchorsChecked < 0 || anchorsBeforeBase < 0) {
      throw new IllegalArgumentException("a report's counts must not be negative");
    }
    if (ok != firstBadSeq.isEmpty() || ok != problem.isEmpty()) {
      throw new IllegalArgumentException(
          "a report is ok exactly when it has no first bad seq and no problem");
    }
  }

  /** A report without anchors. */
  public VerifyReport(boolean ok, long rowsChecked, OptionalLong firstBadSeq, String problem) {
    this(ok, rowsChecked, firstBadSeq, problem, 0, 0);
  }

  /** An intact chain of the given number of records, checked without anchors. */
  static VerifyReport intact(long rowsChecked) {
    return new VerifyReport(true, rowsChecked, OptionalLong.empty(), "");
  }

  /** A chain that fails at the given record. */
  static VerifyReport broken(long rowsChecked, long seq, String problem) {
    return new VerifyReport(false, rowsChecked, OptionalLong.of(seq), problem);
  }
}
