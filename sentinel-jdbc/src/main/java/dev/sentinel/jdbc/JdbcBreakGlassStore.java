package dev.sentinel.jdbc;

import dev.sentinel.core.breakglass.BreakGlassStore;
import dev.sentinel.core.breakglass.BreakGlassWindow;
import dev.sentinel.core.breakglass.TotpEnrolment;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.jdbi.v3.core.Handle;

/**
 * Break-glass windows and TOTP enrolments in the database's {@code sentinel_break_glass} and
 * {@code sentinel_totp} tables (schema 7), shared by every gateway on it. {@link #close} is one
 * conditional {@code UPDATE} (of two gateways closing a window, one does); {@link
 * #updateEnrolment} reads the row and writes it in one transaction holding its lock ({@code
 * SELECT ... FOR UPDATE} on PostgreSQL; SQLite's transactions take the write lock at {@code
 * BEGIN}), so a code is accepted once across gateways. Secrets never appear in messages.
 * Thread-safe.
 */
public final class JdbcBreakGlassStore implements BreakGlassStore {
  private static final String WINDOW = "id, principal, opened_by, reason, opened_at, expires_at,"
      + " closed_by, closed_at";
  private static final String TOTP = "principal, secret, enrolled_at, last_step, failures,"
      + " locked_until";

  private final Database database;

  private JdbcBreakGlassStore(Database database) {
    this.database = database;
  }

  /** A store on the database. */
  public static JdbcBreakGlassStore create(Database database) {
    return new JdbcBreakGlassStore(Objects.requireNonNull(database, "database"));
  }

  @Override
  public void create(BreakGlassWindow w) {
    Objects.requireNonNull(w, "window");
    database.inTransaction("open break-glass window " + w.id(), h -> {
      if (window(h, w.id()).isPresent()) {
        throw new IllegalArgumentException("a break-glass window with id " + w.id() + " exists");
      }
      h.createUpdate("INSERT INTO sentinel_break_glass (" + WINDOW + ") VALUES (:id, :principal,"
              + " :openedBy, :reason, :opened, :expires, :closedBy, :closed)")
          .bind("id", w.id())
          .bind("principal", w.principal())
          .bind("openedBy", w.openedBy())
          .bind("reason", w.reason())
          .bind("opened", Micros.of(w.opened()))
          .bind("expires", Micros.of(w.expires()))
          .bind("closedBy", w.closedBy())
          .bind("closed", w.closed() == null ? null : Micros.of(w.closed()))
          .execute();
      return null;
    });
  }

  @Override
  public Optional<BreakGlassWindow> find(String id) {
    return database.withHandle("read break-glass window " + id, h -> window(h, id));
  }

  @Override
  public List<BreakGlassWindow> unclosed() {
    return database.withHandle("read the open break-glass windows", h -> new ArrayList<>(
        h.createQuery("SELECT " + WINDOW + " FROM sentinel_break_glass WHERE closed_at IS NULL"
                + " ORDER BY opened_at, id")
            .map((rs, ctx) -> windowRow(rs))
            .list()));
  }

  @Override
  public List<BreakGlassWindow> list(int limit) {
    return database.withHandle("list break-glass windows", h -> new ArrayList<>(
        h.createQuery("SELECT " + WINDOW + " FROM sentinel_break_glass"
                + " ORDER BY opened_at DESC, id LIMIT :limit")
            .bind("limit", limit)
            .map((rs, ctx) -> windowRow(rs))
            .list()));
  }

  @Override
  public Optional<BreakGlassWindow> close(String id, String by, Instant at) {
    Objects.requireNonNull(by, "by");
    Objects.requireNonNull(at, "at");
    return database.inTransaction("close break-glass window " + id, h -> {
      int changed = h.createUpdate("UPDATE sentinel_break_glass SET closed_by = :by,"
              + " closed_at = :at WHERE id = :id AND closed_at IS NULL")
          .bind("id", id)
          .bind("by", by)
          .bind("at", Micros.of(at))
          .execute();
      return changed == 1 ? window(h, id) : Optional.<BreakGlassWindow>empty();
    });
  }

