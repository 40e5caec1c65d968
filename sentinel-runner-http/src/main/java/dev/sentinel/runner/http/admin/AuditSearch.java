package dev.sentinel.runner.http.admin;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.jdbc.AuditQuery;
import dev.sentinel.jdbc.AuditRecord;
import dev.sentinel.jdbc.Database;
import java.util.List;
import java.util.Objects;

/**
 * Finds audit events for the admin API. {@link #of(Database)} reads the trail a {@code database}
 * audit sink writes, with sentinel-jdbc's {@link AuditQuery} (the query {@code sentinel audit}
 * runs). Implementations are thread-safe.
 */
@FunctionalInterface
public interface AuditSearch {

  /** The events matching the filter, newest first, at most {@link AuditFilter#limit()}. */
  List<AuditEvent> search(AuditFilter filter);

  /** A search of the audit trail in a gateway's database. */
  static AuditSearch of(Database database) {
    Objects.requireNonNull(database, "database");
    return filter -> {
      AuditQuery query = AuditQuery.builder()
          .from(filter.since())
          .to(filter.until())
          .principal(filter.principal())
          .tool(filter.tool())
          .outcome(filter.outcome())
          .rule(filter.rule())
          .limit(filter.limit())
          .order(AuditQuery.Order.NEWEST_FIRST)
          .build();
      return query.stream(database, records -> records.map(AuditRecord::event).toList());
    };
  }
}
