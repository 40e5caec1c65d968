package dev.sentinel.core.approval;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Where approvals are kept, so that every gateway on a database sees the same queue:
 * sentinel-jdbc's {@code JdbcApprovalStore} (table {@code sentinel_approval}), or {@link
 * InMemoryApprovalStore} for one process. The rules (four eyes, quorum, once only, expiry) are
 * the callers'; a store keeps records and changes one atomically.
 *
 * <p>Implementations are thread-safe.
 */
public interface ApprovalStore {

  /**
   * Adds a new approval.
   *
   * @throws IllegalArgumentException if one with its id exists
   */
  void create(Approval approval);

  /** The approval with this id. */
  Optional<Approval> find(String id);

  /**
   * The newest approval of {@code principal} for the call with {@code digest} that is still open
   * at {@code now} (pending, or approved and not used, and not expired).
   */
  Optional<Approval> open(String principal, String digest, Instant now);

  /** The newest approvals first, at most {@code limit}. */
  List<Approval> list(int limit);

  /**
   * Changes one approval atomically: {@code change} gets it as stored and answers the next
   * state, which is written; no other update of the same approval, from this or another
   * gateway, comes between the read and the write.
   *
   * @return the approval as stored now; empty if there is none with this id
   */
  Optional<Approval> update(String id, UnaryOperator<Approval> change);
}
