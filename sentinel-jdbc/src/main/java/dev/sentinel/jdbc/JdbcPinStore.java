package dev.sentinel.jdbc;

import dev.sentinel.core.pinning.PinStore;
import dev.sentinel.core.pinning.ToolPin;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;

/**
 * Tool-definition pins in the database's {@code sentinel_tool_pin} table (schema 6), one row per
 * backend tool, so that every gateway on the database holds and releases the same tools.
 *
 * <p>Thread-safe: each call is one transaction; {@link #update} holds the table's write lock
 * from its read to its write (SQLite: {@code BEGIN IMMEDIATE}; PostgreSQL: {@code SHARE ROW
 * EXCLUSIVE}), so two gateways seeing a new tool at once insert it once.
 */
public final class JdbcPinStore implements PinStore {
  private static final String COLUMNS = "backend, tool, digest, definition, pending_digest,"
      + " pending_definition, rejected, updated_at, updated_by";
  private static final RowMapper<ToolPin> ROW = (rs, ctx) -> new ToolPin(
      rs.getString("backend"), rs.getString("tool"), rs.getString("digest"),
      rs.getString("definition"), rs.getString("pending_digest"),
      rs.getString("pending_definition"), rs.getBoolean("rejected"),
      Micros.toInstant(rs.getLong("updated_at")), rs.getString("updated_by"));

  private final Database database;

  private JdbcPinStore(Database database) {
    this.database = database;
  }

  /** A store on the database. */
  public static JdbcPinStore create(Database database) {
    return new JdbcPinStore(Objects.requireNonNull(database, "database"));
  }

  @Override
  public Optional<ToolPin> get(String backend, String tool) {
    return database.jdbi().withHandle(h -> read(h, backend, tool));
  }

  @Override
  public List<ToolPin> list() {
    return database.jdbi().withHandle(h -> h.createQuery("SELECT " + COLUMNS
            + " FROM sentinel_tool_pin ORDER BY backend, tool")
        .map(ROW)
        .list());
  }

  @Override
  public ToolPin update(String backend, String tool, UnaryOperator<ToolPin> change) {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(change, "change");
    return database.jdbi().inTransaction(h -> {
      if (database.dialect() == Dialect.POSTGRESQL) {
        h.execute("LOCK TABLE sentinel_tool_pin IN SHARE ROW EXCLUSIVE MODE");
      }
      ToolPin current = read(h, backend, tool).orElse(null);
      ToolPin next = change.apply(current);
      if (Objects.equals(next, current)) {
        return current;
      }
      h.createUpdate("DELETE FROM sentinel_tool_pin WHERE backend = :backend AND tool = :tool")
          .bind("backend", backend)
          .bind("tool", tool)
          .execute();
      if (next != null) {
        if (!next.backend().equals(backend) || !next.tool().equals(tool)) {
          throw new IllegalArgumentException("a pin's change must keep its backend and tool");
        }
        h.createUpdate("INSERT INTO sentinel_tool_pin (" + COLUMNS + ") VALUES (:backend, :tool,"
                + " :digest, :definition, :pendingDigest, :pendingDefinition, :rejected,"
                + " :updatedAt, :updatedBy)")
            .bind("backend", backend)
            .bind("tool", tool)
            .bind("digest", next.digest())
            .bind("definition", next.definition())
            .bind("pendingDigest", next.pendingDigest())
            .bind("pendingDefinition", next.pendingDefinition())
            .bind("rejected", next.rejected())
            .bind("updatedAt", Micros.of(next.updatedAt()))
            .bind("updatedBy", next.updatedBy())
            .execute();
      }
      return next;
    });
  }

  private static Optional<ToolPin> read(Handle h, String backend, String tool) {
    return h.createQuery("SELECT " + COLUMNS
            + " FROM sentinel_tool_pin WHERE backend = :backend AND tool = :tool")
        .bind("backend", backend)
        .bind("tool", tool)
        .map(ROW)
        .findOne();
  }
}
