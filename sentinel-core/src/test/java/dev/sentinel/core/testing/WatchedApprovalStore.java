package dev.sentinel.core.testing;

import dev.sentinel.core.approval.Approval;
import dev.sentinel.core.approval.ApprovalStore;
import dev.sentinel.core.approval.InMemoryApprovalStore;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * An in-memory approval store that counts how often a waiting call looked up its approval, so
 * that a test moves its {@link ManualClock} only once the wait has begun. Thread-safe.
 */
public final class WatchedApprovalStore implements ApprovalStore {
  private final InMemoryApprovalStore store = new InMemoryApprovalStore();
  private final AtomicLong finds = new AtomicLong();

  /** How many lookups by id so far. */
  public long finds() {
    return finds.get();
  }

  @Override
  public void create(Approval approval) {
    store.create(approval);
  }

  @Override
  public Optional<Approval> find(String id) {
    finds.incrementAndGet();
    return store.find(id);
  }

  @Override
  public Optional<Approval> open(String principal, String digest, Instant now) {
    return store.open(principal, digest, now);
  }

  @Override
  public List<Approval> list(int limit) {
    return store.list(limit);
  }

  @Override
  public Optional<Approval> update(String id, UnaryOperator<Approval> change) {
    return store.update(id, change);
  }
}