  @Override
  public void enroll(TotpEnrolment e) {
    Objects.requireNonNull(e, "enrolment");
    database.inTransaction("enrol a TOTP secret for " + e.principal(), h -> {
      h.createUpdate("DELETE FROM sentinel_totp WHERE principal = :principal")
          .bind("principal", e.principal())
          .execute();
      h.createUpdate("INSERT INTO sentinel_totp (" + TOTP + ") VALUES (:principal, :secret,"
              + " :enrolled, :lastStep, :failures, :lockedUntil)")
          .bind("principal", e.principal())
          .bind("secret", Base64.getEncoder().encodeToString(e.secret()))
          .bind("enrolled", Micros.of(e.enrolled()))
          .bind("lastStep", e.lastStep())
          .bind("failures", e.failures())
          .bind("lockedUntil", e.lockedUntil() == null ? null : Micros.of(e.lockedUntil()))
          .execute();
      return null;
    });
  }

  @Override
  public Optional<TotpEnrolment> enrolment(String principal) {
    return database.withHandle("read the TOTP enrolment of " + principal,
        h -> enrolment(h, principal, false));
  }

  @Override
  public Optional<TotpEnrolment> updateEnrolment(
      String principal, UnaryOperator<TotpEnrolment> change) {
    Objects.requireNonNull(change, "change");
    return database.inTransaction("check a TOTP code of " + principal, h -> {
      Optional<TotpEnrolment> current =
          enrolment(h, principal, database.dialect() == Dialect.POSTGRESQL);
      if (current.isEmpty()) {
        return Optional.<TotpEnrolment>empty();
      }
      TotpEnrolment next = Objects.requireNonNull(change.apply(current.get()), "next");
      if (!next.principal().equals(principal)) {
        throw new IllegalArgumentException("an update must keep the enrolment's principal");
      }
      h.createUpdate("UPDATE sentinel_totp SET last_step = :lastStep, failures = :failures,"
              + " locked_until = :lockedUntil WHERE principal = :principal")
          .bind("principal", principal)
          .bind("lastStep", next.lastStep())
          .bind("failures", next.failures())
          .bind("lockedUntil", next.lockedUntil() == null ? null : Micros.of(next.lockedUntil()))
          .execute();
      return Optional.of(next);
    });
  }

  private static Optional<BreakGlassWindow> window(Handle h, String id) {
    return h.createQuery("SELECT " + WINDOW + " FROM sentinel_break_glass WHERE id = :id")
        .bind("id", id)
        .map((rs, ctx) -> windowRow(rs))
        .findOne();
  }

  private static Optional<TotpEnrolment> enrolment(Handle h, String principal, boolean lock) {
    return h.createQuery("SELECT " + TOTP + " FROM sentinel_totp WHERE principal = :principal"
            + (lock ? " FOR UPDATE" : ""))
        .bind("principal", principal)
        .map((rs, ctx) -> enrolmentRow(rs))
        .findOne();
  }

  private static BreakGlassWindow windowRow(ResultSet rs) throws SQLException {
    long closed = rs.getLong("closed_at");
    Instant closedAt = rs.wasNull() ? null : Micros.toInstant(closed);
    return new BreakGlassWindow(rs.getString("id"), rs.getString("principal"),
        rs.getString("opened_by"), rs.getString("reason"),
        Micros.toInstant(rs.getLong("opened_at")), Micros.toInstant(rs.getLong("expires_at")),
        rs.getString("closed_by"), closedAt);
  }

  private static TotpEnrolment enrolmentRow(ResultSet rs) throws SQLException {
    long locked = rs.getLong("locked_until");
    Instant lockedUntil = rs.wasNull() ? null : Micros.toInstant(locked);
    return new TotpEnrolment(rs.getString("principal"),
        Base64.getDecoder().decode(rs.getString("secret")),
        Micros.toInstant(rs.getLong("enrolled_at")), rs.getLong("last_step"),
        rs.getInt("failures"), lockedUntil);
  }
}
