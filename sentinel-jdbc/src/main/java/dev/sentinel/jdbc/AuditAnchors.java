package dev.sentinel.jdbc;

import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a chain must still hold, from outside the database: an expected head ({@link
 * #expectHead}) and signed checkpoints ({@link #checkpoints}). {@link
 * AuditVerifier#verify(Database, AuditAnchors)} checks the chain against each: the record at the
 * anchor's seq must exist and have the anchor's hash. A chain that ends before an anchor was
 * truncated (its newest records deleted and the chain row rewritten to match, which a chain alone
 * cannot show); one whose record there has another hash was rewritten.
 *
 * <p>A chain that has grown past an anchor still verifies: the anchor's record is still in it. An
 * anchor before the chain's base (its records purged by retention) can no longer be checked: for
 * the expected head that is a failure; older checkpoints are skipped and counted ({@link
 * VerifyReport#anchorsBeforeBase()}), but the newest checkpoint must be checkable, or every record
 * it covered is gone.
 *
 * <p>Immutable and thread-safe.
 */
public final class AuditAnchors {
  /** No anchors: verification of the chain alone. */
  public static final AuditAnchors NONE = new AuditAnchors(List.of());

  private final List<Anchor> anchors; // by seq

  private AuditAnchors(List<Anchor> anchors) {
    List<Anchor> sorted = new ArrayList<>(anchors);
    sorted.sort(Comparator.comparingLong(Anchor::seq));
    this.anchors = List.copyOf(sorted);
  }

  /**
   * These anchors and the expected head: the chain must still hold record {@code head.seq()}
   * with {@code head.hash()} (and, when the head has a time, that record's time).
   */
  public AuditAnchors expectHead(AuditHead head) {
    Objects.requireNonNull(head, "head");
    return with(new Anchor(head.seq(), head.hash(), head.time(),
        "the expected head " + head, Kind.EXPECTED_HEAD));
  }

  /**
   * These anchors and the checkpoints, each of which must be signed by one of the trusted keys.
   *
   * @throws AuditCheckpointException naming the first checkpoint that no trusted key signed (a
   *     forged checkpoint, or the wrong key given to trust)
   * @throws IllegalArgumentException if no key is given
   */
  public AuditAnchors checkpoints(List<AuditCheckpoint> checkpoints, List<PublicKey> trusted) {
    Objects.requireNonNull(checkpoints, "checkpoints");
    Objects.requireNonNull(trusted, "trusted");
    if (trusted.isEmpty()) {
      throw new IllegalArgumentException(
          "checkpoints are checked against trusted public keys: give at least one");
    }
    AuditAnchors out = this;
    for (AuditCheckpoint c : checkpoints) {
      if (trusted.stream().noneMatch(c::signedBy)) {
        throw new AuditCheckpointException("the " + c + " is not signed by a trusted key: it"
            + " was forged or altered, or it was signed by a key that was not given to trust");
      }
      out = out.with(new Anchor(c.seq(), c.hash(), null, "the " + c, Kind.CHECKPOINT));
    }
    return out;
  }

  /** Whether there are no anchors. */
  public boolean isEmpty() {
    return anchors.isEmpty();
  }

  /** How many anchors there are. */
  public int size() {
    return anchors.size();
  }

  List<Anchor> all() {
    return anchors;
  }

  /** The checkpoint with the highest seq, or {@code null} without checkpoints. */
  @Nullable Anchor newestCheckpoint() {
    Anchor newest = null;
    for (Anchor a : anchors) {
      if (a.kind() == Kind.CHECKPOINT) {
        newest = a;
      }
    }
    return newest;
  }

  private AuditAnchors with(Anchor anchor) {
    List<Anchor> more = new ArrayList<>(anchors);
    more.add(anchor);
    return new AuditAnchors(more);
  }

  /** What an anchor came from. */
  enum Kind {
    EXPECTED_HEAD,
    CHECKPOINT
  }

  /**
   * One anchor: record {@code seq} has {@code hash} (and {@code time}, when not null).
   *
   * @param label how messages name it, such as "the checkpoint at seq 1200 hash ... (taken ...)"
   */
  record Anchor(long seq, String hash, @Nullable Instant time, String label, Kind kind) {}
}
