package dev.sentinel.core.approval;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Approvals in this process's memory: for an embedded pipeline and for tests. Gateways that share
 * a database use its store instead. Thread-safe: every method holds this object's lock.
 */
public final class InMemoryApprovalStore implements ApprovalStore {
  private final Map<String, Approval> approvals = new LinkedHashMap<>();

  @Override
  public synchronized void create(Approval approval) {
    Objects.requireNonNull(approval, "approval");
    if (approvals.putIfAbsent(approval.id(), approval) != null) {
      throw new IllegalArgumentException("an approval with id " + approval.id() + " exists");
    }
  }

  @Override
  public synchronized Optional<Approval> find(String id) {
    return Optional.ofNullable(approvals.get(id));
  }

  @Override
  public synchronized Optional<Approval> open(String principal, String digest, Instant now) {
    return approvals.values().stream()
        .filter(a -> a.principal().equals(principal) && a.digest().equals(digest))
        .filter(a -> {
          Approval.Status s = a.status(now);
          return s == Approval.Status.PENDING || s == Approval.Status.APPROVED;
        })
        .max(Comparator.comparing(Approval::created));
  }

  @Override
  public synchronized List<Approval> list(int limit) {
    List<Approval> all = new ArrayList<>(approvals.values());
    all.sort(Comparator.comparing(Approval::created).reversed());
    return List.copyOf(all.subList(0, Math.min(limit, all.size())));
  }

  @Override
  public synchronized Optional<Approval> update(String id, UnaryOperator<Approval> change) {
    Approval current = approvals.get(id);
    if (current == null) {
      return Optional.empty();
    }
    Approval next = Objects.requireNonNull(change.apply(current), "next");
    if (!next.id().equals(id)) {
      throw new IllegalArgumentException("an update must keep the approval's id");
    }
    approvals.put(id, next);
    return Optional.of(next);
  }
}
