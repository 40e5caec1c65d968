package dev.sentinel.core.breakglass;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Where break-glass windows and the principals' TOTP enrolments are kept, so that every gateway
 * on a database sees the same windows: sentinel-jdbc's {@code JdbcBreakGlassStore} (tables
 * {@code sentinel_break_glass} and {@code sentinel_totp}), or {@link InMemoryBreakGlassStore} for
 * one process. The rules (reason, TTL cap, codes good once, lockout) are the callers' (the
 * operator service); a store keeps records and changes one atomically.
 *
 * <p>Implementations are thread-safe.
 */
public interface BreakGlassStore {

  /**
   * Adds a new window.
   *
   * @throws IllegalArgumentException if one with its id exists
   */
  void create(BreakGlassWindow window);

  /** The window with this id. */
  Optional<BreakGlassWindow> find(String id);

  /**
   * The windows not closed yet, oldest first: the open ones, and expired ones that no gateway
   * has closed yet. What the gateways' snapshot of open windows is read from.
   */
  List<BreakGlassWindow> unclosed();

  /** The newest windows first, at most {@code limit}. */
  List<BreakGlassWindow> list(int limit);

  /**
   * Closes a window that is not closed yet, atomically: of two gateways closing the same
   * window, one does.
   *
   * @return the window as closed now; empty if there is none with this id or it was closed
   */
  Optional<BreakGlassWindow> close(String id, String by, Instant at);

  /** Stores a principal's enrolment, replacing any earlier one (and its secret). */
  void enroll(TotpEnrolment enrolment);

  /** A principal's enrolment. */
  Optional<TotpEnrolment> enrolment(String principal);

  /**
   * Changes a principal's enrolment atomically: {@code change} gets it as stored and answers the
   * next state, which is written; no other update of the same enrolment, from this or another
   * gateway, comes between the read and the write (so a code is accepted once).
   *
   * @return the enrolment as stored now; empty if the principal has none
   */
  Optional<TotpEnrolment> updateEnrolment(String principal, UnaryOperator<TotpEnrolment> change);
}
