package dev.sentinel.core.breakglass;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Break-glass windows and enrolments in this process's memory: for an embedded pipeline and for
 * tests. Gateways that share a database use its store instead. Thread-safe: every method holds
 * this object's lock.
 */
public final class InMemoryBreakGlassStore implements BreakGlassStore {
  private final Map<String, BreakGlassWindow> windows = new LinkedHashMap<>();
  private final Map<String, TotpEnrolment> enrolments = new HashMap<>();

  @Override
  public synchronized void create(BreakGlassWindow window) {
    Objects.requireNonNull(window, "window");
    if (windows.putIfAbsent(window.id(), window) != null) {
      throw new IllegalArgumentException("a break-glass window with id " + window.id()
          + " exists");
    }
  }

  @Override
  public synchronized Optional<BreakGlassWindow> find(String id) {
    return Optional.ofNullable(windows.get(id));
  }

  @Override
  public synchronized List<BreakGlassWindow> unclosed() {
    return windows.values().stream().filter(w -> !w.isClosed())
        .sorted(Comparator.comparing(BreakGlassWindow::opened)).toList();
  }

  @Override
  public synchronized List<BreakGlassWindow> list(int limit) {
    List<BreakGlassWindow> all = new ArrayList<>(windows.values());
    all.sort(Comparator.comparing(BreakGlassWindow::opened).reversed());
    return List.copyOf(all.subList(0, Math.min(limit, all.size())));
  }

  @Override
  public synchronized Optional<BreakGlassWindow> close(String id, String by, Instant at) {
    BreakGlassWindow current = windows.get(id);
    if (current == null || current.isClosed()) {
      return Optional.empty();
    }
    BreakGlassWindow closed = current.closedBy(by, at);
    windows.put(id, closed);
    return Optional.of(closed);
  }

  @Override
  public synchronized void enroll(TotpEnrolment enrolment) {
    enrolments.put(enrolment.principal(), Objects.requireNonNull(enrolment, "enrolment"));
  }

  @Override
  public synchronized Optional<TotpEnrolment> enrolment(String principal) {
    return Optional.ofNullable(enrolments.get(principal));
  }

  @Override
  public synchronized Optional<TotpEnrolment> updateEnrolment(
      String principal, UnaryOperator<TotpEnrolment> change) {
    TotpEnrolment current = enrolments.get(principal);
    if (current == null) {
      return Optional.empty();
    }
    TotpEnrolment next = Objects.requireNonNull(change.apply(current), "next");
    if (!next.principal().equals(principal)) {
      throw new IllegalArgumentException("an update must keep the enrolment's principal");
    }
    enrolments.put(principal, next);
    return Optional.of(next);
  }
}
