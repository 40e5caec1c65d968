package dev.sentinel.jdbc;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * What {@link AuditVerifier#verify} found.
 *
 * @param ok whether every record kept verifies and the chain is complete
 * @param rowsChecked how many records were read and checked (up to and including the first bad
 *     one)
 * @param firstBadSeq the sequence number of the first record that is not intact (edited,
 *     inserted, moved, or missing), or empty when {@code ok}
 * @param problem what is wrong with that record, for people; empty when {@code ok}
 */
public record VerifyReport(boolean ok, long rowsChecked, OptionalLong firstBadSeq, String problem) {

  /** Validates: a report is ok exactly when it names no bad record and no problem. */
  public VerifyReport {
    Objects.requireNonNull(firstBadSeq, "firstBadSeq");
    Objects.requireNonNull(problem, "problem");
    if (rowsChecked < 0) {
      throw new IllegalArgumentException("rowsChecked must not be negative, got " + rowsChecked);
    }
    if (ok != firstBadSeq.isEmpty() || ok != problem.isEmpty()) {
      throw new IllegalArgumentException(
          "a report is ok exactly when it has no first bad seq and no problem");
    }
  }

  /** An intact chain of the given number of records. */
  static VerifyReport intact(long rowsChecked) {
    return new VerifyReport(true, rowsChecked, OptionalLong.empty(), "");
  }

  /** A chain that fails at the given record. */
  static VerifyReport broken(long rowsChecked, long seq, String problem) {
    return new VerifyReport(false, rowsChecked, OptionalLong.of(seq), problem);
  }
}
