package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.core.operator.AuditFilter;
import dev.sentinel.core.operator.AuditTrail;
import java.time.Instant;
import java.util.Objects;

/**
 * The audit trail in a gateway's database, as the operator service reads and trims it: an
 * adapter over {@link AuditQuery}, {@link AuditVerifier} and {@link AuditRetention}, where the
 * logic is. Thread-safe.
 */
public final class JdbcAuditTrail implements AuditTrail {
  private final Database database;
  private final Clock clock;

  private JdbcAuditTrail(Database database, Clock clock) {
    this.database = database;
    this.clock = clock;
  }

  /** The trail in {@code database}; purges are stamped with the clock's time. */
  public static JdbcAuditTrail of(Database database, Clock clock) {
    return new JdbcAuditTrail(Objects.requireNonNull(database, "database"),
        Objects.requireNonNull(clock, "clock"));
  }

  /** The query that {@code filter} asks for: what {@code sentinel audit query} runs. */
  public static AuditQuery query(AuditFilter filter) {
    AuditQuery.Builder b = AuditQuery.builder()
        .from(filter.from())
        .to(filter.to())
        .principal(filter.principal())
        .tool(filter.tool())
        .outcome(filter.outcome())
        .rule(filter.rule())
        .order(filter.newestFirst() ? AuditQuery.Order.NEWEST_FIRST
            : AuditQuery.Order.OLDEST_FIRST);
    if (filter.limit() != Long.MAX_VALUE) {
      b.limit(filter.limit());
    }
    return b.build();
  }

  @Override
  public long search(AuditFilter filter, Visitor visitor) {
    Objects.requireNonNull(visitor, "visitor");
    return query(filter).forEach(database, r -> visitor.record(r.seq(), r.event()));
  }

  @Override
  public Verification verify() {
    VerifyReport report = AuditVerifier.verify(database);
    return report.ok()
        ? new Verification(true, report.rowsChecked(), 0, null)
        : new Verification(false, report.rowsChecked(), report.firstBadSeq().orElse(0),
            report.problem());
  }

  @Override
  public String head() {
    return AuditVerifier.head(database).toString();
  }

  @Override
  public long purge(Instant before) {
    return AuditRetention.purge(database, Objects.requireNonNull(before, "before"), clock);
  }

  @Override
  public String description() {
    return database.describe();
  }
}
