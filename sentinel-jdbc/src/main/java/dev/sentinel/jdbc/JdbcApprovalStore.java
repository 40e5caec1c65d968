package dev.sentinel.jdbc;

import dev.sentinel.core.approval.Approval;
import dev.sentinel.core.approval.ApprovalStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.jdbi.v3.core.Handle;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The approval queue in the database's {@code sentinel_approval} table (schema 4), shared by
 * every gateway on it. {@link #update} reads the row and writes it in one transaction holding its
 * lock ({@code SELECT ... FOR UPDATE} on PostgreSQL; SQLite's transactions take the write lock at
 * {@code BEGIN}), so concurrent decisions and uses serialize. Thread-safe.
 */
public final class JdbcApprovalStore implements ApprovalStore {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String COLUMNS = "id, principal, backend, method, name, arguments, digest,"
      + " rule, reason, revision, created_at, expires_at, quorum, approvers, status, decided_by,"
      + " note, used_at";

  private final Database database;

  private JdbcApprovalStore(Database database) {
    this.database = database;
  }

  /** A store on the database. */
  public static JdbcApprovalStore create(Database database) {
    return new JdbcApprovalStore(Objects.requireNonNull(database, "database"));
  }

  @Override
  public void create(Approval approval) {
    Objects.requireNonNull(approval, "approval");
    database.inTransaction("queue approval " + approval.id(), h -> {
      if (read(h, approval.id(), false).isPresent()) {
        throw new IllegalArgumentException("an approval with id " + approval.id() + " exists");
      }
      h.createUpdate("INSERT INTO sentinel_approval (" + COLUMNS + ") VALUES (:id, :principal,"
              + " :backend, :method, :name, :arguments, :digest, :rule, :reason, :revision,"
              + " :created, :expires, :quorum, :approvers, :status, :decidedBy, :note, :used)")
          .bind("id", approval.id())
          .bind("principal", approval.principal())
          .bind("backend", approval.backend())
          .bind("method", approval.method())
          .bind("name", approval.name())
          .bind("arguments", approval.arguments())
          .bind("digest", approval.digest())
          .bind("rule", approval.rule())
          .bind("reason", approval.reason())
          .bind("revision", approval.revision())
          .bind("created", Micros.of(approval.created()))
          .bind("expires", Micros.of(approval.expires()))
          .bind("quorum", approval.quorum())
          .bind("approvers", JSON.writeValueAsString(approval.approvers()))
          .bind("status", approval.status().name())
          .bind("decidedBy", approval.decidedBy())
          .bind("note", approval.note())
          .bind("used", approval.used() == null ? null : Micros.of(approval.used()))
          .execute();
      return null;
    });
  }

  @Override
  public Optional<Approval> find(String id) {
    return database.withHandle("read approval " + id, h -> read(h, id, false));
  }

  @Override
  public Optional<Approval> open(String principal, String digest, Instant now) {
    return database.withHandle("find an open approval", h -> h.createQuery("SELECT " + COLUMNS
            + " FROM sentinel_approval WHERE principal = :principal AND digest = :digest"
            + " AND status IN ('PENDING', 'APPROVED') AND expires_at > :now"
            + " ORDER BY created_at DESC LIMIT 1")
        .bind("principal", principal)
        .bind("digest", digest)
        .bind("now", Micros.of(now))
        .map((rs, ctx) -> row(rs))
        .findOne());
  }

  @Override
  public List<Approval> list(int limit) {
    return database.withHandle("list approvals", h -> new ArrayList<>(h.createQuery("SELECT "
            + COLUMNS + " FROM sentinel_approval ORDER BY created_at DESC, id LIMIT :limit")
        .bind("limit", limit)
        .map((rs, ctx) -> row(rs))
        .list()));
  }

  @Override
  public Optional<Approval> update(String id, UnaryOperator<Approval> change) {
    Objects.requireNonNull(change, "change");
    return database.inTransaction("update approval " + id, h -> {
      Optional<Approval> current = read(h, id, database.dialect() == Dialect.POSTGRESQL);
      if (current.isEmpty()) {
        return Optional.<Approval>empty();
      }
      Approval next = Objects.requireNonNull(change.apply(current.get()), "next");
      if (!next.id().equals(id)) {
        throw new IllegalArgumentException("an update must keep the approval's id");
      }
      h.createUpdate("UPDATE sentinel_approval SET approvers = :approvers, status = :status,"
              + " decided_by = :decidedBy, note = :note, used_at = :used WHERE id = :id")
          .bind("id", id)
          .bind("approvers", JSON.writeValueAsString(next.approvers()))
          .bind("status", next.status().name())
          .bind("decidedBy", next.decidedBy())
          .bind("note", next.note())
          .bind("used", next.used() == null ? null : Micros.of(next.used()))
          .execute();
      return Optional.of(next);
    });
  }

  private static Optional<Approval> read(Handle h, String id, boolean lock) {
    return h.createQuery("SELECT " + COLUMNS + " FROM sentinel_approval WHERE id = :id"
            + (lock ? " FOR UPDATE" : ""))
        .bind("id", id)
        .map((rs, ctx) -> row(rs))
        .findOne();
  }

  private static Approval row(ResultSet rs) throws SQLException {
    List<String> approvers = new ArrayList<>();
    for (JsonNode name : JSON.readTree(rs.getString("approvers"))) {
      approvers.add(name.asString());
    }
    long used = rs.getLong("used_at");
    Instant usedAt = rs.wasNull() ? null : Micros.toInstant(used);
    return new Approval(rs.getString("id"), rs.getString("principal"), rs.getString("backend"),
        rs.getString("method"), rs.getString("name"), rs.getString("arguments"),
        rs.getString("digest"), rs.getString("rule"), rs.getString("reason"),
        rs.getString("revision"), Micros.toInstant(rs.getLong("created_at")),
        Micros.toInstant(rs.getLong("expires_at")), rs.getInt("quorum"), approvers,
        Approval.Status.valueOf(rs.getString("status")), rs.getString("decided_by"),
        rs.getString("note"), usedAt);
  }
}
